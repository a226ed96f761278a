"""telegram updates stored before they are acknowledged

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-03 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'telegramupdate',
        sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=True),
        sa.Column('payload', sa.Text(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('received_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('next_attempt_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('claimed_until', storage.types.UTCDateTime(), nullable=True),
        sa.Column('processed_at', storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('update_id'),
    )
    op.create_index(
        'ix_telegramupdate_status_id', 'telegramupdate', ['status', 'update_id'], unique=False
    )
    op.create_index(
        'ix_telegramupdate_chat_id', 'telegramupdate', ['chat_id', 'update_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_telegramupdate_chat_id', table_name='telegramupdate')
    op.drop_index('ix_telegramupdate_status_id', table_name='telegramupdate')
    op.drop_table('telegramupdate')
