"""console sessions

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-10 09:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0012'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'consolesession',
        sa.Column('id_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id']),
        sa.PrimaryKeyConstraint('id_hash'),
    )
    op.create_index('ix_consolesession_staff_id', 'consolesession', ['staff_id'])
    op.create_index('ix_consolesession_expires_at', 'consolesession', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_consolesession_expires_at', table_name='consolesession')
    op.drop_index('ix_consolesession_staff_id', table_name='consolesession')
    op.drop_table('consolesession')
