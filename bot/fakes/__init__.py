"""Loopback fakes of Twilio and Telegram for tests, benchmarks and the demo."""
