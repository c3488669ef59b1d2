"""Event texts per language: overrides of the event's texts for each locale

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

`events.texts_by_locale` maps a locale to the texts it overrides, e.g.
`{"de": {"payment": "Bitte überweisen Sie …"}}`; a text a language does not give falls back to
the event's default (SPEC §14).
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


# Plain ALTER TABLE … ADD/DROP COLUMN, never a batch rebuild of `events`: on SQLite, with
# foreign keys on, dropping the old table fails on a populated database (or cascades).
def upgrade():
    op.add_column('events', sa.Column('texts_by_locale', sa.JSON(), server_default='{}',
                                      nullable=False))


def downgrade():
    op.drop_column('events', 'texts_by_locale')
