"""address history; audit actors without phone numbers or chat ids

Revision ID: 0010
Revises: 0012
Create Date: 2026-12-03 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0010'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'addresshistory',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('beneficiary_id', sa.Integer(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('since', storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('beneficiary_id', 'address'),
    )
    with op.batch_alter_table('addresshistory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addresshistory_address'), ['address'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_addresshistory_beneficiary_id'), ['beneficiary_id'], unique=False
        )
    # The addresses already known: today's phone and chat of every beneficiary.
    op.execute(
        "INSERT INTO addresshistory (beneficiary_id, channel, address, since) "
        "SELECT id, 'sms', phone, created_at FROM beneficiary WHERE phone IS NOT NULL"
    )
    op.execute(
        "INSERT INTO addresshistory (beneficiary_id, channel, address, since) "
        "SELECT id, 'telegram', 'tg:' || CAST(telegram_chat_id AS VARCHAR(32)), created_at "
        "FROM beneficiary WHERE telegram_chat_id IS NOT NULL"
    )
    # Links were audited under the raw address ("sms:+336…", "telegram:tg:…"): they now name
    # the beneficiary (the record), and chats refused by the staff bot are no longer named.
    op.execute(
        "UPDATE auditentry SET actor = record "
        "WHERE action = 'link_address' AND record LIKE 'beneficiary:%'"
    )
    op.execute(
        "UPDATE auditentry SET actor = 'telegram:unidentified' "
        "WHERE actor LIKE 'telegram:%' AND action LIKE 'refused.%'"
    )
    op.execute(
        "UPDATE auditentry SET record = NULL "
        "WHERE record LIKE 'telegram:%' AND action LIKE 'refused.%'"
    )


def downgrade() -> None:
    with op.batch_alter_table('addresshistory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_addresshistory_beneficiary_id'))
        batch_op.drop_index(batch_op.f('ix_addresshistory_address'))
    op.drop_table('addresshistory')
