"""What marking attendance does to a booking and its voucher: the no-show policy as a rule.

    attendance_outcome(attended=False, no_show_policy="return")
    → AttendanceOutcome(booking_status="no_show", voucher_status="available")

Attended redeems the voucher. A no-show (`PASSNUM_NO_SHOW_POLICY`) gives the voucher back
(`return`, the default) or counts it as used (`consume`). The statuses are the values stored
in the bookings and vouchers tables.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NO_SHOW_POLICIES", "AttendanceOutcome", "attendance_outcome"]

NO_SHOW_POLICIES = ("return", "consume")


@dataclass(frozen=True)
class AttendanceOutcome:
    """The booking's and the voucher's new status.
    `{"booking_status": "attended", "voucher_status": "redeemed"}`"""

    booking_status: str
    voucher_status: str


def attendance_outcome(*, attended: bool, no_show_policy: str) -> AttendanceOutcome:
    """Attended: the voucher is redeemed; a no-show follows the policy."""
    if no_show_policy not in NO_SHOW_POLICIES:
        raise ValueError(f"unknown no-show policy {no_show_policy!r}")
    if attended:
        return AttendanceOutcome("attended", "redeemed")
    if no_show_policy == "consume":
        return AttendanceOutcome("no_show", "redeemed")
    return AttendanceOutcome("no_show", "available")
