"""Indexes the invoice lists can walk without database statistics

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Measured with bench/ at 100,000 invoices on SQLite (which has no statistics unless someone
runs ANALYZE): the customer list used the organizer index and scanned every invoice, and the
API list sorted an event's whole invoice set for each page. (customer_id, organizer_id, id)
matches both of the customer list's equality filters; (event_id, id) serves id order.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_customer_id_id')
        batch_op.create_index('ix_invoices_customer_id_organizer_id_id',
                              ['customer_id', 'organizer_id', 'id'], unique=False)
        batch_op.create_index('ix_invoices_event_id_id', ['event_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_event_id_id')
        batch_op.drop_index('ix_invoices_customer_id_organizer_id_id')
        batch_op.create_index('ix_invoices_customer_id_id', ['customer_id', 'id'], unique=False)
