"""console sign-in links sent by Telegram

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-14 09:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0014'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'consolesigninlink',
        sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('used_at', storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id']),
        sa.PrimaryKeyConstraint('secret_hash'),
    )
    op.create_index('ix_consolesigninlink_staff_id', 'consolesigninlink', ['staff_id'])
    op.create_index('ix_consolesigninlink_expires_at', 'consolesigninlink', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_consolesigninlink_expires_at', table_name='consolesigninlink')
    op.drop_index('ix_consolesigninlink_staff_id', table_name='consolesigninlink')
    op.drop_table('consolesigninlink')
