"""staff token lifecycle and account creator

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00
"""

from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('token_issued_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key('fk_staff_created_by_staff', 'staff', ['created_by'], ['id'])
    # Existing tokens count from the day their account was created.
    op.execute('UPDATE staff SET token_issued_at = created_at')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.alter_column(
            'token_issued_at', existing_type=storage.types.UTCDateTime(), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint('fk_staff_created_by_staff', type_='foreignkey')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('token_issued_at')
        batch_op.drop_column('created_by')
