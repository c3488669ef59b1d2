"""Back office an organizer runs alone: archived events, an event's default tax rate, the
user's time zone, password resets and form stashes

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

Issue 18. `events.archived_at` marks an archived (read-only, hidden) event;
`events.default_tax_rate` prefills the line editor; `users.timezone` shows times in the
user's zone. `password_resets` keeps only the SHA-256 of each reset token (single use,
expiring); `form_stashes` keeps a form a user posted with an expired session until they sign
in again (keyed by a one-time id, also only as a hash).
"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('events', sa.Column('archived_at', portal.models.types.UTCDateTime(),
                                      nullable=True))
    op.add_column('events', sa.Column('default_tax_rate', portal.models.types.Money(6, 3),
                                      nullable=True))
    op.add_column('users', sa.Column('timezone', sa.String(length=64), server_default='',
                                     nullable=False))
    op.create_table('password_resets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', portal.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_password_resets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_resets_token_hash'))
    )
    op.create_index('ix_password_resets_user_id', 'password_resets', ['user_id'], unique=False)
    op.create_table('form_stashes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_stashes')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_form_stashes_key_hash'))
    )


def downgrade():
    op.drop_table('form_stashes')
    op.drop_index('ix_password_resets_user_id', table_name='password_resets')
    op.drop_table('password_resets')
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), never a rebuild of `users` or `events`: with
    # foreign keys on, dropping the old table would fail or cascade into their rows.
    op.drop_column('users', 'timezone')
    op.drop_column('events', 'default_tax_rate')
    op.drop_column('events', 'archived_at')
