"""Kept invoice counts: invoice_tallies, written by triggers on invoices

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29

Issue 16. Every list page counted its invoices with count(*), which grows with the table
(1.8 ms at 10k, 11.6 ms at 100k on PostgreSQL). `invoice_tallies` keeps the counts per
(event, status, type) instead, append-only: the triggers below add +1/-1 delta rows and never
update a shared row, so two lifecycle steps of the same event never wait on one counter row
(nor deadlock taking two in opposite orders). A count sums an event's rows; compaction
(portal/services/tallies.py) folds them into one row per key.

SQLite: three row triggers. PostgreSQL: statement triggers with transition tables for INSERT
and DELETE (a bulk insert writes one delta row per key, not one per invoice) and a row
trigger for UPDATE OF status, type, event_id, organizer_id that fires only when one of them
really changed. The SQL is written here once, frozen with the migration; the tests build their
databases with the migrations, so they run these very triggers.

The backfill counts the existing invoices under a SHARE lock on PostgreSQL (writers wait for
the migration to commit, so no invoice is counted twice or missed).

A later migration that rebuilds `invoices` on SQLite (batch "move and copy") drops these
triggers with the old table and must create them again.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

KEY = "event_id, organizer_id, status, type"
CHANGED = ("{old}.status {ne} {new}.status OR {old}.type {ne} {new}.type "
           "OR {old}.event_id {ne} {new}.event_id OR {old}.organizer_id {ne} {new}.organizer_id")

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER invoice_tallies_insert AFTER INSERT ON invoices
    BEGIN
        INSERT INTO invoice_tallies ({KEY}, n)
        VALUES (NEW.event_id, NEW.organizer_id, NEW.status, NEW.type, 1);
    END""",
    f"""CREATE TRIGGER invoice_tallies_update
    AFTER UPDATE OF status, type, event_id, organizer_id ON invoices
    WHEN {CHANGED.format(old="OLD", new="NEW", ne="IS NOT")}
    BEGIN
        INSERT INTO invoice_tallies ({KEY}, n)
        VALUES (OLD.event_id, OLD.organizer_id, OLD.status, OLD.type, -1),
               (NEW.event_id, NEW.organizer_id, NEW.status, NEW.type, 1);
    END""",
    f"""CREATE TRIGGER invoice_tallies_delete AFTER DELETE ON invoices
    BEGIN
        INSERT INTO invoice_tallies ({KEY}, n)
        VALUES (OLD.event_id, OLD.organizer_id, OLD.status, OLD.type, -1);
    END""",
)

POSTGRESQL_TRIGGERS = (
    f"""CREATE FUNCTION invoice_tallies_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO invoice_tallies ({KEY}, n)
        SELECT {KEY}, count(*) FROM new_rows GROUP BY {KEY};
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION invoice_tallies_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO invoice_tallies ({KEY}, n)
        SELECT {KEY}, -count(*) FROM old_rows GROUP BY {KEY};
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION invoice_tallies_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO invoice_tallies ({KEY}, n)
        VALUES (OLD.event_id, OLD.organizer_id, OLD.status, OLD.type, -1),
               (NEW.event_id, NEW.organizer_id, NEW.status, NEW.type, 1);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER invoice_tallies_insert AFTER INSERT ON invoices
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION invoice_tallies_inserted()""",
    """CREATE TRIGGER invoice_tallies_delete AFTER DELETE ON invoices
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION invoice_tallies_deleted()""",
    f"""CREATE TRIGGER invoice_tallies_update
    AFTER UPDATE OF status, type, event_id, organizer_id ON invoices
    FOR EACH ROW WHEN ({CHANGED.format(old="OLD", new="NEW", ne="IS DISTINCT FROM")})
    EXECUTE FUNCTION invoice_tallies_updated()""",
)

TRIGGERS = ("invoice_tallies_insert", "invoice_tallies_update", "invoice_tallies_delete")
FUNCTIONS = ("invoice_tallies_inserted", "invoice_tallies_deleted", "invoice_tallies_updated")


def upgrade():
    op.create_table('invoice_tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('organizer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_tallies'))
    )
    op.create_index('ix_invoice_tallies_event_id_status_type', 'invoice_tallies',
                    ['event_id', 'status', 'type'], unique=False)
    op.create_index('ix_invoice_tallies_organizer_id_status_type', 'invoice_tallies',
                    ['organizer_id', 'status', 'type'], unique=False)
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("LOCK TABLE invoices IN SHARE MODE")
    op.execute(f"INSERT INTO invoice_tallies ({KEY}, n) "
               f"SELECT {KEY}, count(*) FROM invoices GROUP BY {KEY}")
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON invoices" if postgresql else ""))
    if postgresql:
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index('ix_invoice_tallies_organizer_id_status_type', table_name='invoice_tallies')
    op.drop_index('ix_invoice_tallies_event_id_status_type', table_name='invoice_tallies')
    op.drop_table('invoice_tallies')
