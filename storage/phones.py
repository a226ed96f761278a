"""Phone numbers: one canonical form (E.164) everywhere, masked in logs."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberFormat

__all__ = [
    "DEFAULT_SMS_REGIONS",
    "InvalidPhone",
    "UnsendablePhone",
    "display_phone",
    "is_french",
    "mask_phone",
    "normalize_phone",
    "sendable_phone",
    "sms_refusal",
]

# Separators people type between digit groups; anything else (letters, slashes…) is refused.
_SEPARATORS = re.compile(r"[\s.\-()\u00a0\u202f]")
_DIGITS = re.compile(r"\+?\d+")
# Metropolitan France and the overseas departments, which have their own calling codes.
_FRENCH_REGIONS = frozenset({"FR", "GP", "GF", "MQ", "RE", "YT"})
# The default of PASSNUM_SMS_ALLOWED_REGIONS: where our beneficiaries' phones are.
DEFAULT_SMS_REGIONS = _FRENCH_REGIONS
# Numbers that cost the sender (or the recipient) more than an ordinary SMS: a registered
# premium number is how a fraudster turns our broadcasts into revenue.
_COSTLY_TYPES = {
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium-rate",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared-cost",
}


class InvalidPhone(ValueError):
    """The text is not a phone number we can use; the message says why, in plain words."""


class UnsendablePhone(InvalidPhone):
    """A valid number we refuse to write to: premium-rate, shared-cost or a region not allowed."""


def normalize_phone(text: str, region: str = "FR") -> str:
    """`"06 12 34 56 78"`, `"+33 6 12…"`, `"0033 6…"` → `"+33612345678"`; else InvalidPhone.

    Strict about digits, forgiving about spaces, dots, dashes and brackets: "6 12 34 56 78" (the
    leading 0 forgotten) is refused, because guessing is how messages reach a stranger.
    """
    compact = _SEPARATORS.sub("", text or "")
    if not compact:
        raise InvalidPhone("empty phone number")
    if not _DIGITS.fullmatch(compact):
        raise InvalidPhone(f"unexpected characters in phone number {text.strip()!r}")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+"):
        _check_national_prefix(compact, region)
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {text.strip()!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"not a valid phone number: {text.strip()!r}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def sms_refusal(e164: str, allowed_regions: Iterable[str] = DEFAULT_SMS_REGIONS) -> str | None:
    """Why we must not send an SMS to this E.164 number (None when we may).

    Refused: numbers phonenumbers types as premium-rate or shared-cost (+33 89…, +1 900…), and
    numbers of a region outside `allowed_regions` (phonenumbers region codes, like "FR", "RE").
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "not a phone number"
    costly = _COSTLY_TYPES.get(phonenumbers.number_type(number))
    if costly:
        return f"{costly} numbers are refused"
    region = phonenumbers.region_code_for_number(number)
    if region not in {code.strip().upper() for code in allowed_regions}:
        return f"numbers of region {region or '?'} are not allowed (PASSNUM_SMS_ALLOWED_REGIONS)"
    return None


def sendable_phone(text: str, allowed_regions: Iterable[str] = DEFAULT_SMS_REGIONS) -> str:
    """`normalize_phone`, then refuse what we must not write to (UnsendablePhone says why).

    Registration (staff API, CLI, CSV import) calls this where it normalises a phone, so a
    number that the dispatcher would refuse is never registered in the first place.
    """
    e164 = normalize_phone(text)
    refusal = sms_refusal(e164, allowed_regions)
    if refusal:
        raise UnsendablePhone(f"{mask_phone(e164)}: {refusal}")
    return e164


def _check_national_prefix(digits: str, region: str) -> None:
    metadata = PhoneMetadata.metadata_for_region(region)
    prefix = metadata.national_prefix if metadata else None
    if prefix and not digits.startswith(prefix):
        raise InvalidPhone(f"a national number must start with {prefix} (or give +country code)")


@functools.lru_cache(maxsize=8192)  # asked on every inbound SMS; parsing costs ~25 µs
def is_french(e164: str) -> bool:
    """True for numbers of France, overseas departments included."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_number(number) in _FRENCH_REGIONS


def mask_phone(e164: str) -> str:
    """`"+33612345678"` → `"+33 6** ** ** 78"`: enough to tell numbers apart in logs, no more."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "***"
    national = phonenumbers.national_significant_number(number)
    if len(national) < 4:
        return f"+{number.country_code} ***"
    masked = national[0] + "*" * (len(national) - 3) + national[-2:]
    if number.country_code == 33 and len(masked) == 9:
        masked = " ".join([masked[:3], masked[3:5], masked[5:7], masked[7:]])
    return f"+{number.country_code} {masked}"


def display_phone(text: str, region: str = "FR") -> str:
    """A number as people read it at home: `"+33476000000"` → `"04 76 00 00 00"`; else as given."""
    try:
        number = phonenumbers.parse(normalize_phone(text, region), None)
    except (InvalidPhone, phonenumbers.NumberParseException):
        return text.strip()
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
