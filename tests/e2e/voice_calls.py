"""Phone calls to the real app on loopback: signed Twilio Voice webhooks, the TwiML answers
read back as what is said and how the call listens, and call transcripts.

A call transcript (tests/e2e/calls/*.txt):

    # caller: +33612345678          headers: the caller's number (the demo's Aïcha)
    > [call]                        the call begins
    < Bonjour Aïcha. Que voulez-vous faire ?     one line per <Say> (language when not French)
    ~ keys                          how it listens: keys (one key), entry (keys then #),
                                    record, hangup
    > 1                             keys pressed ("*", "#", "0001")
    > "Échirolles"                  words spoken (Twilio's SpeechResult)
    > [record https://…]            a recorded message
    > [silence]                     no answer

The app runs at a fixed moment (demo data loaded then), so the words said stay the same.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import uvicorn
from twilio.request_validator import RequestValidator

from bot.fakes.servers import FakeTwilio
from bot.server import create_app
from config import load_settings
from storage.db import create_db_engine, unit_of_work
from storage.demo import load_demo
from tests.e2e.conftest import AUTH_TOKEN, PUBLIC_URL

FIXED_NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)  # a Monday, 9:00 in Paris
_SIDS = itertools.count(1)


@dataclass
class Heard:
    """One TwiML answer: what is said, how the call listens, where the answer goes."""

    said: list[tuple[str, str]]
    listen: str
    action: str | None
    redirect: str | None
    language: str | None = None

    def lines(self) -> list[str]:
        out = []
        for text, language in self.said:
            tag = "" if language == "fr-FR" else f" [{language}]"
            out.append(f"< {text}{tag}")
        return [*out, f"~ {self.listen}"]

    @property
    def words(self) -> int:
        return sum(len(re.findall(r"[\w'’-]+", text)) for text, _ in self.said)


def read_twiml(text: str) -> Heard:
    root = ET.fromstring(text)
    said: list[tuple[str, str]] = []
    listen, action, redirect, language = "hangup", None, None, None
    for element in root:
        if element.tag == "Say":
            said.append((element.text or "", element.get("language", "")))
        elif element.tag == "Gather":
            said += [(s.text or "", s.get("language", "")) for s in element if s.tag == "Say"]
            listen = "keys" if element.get("numDigits") == "1" else "entry"
            action, language = element.get("action"), element.get("language")
        elif element.tag == "Record":
            listen, action = "record", element.get("action")
        elif element.tag == "Redirect":
            redirect = element.text
        elif element.tag == "Hangup":
            listen = "hangup"
    return Heard(said, listen, action, redirect, language)


@dataclass
class VoiceApp:
    url: str
    twilio: FakeTwilio
    engine: object
    client: httpx.Client
    app: object
    settings: object = None

    def post(self, public_url: str, params: dict[str, str], signature: str | None = None):  # type: ignore[no-untyped-def]
        parts = urlsplit(public_url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        sign = (
            RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + target, params)
            if signature is None
            else signature
        )
        return self.client.post(target, data=params, headers={"X-Twilio-Signature": sign})


@dataclass
class Call:
    """One phone call: start it, then press keys, speak, record or stay silent."""

    app: VoiceApp
    caller: str
    sid: str = field(default_factory=lambda: f"CA{next(_SIDS):032x}")
    direction: str = "inbound"
    last: Heard | None = None
    answers: list[Heard] = field(default_factory=list)

    def params(self, **extra: str) -> dict[str, str]:
        ours = "+33700000000"
        inbound = self.direction == "inbound"
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller if inbound else ours,
            "To": ours if inbound else self.caller,
            "Direction": self.direction,
            "CallStatus": "in-progress",
            **extra,
        }

    def _answer(self, response: httpx.Response) -> Heard:
        assert response.status_code == 200, (response.status_code, response.text)
        assert response.headers["content-type"].startswith("text/xml")
        self.last = read_twiml(response.text)
        self.answers.append(self.last)
        return self.last

    def start(self) -> Heard:
        return self._answer(self.app.post(PUBLIC_URL + "/voice/twilio", self.params()))

    def follow(self, twiml: str) -> Heard:
        """A reminder call we placed: Twilio says its TwiML first."""
        self.direction = "outbound-api"
        self.last = read_twiml(twiml)
        self.answers.append(self.last)
        return self.last

    def send(self, **fields: str) -> Heard:
        assert self.last is not None and self.last.action, "the call is not listening"
        return self._answer(self.app.post(self.last.action, self.params(**fields)))

    def press(self, digits: str) -> Heard:
        return self.send(Digits=digits)

    def say(self, words: str) -> Heard:
        return self.send(SpeechResult=words, Confidence="0.9")

    def record(self, url: str) -> Heard:
        return self.send(RecordingUrl=url, RecordingDuration="12", Digits="#")

    def silence(self) -> Heard:
        assert self.last is not None and self.last.redirect
        return self._answer(self.app.post(self.last.redirect, self.params()))

    def act(self, line: str) -> Heard:
        """One transcript input line (without "> ")."""
        if line == "[call]":
            return self.start()
        if line == "[silence]":
            return self.silence()
        if line.startswith("[record "):
            return self.record(line[len("[record ") : -1])
        if line.startswith('"') and line.endswith('"'):
            return self.say(line[1:-1])
        return self.press(line)


@contextlib.contextmanager
def voice_app(database_url: str, **overrides: object) -> Iterator[VoiceApp]:
    """The app on a loopback port at FIXED_NOW, with the fake Twilio recording calls."""
    with FakeTwilio() as twilio:
        settings = load_settings(
            database_url=database_url,
            public_url=PUBLIC_URL,
            twilio_account_sid="AC" + "0" * 32,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from="+33700000000",
            twilio_api_base=twilio.url,
            **overrides,
        )
        engine = create_db_engine(database_url)
        with unit_of_work(engine) as session:
            load_demo(session, now=FIXED_NOW)
            session.commit()
        app = create_app(settings, engine=engine, run_scheduler=False)
        app.state.services.assistant.clock = lambda: FIXED_NOW
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            yield VoiceApp(f"http://127.0.0.1:{port}", twilio, engine, client, app, settings)
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def replay_call(app: VoiceApp, path: Path) -> tuple[list[str], list[str], list[Heard]]:
    """The file's lines, the lines the app produces now, and every answer heard."""
    expected = path.read_text(encoding="utf-8").splitlines()
    headers = dict(
        line[2:].split(":", 1) for line in expected if line.startswith("# ") and ":" in line
    )
    call = Call(app, headers.get("caller", "+33612345678").strip())
    actual: list[str] = []
    for line in expected:
        if line.startswith(("<", "~")):
            continue
        actual.append(line)
        if line.startswith("> "):
            if line[2:] == "[call]" and call.answers:
                call = Call(app, call.caller)  # a second call from the same phone
            actual += call.act(line[2:]).lines()
    return expected, actual, call.answers
