"""who registered a beneficiary; deep-link tokens hashed, with an expiry

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00

`registered_by` is filled from the audit log's `beneficiary.register` entries (actor
`staff:<id>:<name>`). Deep-link tokens are now stored hashed with an expiry: the tokens issued
before this revision (kept in clear, never expiring) are revoked.
"""

from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('telegram_link_expires_at', storage.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column('registered_by', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_beneficiary_registered_by'), ['registered_by'], unique=False)
        batch_op.create_foreign_key(
            'fk_beneficiary_registered_by_staff', 'staff', ['registered_by'], ['id']
        )
    _backfill_registered_by()
    op.execute(sa.text('UPDATE beneficiary SET telegram_link_token = NULL'))


def _backfill_registered_by() -> None:
    bind = op.get_bind()
    staff_ids = {row[0] for row in bind.execute(sa.text('SELECT id FROM staff'))}
    entries = bind.execute(
        sa.text(
            "SELECT actor, record FROM auditentry WHERE action = 'beneficiary.register' "
            "ORDER BY id"
        )
    ).all()
    for actor, record in entries:
        parts = (actor or '').split(':')
        person = (record or '').removeprefix('beneficiary:')
        if len(parts) < 2 or parts[0] != 'staff' or not parts[1].isdigit() or not person.isdigit():
            continue
        if int(parts[1]) in staff_ids:
            bind.execute(
                sa.text(
                    'UPDATE beneficiary SET registered_by = :staff '
                    'WHERE id = :person AND registered_by IS NULL'
                ),
                {'staff': int(parts[1]), 'person': int(person)},
            )


def downgrade() -> None:
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_constraint('fk_beneficiary_registered_by_staff', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_beneficiary_registered_by'))
        batch_op.drop_column('registered_by')
        batch_op.drop_column('telegram_link_expires_at')
