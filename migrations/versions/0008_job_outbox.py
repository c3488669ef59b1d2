"""One outbox for every background job; a mail's outcome can be unknown

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

Every background job (the PDF of record, mail delivery, whatever comes) is a row of `jobs`,
written in the transaction of the step that needs it, so a job can no longer be lost between
a commit and the broker; a relay hands the rows out and re-drives what a broker outage or a
killed worker left behind. A sending whose SMTP transaction may have completed (cut off after
DATA) is recorded as `unknown` instead of failed: check before sending again.
"""
from alembic import op
import sqlalchemy as sa

from portal.models.types import UTCDateTime


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('redriven', sa.Integer(), server_default='0', nullable=False),
        sa.Column('run_after', UTCDateTime(), nullable=False),
        sa.Column('locked_until', UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('dedupe_key', sa.String(length=200), nullable=True),
        sa.Column('organizer_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'running', 'done', 'failed')",
                           name=op.f('ck_jobs_state')),
        sa.ForeignKeyConstraint(['organizer_id'], ['organizers.id'],
                                name=op.f('fk_jobs_organizer_id_organizers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_jobs_dedupe_key')),
    )
    op.create_index('ix_jobs_state_run_after', 'jobs', ['state', 'run_after'], unique=False)
    op.create_index('ix_jobs_organizer_id', 'jobs', ['organizer_id'], unique=False)
    # Rebuilt on SQLite: keep AUTOINCREMENT (0005), so ids are never reused.
    with op.batch_alter_table('sendings', schema=None,
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sendings_outcome'), type_='check')
        batch_op.create_check_constraint(
            'outcome', "outcome IN ('queued', 'sent', 'failed', 'unknown')")


def downgrade():
    op.execute("UPDATE sendings SET outcome = 'failed' WHERE outcome = 'unknown'")
    # Rebuilt on SQLite: keep AUTOINCREMENT (0005), so ids are never reused.
    with op.batch_alter_table('sendings', schema=None,
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sendings_outcome'), type_='check')
        batch_op.create_check_constraint('outcome', "outcome IN ('queued', 'sent', 'failed')")
    op.drop_index('ix_jobs_organizer_id', table_name='jobs')
    op.drop_index('ix_jobs_state_run_after', table_name='jobs')
    op.drop_table('jobs')
