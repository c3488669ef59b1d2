"""Sendings: the delivery claim gets its own column, so the Message-ID is fixed at send

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

A sending's RFC 5322 Message-ID is now chosen when the sending is recorded (the OM dialect
answers it, SPEC §12); the delivery job's claim, which the message id used to mark, is
`claimed_at`. Sendings already claimed (a message id while still queued) count as claimed.
"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Rebuilt on SQLite: keep AUTOINCREMENT (0005), so ids are never reused.
    with op.batch_alter_table('sendings', schema=None,
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', portal.models.types.UTCDateTime(),
                                      nullable=True))
    op.execute("UPDATE sendings SET claimed_at = at WHERE message_id IS NOT NULL")


def downgrade():
    # Rebuilt on SQLite: keep AUTOINCREMENT (0005), so ids are never reused.
    with op.batch_alter_table('sendings', schema=None,
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('claimed_at')
