"""Customers can sign out everywhere: a session version of their own

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Customer sessions carry the customer's key version (rotating the key ends them) and now a
session version too: "sign out everywhere" bumps it, which ends every session of the
customer while the key keeps working.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('session_version')
