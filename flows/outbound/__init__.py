"""Outbound rules: when reminders go, on which channel, what they say — pure functions.

- `flows.outbound.schedule`: the times (J-1, H-2, voucher expiry, no-show offer) from the
  slot's start, the clock and the sending calendar (quiet hours, Sundays, holidays).
- `flows.outbound.channel`: which channel and address a person is written to.
- `flows.outbound.texts`: the catalog text of a message per channel (GSM-7 SMS, Telegram as
  written, a call's words), the one-way SMS variants.
- `flows.outbound.reminders`: the messages to queue (`flows.types.MessageToQueue`) and the
  per-slot texts (`flows.types.SlotText`) from what storage read.

No I/O and no clock: the caller (bot.outbox.reminder_planning, the job handlers) reads with storage,
calls these, and hands the results to storage to write.
"""
