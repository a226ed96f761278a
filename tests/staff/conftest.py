"""Staff tests reuse the end-to-end app (real app on loopback, fake Twilio and Telegram)."""

from tests.e2e.conftest import live_app  # noqa: F401  (a fixture, used by name)
