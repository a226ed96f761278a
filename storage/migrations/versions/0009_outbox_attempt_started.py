"""outbox attempt started

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Set just before the provider call: a row in `sending` with this set was perhaps sent
    # (the dispatcher died during the call) and is reconciled, never blindly re-queued.
    with op.batch_alter_table('outboundmessage') as batch:
        batch.add_column(
            sa.Column('attempt_started_at', storage.types.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('outboundmessage') as batch:
        batch.drop_column('attempt_started_at')
