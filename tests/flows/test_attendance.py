"""The no-show policy as a rule: what marking attendance does to the booking and its voucher."""

from __future__ import annotations

import pytest

from flows.attendance import AttendanceOutcome, attendance_outcome


@pytest.mark.parametrize("policy", ["return", "consume"])
def test_attended_redeems_the_voucher_whatever_the_policy(policy: str) -> None:
    assert attendance_outcome(attended=True, no_show_policy=policy) == AttendanceOutcome(
        "attended", "redeemed"
    )


def test_a_no_show_gets_the_voucher_back_or_loses_it_per_the_policy() -> None:
    returned = attendance_outcome(attended=False, no_show_policy="return")
    consumed = attendance_outcome(attended=False, no_show_policy="consume")
    assert returned == AttendanceOutcome("no_show", "available")
    assert consumed == AttendanceOutcome("no_show", "redeemed")


def test_an_unknown_policy_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="keep"):
        attendance_outcome(attended=False, no_show_policy="keep")
