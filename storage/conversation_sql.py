"""The conversation store's SQL (storage.conversation_store), written once at import: `:name`
parameters for sqlite3, the same text with `%(name)s` for psycopg (`POSTGRES`)."""

from __future__ import annotations

import re

from storage.notices import NOTICE_KEYS

__all__ = ["POSTGRES", "SQLITE"]

_HOLDER_COLUMNS = (
    "id, first_name, language, reminders_enabled, opted_out, commune_insee, last_channel"
)
HOLDER_BY_PHONE = (
    f"SELECT {_HOLDER_COLUMNS} FROM beneficiary WHERE phone = :address AND erased_at IS NULL"
)
HOLDER_BY_CHAT = (
    f"SELECT {_HOLDER_COLUMNS} FROM beneficiary WHERE telegram_chat_id = :chat_id "
    "AND erased_at IS NULL"
)
INBOUND_INSERT = (
    "INSERT INTO inboundmessage (channel, provider_id, address, body, received_at) "
    "VALUES (:channel, :provider_id, :address, :body, :now) "
    "ON CONFLICT (channel, provider_id) DO NOTHING RETURNING id"
)
INBOUND_FIRST = (
    "SELECT id, reply FROM inboundmessage WHERE channel = :channel AND provider_id = :provider_id"
)
COUNT_BUMP = (
    'INSERT INTO inboundcount ("key", window_start, hits) VALUES (:key, :window_start, 1) '
    'ON CONFLICT ("key", window_start) DO UPDATE SET hits = inboundcount.hits + 1 RETURNING hits'
)
STATE_AND_OPT_OUT = (
    "SELECT (SELECT state FROM conversation WHERE address = :address), "
    "EXISTS (SELECT 1 FROM addressoptout WHERE address = :address)"
)
_NOTICE_PREFIXES = " OR ".join(f"dedupe_key LIKE '{prefix}%'" for prefix in NOTICE_KEYS)
LAST_NOTICE = (
    "SELECT dedupe_key, updated_at FROM outboundmessage "
    "WHERE beneficiary_id = :beneficiary_id AND address = :address "
    "AND status IN ('sent', 'delivered') AND updated_at >= :since "
    f"AND ({_NOTICE_PREFIXES}) ORDER BY updated_at DESC LIMIT 1"
)
BALANCE = (
    "SELECT voucher.status, count(*), min(voucher.expires_on), max(voucher.value_cents) "
    "FROM voucher JOIN booklet ON booklet.id = voucher.booklet_id "
    "WHERE booklet.beneficiary_id = :beneficiary_id "
    "AND (voucher.status != 'available' OR voucher.expires_on >= :today) "
    "GROUP BY voucher.status"
)
BOOKINGS = (
    "SELECT booking.id, slot.id, place.name, place.address, place.commune, slot.starts_at, "
    "slot.ends_at, slot.topic, slot.capacity, slot.booked, place.phone "
    "FROM booking JOIN slot ON slot.id = booking.slot_id JOIN place ON place.id = slot.place_id "
    "WHERE booking.beneficiary_id = :beneficiary_id AND booking.status = 'booked' "
    "AND slot.starts_at > :now ORDER BY slot.starts_at"
)
SAVE_STATE = (
    "INSERT INTO conversation (address, state, updated_at) VALUES (:address, :state, :now) "
    "ON CONFLICT (address) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"
)
SAVE_REPLY = "UPDATE inboundmessage SET reply = :reply WHERE id = :inbound_id"
# The saved state, STOP and the last booking notice in one statement (none without a holder).
CONVERSATION = (
    "SELECT (SELECT state FROM conversation WHERE address = :address), "
    "EXISTS (SELECT 1 FROM addressoptout WHERE address = :address), "
    "notice.dedupe_key, notice.updated_at "
    f"FROM (SELECT 1) AS one LEFT JOIN ({LAST_NOTICE}) AS notice ON true"
)


def _arrival(holder_where: str) -> str:
    """PostgreSQL: identity, inbound dedupe and both flood counts in one round trip.

    The counts are those storage.abuse.judge_inbound asks for, in its order: the address's
    (only for a new message, and for an unknown sender only when it may be answered at
    all), then, while the address is within its limit, the holder's or the channel's
    unknown senders'. The address row is bumped first, so rows are locked in the usual
    order. What is read after the counts (the state) is read by a later statement, which
    sees a concurrent message's commit once the address row's lock was waited for."""
    return (
        f"WITH holder AS (SELECT {_HOLDER_COLUMNS} FROM beneficiary WHERE {holder_where} "
        "AND erased_at IS NULL LIMIT 1), "
        f"inbound AS ({INBOUND_INSERT}), "
        'mine AS (INSERT INTO inboundcount ("key", window_start, hits) '
        "SELECT :address_key, :address_window, 1 FROM inbound "
        "WHERE :count_unknown OR EXISTS (SELECT 1 FROM holder) "
        'ON CONFLICT ("key", window_start) DO UPDATE SET hits = inboundcount.hits + 1 '
        "RETURNING hits), "
        'theirs AS (INSERT INTO inboundcount ("key", window_start, hits) '
        "SELECT COALESCE('b:' || CAST((SELECT id FROM holder) AS TEXT), :unknown_key), "
        "CASE WHEN EXISTS (SELECT 1 FROM holder) THEN CAST(:holder_window AS TIMESTAMPTZ) "
        "ELSE CAST(:unknown_window AS TIMESTAMPTZ) END, 1 "
        "FROM mine WHERE mine.hits <= :per_address "
        'ON CONFLICT ("key", window_start) DO UPDATE SET hits = inboundcount.hits + 1 '
        "RETURNING hits) "
        f"SELECT {', '.join('holder.' + c.strip() for c in _HOLDER_COLUMNS.split(','))}, "
        "(SELECT id FROM inbound), (SELECT hits FROM mine), (SELECT hits FROM theirs) "
        "FROM (SELECT 1) AS one LEFT JOIN holder ON true"
    )


ARRIVAL_BY_PHONE = _arrival("phone = :address")
ARRIVAL_BY_CHAT = _arrival("telegram_chat_id = :chat_id")


def _conversation_after_arrival(holder_where: str) -> str:
    """PostgreSQL: CONVERSATION for the arrival's holder, sent in the same pipeline right
    after the arrival statement. The server runs it once the arrival is done (after any wait
    for the address's counter row), with a snapshot of its own, so it reads what a later
    round trip would have read."""
    holder_id = f"(SELECT id FROM beneficiary WHERE {holder_where} AND erased_at IS NULL LIMIT 1)"
    return CONVERSATION.replace(":beneficiary_id", holder_id)


CONVERSATION_BY_PHONE = _conversation_after_arrival("phone = :address")
CONVERSATION_BY_CHAT = _conversation_after_arrival("telegram_chat_id = :chat_id")
SET_LAST_CHANNEL = "UPDATE beneficiary SET last_channel = :channel WHERE id = :beneficiary_id"

_LITERAL_OR_NAME = re.compile(r"'[^']*'|(?<!:):(\w+)")


def _pyformat(sql: str) -> str:
    """`:name` → `%(name)s` (psycopg's style) outside quoted literals; every % doubled."""

    def convert(match: re.Match[str]) -> str:
        return match.group(0) if match.group(1) is None else f"%({match.group(1)})s"

    return _LITERAL_OR_NAME.sub(convert, sql.replace("%", "%%"))


SQLITE = {
    "HOLDER_BY_PHONE": HOLDER_BY_PHONE,
    "HOLDER_BY_CHAT": HOLDER_BY_CHAT,
    "INBOUND_INSERT": INBOUND_INSERT,
    "INBOUND_FIRST": INBOUND_FIRST,
    "COUNT_BUMP": COUNT_BUMP,
    "STATE_AND_OPT_OUT": STATE_AND_OPT_OUT,
    "LAST_NOTICE": LAST_NOTICE,
    "BALANCE": BALANCE,
    "BOOKINGS": BOOKINGS,
    "SAVE_STATE": SAVE_STATE,
    "SAVE_REPLY": SAVE_REPLY,
    "CONVERSATION": CONVERSATION,
    "ARRIVAL_BY_PHONE": ARRIVAL_BY_PHONE,
    "ARRIVAL_BY_CHAT": ARRIVAL_BY_CHAT,
    "CONVERSATION_BY_PHONE": CONVERSATION_BY_PHONE,
    "CONVERSATION_BY_CHAT": CONVERSATION_BY_CHAT,
    "SET_LAST_CHANNEL": SET_LAST_CHANNEL,
}
POSTGRES = {name: _pyformat(sql) for name, sql in SQLITE.items()}
POSTGRES["SAVE_STATE"] = _pyformat(SAVE_STATE.replace(":state", "CAST(:state AS JSON)"))
