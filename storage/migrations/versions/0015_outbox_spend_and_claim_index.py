"""the daily cap's spend counter per channel and day, and the dispatcher's claim index

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 07:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outboundspend',
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('segments', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('channel', 'day'),
    )
    # No rows: a day's counter starts from the sent history the first time it is needed
    # (storage.outbox.reserve_spend), so the day of the upgrade keeps its cap.
    op.create_index(
        'ix_outbound_claim',
        'outboundmessage',
        ['channel', 'status', 'next_attempt_at', 'id'],
    )


def downgrade() -> None:
    op.drop_index('ix_outbound_claim', table_name='outboundmessage')
    op.drop_table('outboundspend')
