"""Settings: the SPEC's variables, `.env` support, one readable line per mistake."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from config import SettingsError, load_settings
from config.settings import parse_duration


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in list(__import__("os").environ):
        if name.startswith(("PASSNUM_", "TWILIO_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_the_spec_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///passnum.db"
    assert settings.public_url == "http://localhost:8000"
    assert settings.timezone == "Europe/Paris"
    assert settings.quiet_hours == "20:00-08:00"
    assert settings.conversation_timeout_delta == timedelta(minutes=30)
    assert (settings.cancel_cutoff_hours, settings.no_show_policy) == (2, "return")
    assert (settings.sms_price_eur, settings.broadcast_approval_threshold) == (0.07, 500)
    assert (settings.sms_daily_cap, settings.retention_days, settings.sms_two_way) == (
        5000,
        180,
        True,
    )
    assert settings.twilio_configured is False
    assert settings.sms_regions == {"FR", "GP", "MQ", "GF", "RE", "YT"}


def test_twilio_credentials_also_come_from_twilios_own_names(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")
    monkeypatch.setenv("PASSNUM_TWILIO_FROM", "MG123")
    settings = load_settings()
    assert (settings.twilio_account_sid, settings.twilio_auth_token) == ("AC123", "secret")
    assert settings.twilio_configured


def test_a_dotenv_file_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("PASSNUM_SMS_TWO_WAY=false\nPASSNUM_QUIET_HOURS=21:00-07:30\n")
    settings = load_settings()
    assert settings.sms_two_way is False
    assert [t.isoformat() for t in settings.quiet_window] == ["21:00:00", "07:30:00"]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "PASSNUM_DATABASE_URL",
            "not a url",
            "PASSNUM_DATABASE_URL: 'not a url' is not a database URL",
        ),
        ("PASSNUM_TIMEZONE", "Mars/Olympus", "PASSNUM_TIMEZONE: 'Mars/Olympus' is not a time zone"),
        ("PASSNUM_QUIET_HOURS", "8pm-8am", "PASSNUM_QUIET_HOURS: '8pm-8am' is not a time range"),
        (
            "PASSNUM_CONVERSATION_TIMEOUT",
            "soon",
            "PASSNUM_CONVERSATION_TIMEOUT: 'soon' is not a duration",
        ),
        ("PASSNUM_NO_SHOW_POLICY", "forgive", "PASSNUM_NO_SHOW_POLICY:"),
        ("PASSNUM_SMS_ALLOWED_REGIONS", "FR,XX", "PASSNUM_SMS_ALLOWED_REGIONS: 'FR,XX' is not"),
    ],
)
def test_a_wrong_value_is_one_readable_line(monkeypatch, variable, value, expected) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as problem:
        load_settings()
    assert str(problem.value).startswith(expected)
    assert "\n" not in str(problem.value)


def test_the_command_line_says_it_in_one_line_without_a_traceback(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PASSNUM_TIMEZONE", "Nowhere/Land")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "PASSNUM_TIMEZONE" in result.stderr


@pytest.mark.parametrize(("text", "minutes"), [("30m", 30), ("2h", 120), ("45", 45), ("1d", 1440)])
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)
