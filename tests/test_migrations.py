"""The migrations build exactly the schema the models describe, and can be undone."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from portal.extensions import db


def _diff(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "render_as_batch": True})
        return compare_metadata(context, db.metadata)


def test_empty_database_upgrades_to_head_matching_the_models(committed_app):
    # committed_app is a brand-new database that was upgraded from empty to head.
    assert _diff(committed_app) == []
    with committed_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {"invoices", "invoice_lines", "number_sequences", "audit_entries", "api_tokens",
            "customers", "invoice_documents", "sendings", "idempotency_records"} <= tables


def test_downgrade_to_base_and_back(committed_app):
    with committed_app.app_context():
        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        upgrade()
    assert _diff(committed_app) == []
