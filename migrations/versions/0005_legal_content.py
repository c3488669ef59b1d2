"""Legally complete documents: EN 16931 seller/buyer data, VAT categories, units, ledger

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

SPEC §9. New columns for the delivery date / service period, the buyer reference, payment
means as data, VAT categories and exemption reasons on lines, charges and tax rows, the
ledger's chain hash and the e-invoice hashes; events get start/end dates, the e-invoicing
switch and payment means; organizers payment means and a logo.

Existing rows get sensible values: a line's free-text unit becomes its Rec 20 code ('' ->
C62, 'pcs' -> H87, ...), a line or tax row at 0 % is category Z, any other S.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Free-text units and their Rec 20 codes (kept here: a migration never imports the app).
LEGACY_UNITS = {
    "pcs": "H87", "pc": "H87", "piece": "H87", "pieces": "H87", "stk": "H87",
    "h": "HUR", "hr": "HUR", "hour": "HUR", "hours": "HUR", "day": "DAY", "days": "DAY",
    "kg": "KGM", "l": "LTR", "m": "MTR", "set": "SET", "unit": "C62", "units": "C62",
    "ea": "C62", "each": "C62",
}
KNOWN_UNITS = ("C62", "H87", "HUR", "DAY", "WEE", "MON", "ANN", "MIN", "KGM", "GRM", "TNE",
               "LTR", "MTR", "MTK", "MTQ", "KMT", "SET", "PR", "XPK", "LS", "E48")


def upgrade():
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('buyer_reference', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('payment_means', sa.JSON(none_as_null=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('shipping_tax_category', sa.String(length=2),
                                      nullable=True))
        batch_op.add_column(sa.Column('payment_tax_category', sa.String(length=2),
                                      nullable=True))
        batch_op.add_column(sa.Column('shipping_exemption_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('payment_exemption_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('chain_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cii_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('ubl_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_category', sa.String(length=2), server_default='S',
                                      nullable=False))
        batch_op.add_column(sa.Column('exemption_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('exemption_code', sa.String(length=30), nullable=True))
    with op.batch_alter_table('invoice_taxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=2), server_default='S',
                                      nullable=False))
        batch_op.add_column(sa.Column('exemption_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('exemption_code', sa.String(length=30), nullable=True))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('end_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('einvoicing', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
        batch_op.add_column(sa.Column('payment_means', sa.JSON(none_as_null=True),
                                      nullable=True))
    with op.batch_alter_table('organizers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_means', sa.JSON(none_as_null=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('logo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('logo_type', sa.String(length=20), nullable=True))

    # Existing rows: 0 % is zero-rated, anything else standard; units become Rec 20 codes.
    op.execute("UPDATE invoice_lines SET tax_category = 'Z' "
               "WHERE CAST(tax_rate AS NUMERIC) = 0")
    op.execute("UPDATE invoice_taxes SET category = 'Z' WHERE CAST(rate AS NUMERIC) = 0")
    lines = sa.table('invoice_lines', sa.column('unit', sa.String))
    for text, code in LEGACY_UNITS.items():
        op.execute(lines.update().where(sa.func.lower(sa.func.trim(lines.c.unit)) == text)
                   .values(unit=code))
    op.execute(lines.update().where(sa.func.upper(sa.func.trim(lines.c.unit))
                                    .in_(KNOWN_UNITS)).values(
        unit=sa.func.upper(sa.func.trim(lines.c.unit))))
    op.execute(lines.update().where(lines.c.unit.notin_(KNOWN_UNITS)).values(unit='C62'))


def downgrade():
    with op.batch_alter_table('organizers', schema=None) as batch_op:
        batch_op.drop_column('logo_type')
        batch_op.drop_column('logo')
        batch_op.drop_column('payment_means')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('payment_means')
        batch_op.drop_column('einvoicing')
        batch_op.drop_column('end_date')
        batch_op.drop_column('start_date')
    with op.batch_alter_table('invoice_taxes', schema=None) as batch_op:
        batch_op.drop_column('exemption_code')
        batch_op.drop_column('exemption_reason')
        batch_op.drop_column('category')
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_column('exemption_code')
        batch_op.drop_column('exemption_reason')
        batch_op.drop_column('tax_category')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        for name in ('ubl_sha256', 'cii_sha256', 'chain_hash', 'payment_exemption_reason',
                     'shipping_exemption_reason', 'payment_tax_category',
                     'shipping_tax_category', 'payment_means', 'buyer_reference', 'period_end',
                     'period_start', 'delivery_date'):
            batch_op.drop_column(name)
