"""The frozen read model: a closed invoice's representation, stored once at close

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29

Issue 16. `invoices.frozen` keeps the API representation of a closed invoice as JSON text,
built in the close's transaction, without the values that may still change (those are read
from their columns); `invoices.frozen_version` is the version of the representation it was
built with. Existing closed invoices get theirs from `flask --app portal
rebuild-representations` (until then they are read the slow way, as before).
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: a batch rebuild of `invoices` on SQLite would
    # have to run with its foreign keys off (see 0011).
    op.add_column('invoices', sa.Column('frozen', sa.Text(), nullable=True))
    op.add_column('invoices', sa.Column('frozen_version', sa.SmallInteger(), nullable=True))


def downgrade():
    op.drop_column('invoices', 'frozen_version')
    op.drop_column('invoices', 'frozen')
