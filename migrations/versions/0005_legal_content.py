"""Legally complete documents: EN 16931 seller/buyer data, VAT categories, units, ledger

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

SPEC §9. New columns for the delivery date / service period, the buyer reference, payment
means as data, VAT categories and exemption reasons on lines, charges and tax rows, the
ledger's chain hash and the e-invoice hashes; events get start/end dates, the e-invoicing
switch and payment means; organizers payment means and a logo.

On SQLite the tables whose ids are handed out are rebuilt with AUTOINCREMENT, so an id is
never reused after a delete (SPEC §3; PostgreSQL sequences never reuse one anyway). The
rebuild follows SQLite's own procedure (https://sqlite.org/lang_altertable.html#otheralter)
with foreign keys switched off: with them on, dropping the old parent table would cascade its
deletes into every child table. Data, indexes and constraints survive unchanged
(tests/test_migration_0005.py upgrades a populated 0004 database).

Existing rows get sensible values: a line's free-text unit becomes its Rec 20 code ('' ->
C62, 'pcs' -> H87, ...), a line or tax row at 0 % is category Z, any other S.
"""
import re
from contextlib import contextmanager

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


# The tables whose ids are exposed (URLs, API objects, cursors).
AUTOINCREMENT_TABLES = ('organizers', 'events', 'customers', 'orders', 'invoices', 'sendings',
                        'api_tokens', 'memberships', 'users')


def _rebuild_with_autoincrement(conn, table):
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    if sql is None or 'AUTOINCREMENT' in sql.upper():
        return
    match = re.search(r',\s*CONSTRAINT (\w+) PRIMARY KEY \(id\)', sql)
    if match is None:
        raise RuntimeError(f'{table}: no single-column primary key named in {sql!r}')
    new_sql = sql[:match.start()] + sql[match.end():]
    new_sql, count = re.subn(
        r'(\(\s*)id INTEGER NOT NULL,',
        rf'\1id INTEGER NOT NULL CONSTRAINT {match.group(1)} PRIMARY KEY AUTOINCREMENT,',
        new_sql, count=1)
    new_sql, renamed = re.subn(rf'^CREATE TABLE "?{table}"?', f'CREATE TABLE _new_{table}',
                               new_sql, count=1)
    if count != 1 or renamed != 1:
        raise RuntimeError(f'{table}: unexpected table definition {sql!r}')
    _swap(conn, table, new_sql)


def _rebuild_without_autoincrement(conn, table):
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    match = re.search(r'id INTEGER NOT NULL CONSTRAINT (\w+) PRIMARY KEY AUTOINCREMENT,',
                      sql or '')
    if match is None:
        return
    new_sql = sql.replace(match.group(0), 'id INTEGER NOT NULL,', 1)
    new_sql = new_sql[:new_sql.rindex(')')].rstrip() + (
        f', \n\tCONSTRAINT {match.group(1)} PRIMARY KEY (id)\n)')
    new_sql = re.sub(rf'^CREATE TABLE "?{table}"?', f'CREATE TABLE _new_{table}', new_sql,
                     count=1)
    _swap(conn, table, new_sql)


def _swap(conn, table, new_sql):
    indexes = [row[0] for row in conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL", (table,))]
    columns = ', '.join(f'"{row[1]}"' for row in conn.exec_driver_sql(
        f'PRAGMA table_info("{table}")'))
    conn.exec_driver_sql(new_sql)
    conn.exec_driver_sql(f'INSERT INTO _new_{table} ({columns}) SELECT {columns} FROM "{table}"')
    conn.exec_driver_sql(f'DROP TABLE "{table}"')
    conn.exec_driver_sql(f'ALTER TABLE _new_{table} RENAME TO "{table}"')
    for index in indexes:
        conn.exec_driver_sql(index)


@contextmanager
def _foreign_keys_off():
    """On SQLite, run the block with foreign keys off (rebuilding a parent table with them on
    would cascade the old table's drop into its children), then check every reference.

    PRAGMA foreign_keys is a no-op inside a transaction: end the migration's, switch them
    off, work in a transaction of our own, switch them on and begin again."""
    conn = op.get_bind()
    if conn.dialect.name != 'sqlite':
        yield conn
        return
    conn.exec_driver_sql('COMMIT')
    conn.exec_driver_sql('PRAGMA foreign_keys=OFF')
    try:
        conn.exec_driver_sql('BEGIN IMMEDIATE')
        yield conn
        broken = conn.exec_driver_sql('PRAGMA foreign_key_check').fetchall()
        if broken:
            raise RuntimeError(f'foreign keys broken by the rebuild: {broken[:5]}')
        conn.exec_driver_sql('COMMIT')
    except Exception:
        conn.exec_driver_sql('ROLLBACK')
        raise
    finally:
        conn.exec_driver_sql('PRAGMA foreign_keys=ON')
        conn.exec_driver_sql('BEGIN')


def upgrade():
    # Batch operations rebuild tables on SQLite (events, for its new server default): with
    # foreign keys on, dropping the old events table would cascade into every invoice.
    with _foreign_keys_off() as conn:
        _upgrade(conn)


def _upgrade(conn):
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

    if conn.dialect.name == 'sqlite':
        for table in AUTOINCREMENT_TABLES:
            _rebuild_with_autoincrement(conn, table)


def downgrade():
    with _foreign_keys_off() as conn:
        _downgrade(conn)


def _downgrade(conn):
    if conn.dialect.name == 'sqlite':
        for table in AUTOINCREMENT_TABLES:
            _rebuild_without_autoincrement(conn, table)
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
