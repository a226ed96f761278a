"""inbound counters and booklet lock

Revision ID: 0007
Revises: 0010
Create Date: 2026-12-02 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0007'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'inboundcount',
        sa.Column('window_start', storage.types.UTCDateTime(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window_start'),
    )
    with op.batch_alter_table('inboundcount', schema=None) as batch_op:
        batch_op.create_index('ix_inboundcount_window', ['window_start'], unique=False)
    with op.batch_alter_table('booklet', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('failed_codes', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(sa.Column('locked_at', storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('booklet', schema=None) as batch_op:
        batch_op.drop_column('locked_at')
        batch_op.drop_column('failed_codes')
    with op.batch_alter_table('inboundcount', schema=None) as batch_op:
        batch_op.drop_index('ix_inboundcount_window')
    op.drop_table('inboundcount')
