"""Environment settings (SPEC section 5), validated into one readable error line."""

from __future__ import annotations

import re
import secrets
from datetime import time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["Settings", "SettingsError", "load_settings", "parse_duration", "weak_secret"]

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


_PLACEHOLDERS = (
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "password",
    "passw0rd",
    "placeholder",
    "example",
    "your-token",
    "yourtoken",
    "token-here",
    "qwerty",
    "123456",
    "abcdef",
    "azerty",
    "letmein",
)
MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 10


def weak_secret(value: str) -> str | None:
    """Why a secret can be guessed (too short, a placeholder, few distinct characters), or None."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"too short ({len(value)} characters, at least {MIN_SECRET_LENGTH})"
    lowered = value.lower()
    for word in _PLACEHOLDERS:
        if word in lowered:
            return f"looks like a placeholder (contains {word!r})"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"too repetitive (fewer than {MIN_DISTINCT_CHARACTERS} different characters)"
    return None


class SettingsError(ValueError):
    """A setting is wrong; the message is one line a person can act on."""


def parse_duration(text: str) -> timedelta:
    """'30m', '2h', '45s', '1d' or a bare number of minutes."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a duration like 30m, 2h or 45s")
    amount, unit = int(match.group(1)), match.group(2) or "m"
    return timedelta(seconds=amount * _UNIT_SECONDS[unit])


def _env(name: str, *aliases: str) -> AliasChoices:
    return AliasChoices(f"PASSNUM_{name}", *aliases)


class Settings(BaseSettings):
    """Every setting of SPEC section 5. Build with `load_settings()`; nothing is read at import."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///passnum.db", validation_alias=_env("DATABASE_URL"))
    public_url: str = Field("http://localhost:8000", validation_alias=_env("PUBLIC_URL"))
    twilio_account_sid: str | None = Field(
        None, validation_alias=_env("TWILIO_ACCOUNT_SID", "TWILIO_ACCOUNT_SID")
    )
    twilio_auth_token: str | None = Field(
        None, validation_alias=_env("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN")
    )
    twilio_from: str | None = Field(None, validation_alias=_env("TWILIO_FROM"))
    twilio_api_base: str = Field("https://api.twilio.com", validation_alias=_env("TWILIO_API_BASE"))
    telegram_token: str | None = Field(None, validation_alias=_env("TELEGRAM_TOKEN"))
    telegram_webhook_secret: str | None = Field(
        None, validation_alias=_env("TELEGRAM_WEBHOOK_SECRET")
    )
    telegram_api_base: str = Field(
        "https://api.telegram.org", validation_alias=_env("TELEGRAM_API_BASE")
    )
    staff_token: str | None = Field(None, validation_alias=_env("STAFF_TOKEN"))
    timezone: str = Field("Europe/Paris", validation_alias=_env("TIMEZONE"))
    quiet_hours: str = Field("20:00-08:00", validation_alias=_env("QUIET_HOURS"))
    sms_two_way: bool = Field(True, validation_alias=_env("SMS_TWO_WAY"))
    test_database_url: str | None = Field(None, validation_alias=_env("TEST_DATABASE_URL"))
    conversation_timeout: str = Field("30m", validation_alias=_env("CONVERSATION_TIMEOUT"))
    cancel_cutoff_hours: float = Field(2, ge=0, validation_alias=_env("CANCEL_CUTOFF_HOURS"))
    no_show_policy: Literal["return", "consume"] = Field(
        "return", validation_alias=_env("NO_SHOW_POLICY")
    )
    sms_price_eur: float = Field(0.07, ge=0, validation_alias=_env("SMS_PRICE_EUR"))
    broadcast_approval_threshold: int = Field(
        500, ge=1, validation_alias=_env("BROADCAST_APPROVAL_THRESHOLD")
    )
    sms_daily_cap: int = Field(5000, ge=0, validation_alias=_env("SMS_DAILY_CAP"))
    retention_days: int = Field(180, ge=1, validation_alias=_env("RETENTION_DAYS"))
    staff_token_ttl_days: int = Field(90, ge=1, validation_alias=_env("STAFF_TOKEN_TTL_DAYS"))
    # people may choose reminders by phone call (placed from PASSNUM_TWILIO_FROM, a number)
    voice_reminders: bool = Field(False, validation_alias=_env("VOICE_REMINDERS"))

    @field_validator("staff_token")
    @classmethod
    def _strong_staff_token(cls, value: str | None) -> str | None:
        """The bootstrap token opens the whole staff API: refuse what can be guessed."""
        if value is None or value == "":
            return None
        problem = weak_secret(value)
        if problem:
            raise ValueError(
                f"{problem}; generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    # Key of the hashes that stand for unknown phone numbers and chats in the audit log. Unset:
    # a random key per process (names then match only within one run); set it to follow one
    # address across restarts and workers. Never stored in the database.
    pseudonym_secret: str = Field(
        default_factory=lambda: secrets.token_hex(32), validation_alias=_env("PSEUDONYM_SECRET")
    )

    sms_allowed_regions: str = Field(
        "FR,GP,MQ,GF,RE,YT", validation_alias=_env("SMS_ALLOWED_REGIONS")
    )

    @field_validator("database_url", "test_database_url")
    @classmethod
    def _valid_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value is None else value
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError(
                f"'{value}' is not a database URL (try sqlite:///passnum.db "
                "or postgresql+psycopg://user@host/db)"
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone name like Europe/Paris") from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _valid_quiet_hours(cls, value: str) -> str:
        match = _QUIET.match(value)
        if not match or int(match.group(1)) > 23 or int(match.group(3)) > 23:
            raise ValueError(f"'{value}' is not a time range like 20:00-08:00")
        return value

    @field_validator("sms_allowed_regions")
    @classmethod
    def _valid_regions(cls, value: str) -> str:
        codes = _region_codes(value)
        unknown = sorted(codes - phonenumbers.SUPPORTED_REGIONS)
        if unknown or not codes:
            raise ValueError(
                f"'{value}' is not a comma-separated list of region codes like FR,GP,RE"
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        return value

    @field_validator("conversation_timeout")
    @classmethod
    def _valid_timeout(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def conversation_timeout_delta(self) -> timedelta:
        return parse_duration(self.conversation_timeout)

    @property
    def quiet_window(self) -> tuple[time, time]:
        match = _QUIET.match(self.quiet_hours)
        assert match is not None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return time(h1, m1), time(h2, m2)

    @property
    def sms_regions(self) -> frozenset[str]:
        """The phonenumbers region codes we may register and send SMS to."""
        return _region_codes(self.sms_allowed_regions)

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)


def _region_codes(text: str) -> frozenset[str]:
    return frozenset(code.strip().upper() for code in text.split(",") if code.strip())


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and `.env`; raise SettingsError with one line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            name = "PASSNUM_" + field.upper() if not field.startswith("PASSNUM_") else field
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise SettingsError("; ".join(problems)) from None
