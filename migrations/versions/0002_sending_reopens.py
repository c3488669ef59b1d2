"""Sendings remember whether they moved the invoice to sent

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Sending an open invoice makes it `sent` at once (SPEC §3); if that delivery then fails, the
invoice goes back to `open`. The sending that made the move has to be known for that.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sendings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reopens', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('sendings', schema=None) as batch_op:
        batch_op.drop_column('reopens')
