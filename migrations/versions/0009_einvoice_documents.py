"""E-invoices: the CII and UBL bytes stored beside the document of record

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

The Factur-X PDF embeds the CII; both XMLs are also kept as they were made, so downloads
serve the very bytes whose SHA-256 the invoice records (SPEC §11). Null for documents that
get no e-invoice (proformas, events with e-invoicing off, currencies with 3 minor units).
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invoice_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cii', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('ubl', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('invoice_documents', schema=None) as batch_op:
        batch_op.drop_column('ubl')
        batch_op.drop_column('cii')
