"""Payments: amount, date, method and reference per invoice, and the amount paid on the invoice

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

SPEC §10. Each payment is a row of `payments`; the invoice keeps Σ payments in `amount_paid`
(server default 0 first, so existing rows are valid) and, while paid, the status it had before
(`status_before_paid`), which deleting a payment moves it back to. Invoices already marked
paid before payments existed get one payment of their whole total (method `other`, dated the
day they were paid), so their balance is 0 as their status says.
"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_STATUSES = "'draft', 'open', 'sent', 'paid', 'disputed', 'cancelled', 'archived'"


def upgrade():
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount', portal.models.types.Money(16, 3), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('actor_type', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('CAST(amount AS NUMERIC) > 0', name=op.f('ck_payments_amount')),
    sa.CheckConstraint("method IN ('bank_transfer', 'card', 'cash', 'direct_debit', 'other')",
                       name=op.f('ck_payments_method')),
    sa.CheckConstraint("actor_type IN ('user', 'token', 'customer', 'system')",
                       name=op.f('ck_payments_actor_type')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'],
                            name=op.f('fk_payments_invoice_id_invoices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    op.create_index('ix_payments_invoice_id_id', 'payments', ['invoice_id', 'id'], unique=False)

    # Plain ALTER TABLE … ADD COLUMN on both databases. On SQLite, a CHECK constraint can only
    # come by rebuilding the table, and with foreign keys on, dropping the old `invoices` would
    # delete every invoice's lines, taxes and sendings (ON DELETE CASCADE). So the two CHECKs
    # are PostgreSQL's only; on SQLite services.payments keeps them.
    op.add_column('invoices', sa.Column('amount_paid', portal.models.types.Money(16, 3),
                                        server_default='0', nullable=False))
    op.add_column('invoices', sa.Column('status_before_paid', sa.String(length=20),
                                        nullable=True))
    if op.get_bind().dialect.name != 'sqlite':
        op.create_check_constraint(op.f('ck_invoices_amount_paid'), 'invoices',
                                   'CAST(amount_paid AS NUMERIC) >= 0')
        op.create_check_constraint(
            op.f('ck_invoices_status_before_paid'), 'invoices',
            f'status_before_paid IS NULL OR status_before_paid IN ({_STATUSES})')

    # Invoices paid (or archived after being paid) before payments existed: one payment of
    # their whole total, so that the balance agrees with the status.
    invoices = sa.table('invoices', sa.column('id', sa.Integer()),
                        sa.column('gross_total', portal.models.types.Money()),
                        sa.column('amount_paid', portal.models.types.Money()),
                        sa.column('status', sa.String()), sa.column('paid_at', portal.models.types.UTCDateTime()),
                        sa.column('closed_at', portal.models.types.UTCDateTime()))
    payments = sa.table('payments', sa.column('invoice_id', sa.Integer()),
                        sa.column('amount', portal.models.types.Money()), sa.column('date', sa.Date()),
                        sa.column('method', sa.String()), sa.column('reference', sa.String()),
                        sa.column('actor_type', sa.String()),
                        sa.column('actor_label', sa.String()),
                        sa.column('created_at', portal.models.types.UTCDateTime()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(invoices.c.id, invoices.c.gross_total,
                                        invoices.c.paid_at, invoices.c.closed_at)
                              .where(invoices.c.paid_at.is_not(None))).all()
    for row in rows:
        amount = abs(row.gross_total)
        if not amount:
            continue
        when = row.paid_at or row.closed_at
        connection.execute(payments.insert().values(
            invoice_id=row.id, amount=amount, date=when.date(), method='other', reference='',
            actor_type='system', actor_label='migration 0006', created_at=when))
        connection.execute(invoices.update().where(invoices.c.id == row.id)
                           .values(amount_paid=amount))


def downgrade():
    op.drop_index('ix_payments_invoice_id_id', table_name='payments')
    op.drop_table('payments')
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), never a rebuild of `invoices` (see upgrade).
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_invoices_status_before_paid'), 'invoices', type_='check')
        op.drop_constraint(op.f('ck_invoices_amount_paid'), 'invoices', type_='check')
    op.drop_column('invoices', 'status_before_paid')
    op.drop_column('invoices', 'amount_paid')
