"""Phone numbers: E.164 or a readable refusal; masked for logs."""

from __future__ import annotations

import pytest

from storage.phones import (
    InvalidPhone,
    UnsendablePhone,
    display_phone,
    is_french,
    mask_phone,
    normalize_phone,
    sendable_phone,
    sms_refusal,
)


@pytest.mark.parametrize(
    "text",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        " 06 12 34 56 78 ",
        "06\u00a012\u00a034\u00a056\u00a078",
    ],
)
def test_french_forms_normalise(text: str) -> None:
    assert normalize_phone(text) == "+33612345678"


def test_foreign_numbers_in_international_form() -> None:
    assert normalize_phone("+44 7911 123456") == "+447911123456"
    assert normalize_phone("0041 79 123 45 67") == "+41791234567"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("6 12 34 56 78", "must start with 0"),
        ("06 12 34 56", "not a valid"),
        ("06 12 34 56 78 90", "not a valid"),
        ("12345", "must start with 0"),
        ("06 12 AB 56 78", "unexpected characters"),
        ("06/12/34/56/78", "unexpected characters"),
        ("+33 1", "not a phone number"),
    ],
)
def test_invalid_numbers_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidPhone, match=reason):
        normalize_phone(text)


def test_invalid_phone_is_a_value_error() -> None:
    assert issubclass(InvalidPhone, ValueError)


def test_is_french() -> None:
    assert is_french("+33612345678")
    assert is_french("+262692123456")  # La Réunion
    assert not is_french("+447911123456")
    assert not is_french("nonsense")


def test_mask_phone() -> None:
    assert mask_phone("+33612345678") == "+33 6** ** ** 78"
    assert mask_phone("+447911123456") == "+44 7*******56"
    assert mask_phone("garbage") == "***"


def test_display_phone() -> None:
    assert display_phone("+33465710101") == "04 65 71 01 01"
    assert display_phone("04.65.71.01.01") == "04 65 71 01 01"
    assert display_phone("+44 7911 123456") == "+44 7911 123456"
    assert display_phone("poste 12") == "poste 12"


@pytest.mark.parametrize(
    ("number", "refusal"),
    [
        ("+33899123456", "premium-rate"),  # 089x: Audiotel
        ("+19005551234", "premium-rate"),
        ("+2250701020304", "region CI"),
        ("+447400123456", "region GB"),
        ("+33612345678", None),
        ("+33476000000", None),
        ("+262692123456", None),  # La Réunion
        ("+590690123456", None),  # Guadeloupe
    ],
)
def test_sms_refusal(number: str, refusal: str | None) -> None:
    found = sms_refusal(number)
    assert found is None if refusal is None else refusal in (found or "")


def test_sendable_phone_follows_the_allowed_regions() -> None:
    assert sendable_phone("06 12 34 56 78") == "+33612345678"
    assert sendable_phone("+44 7400 123456", ["FR", "GB"]) == "+447400123456"
    with pytest.raises(UnsendablePhone, match="region RE"):
        sendable_phone("+262 692 12 34 56", ["FR"])
    with pytest.raises(InvalidPhone):
        sendable_phone("08 99 12 34 56", ["FR"])
