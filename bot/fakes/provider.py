"""A loopback messaging gateway for tests and benchmarks: a real HTTP server on 127.0.0.1 that
records what it receives, and a Provider that posts to it with httpx, so the dispatcher is
exercised through real HTTP (timeouts, status codes, connection reuse) without Twilio.

    gateway = FakeGateway().start()
    gateway.script("429", "500")            # the next two requests fail, then all succeed
    provider = LoopbackProvider("sms", gateway.url)
    ... dispatch ...
    gateway.texts_to("+33612345678")        # what that phone received
    gateway.stop()

`GET /sent?to=…` lists what the gateway accepted for that address (the provider's lookup
after a crash: bot.outbox.reconcile).

Behaviours: "ok" (200 + id), "429" (Retry-After: `retry_after`), "500", "permanent" (400, code
21211), "optout" (400, code 21610: the recipient sent STOP), "timeout" (the message is
received, then the answer comes after the client gave up: the UNKNOWN case).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from bot.outbox.providers import Outcome, SendResult

__all__ = ["FakeGateway", "LoopbackProvider", "Received"]

_ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "429": (429, {"code": 20429, "message": "Too Many Requests"}),
    "500": (500, {"code": 20500, "message": "Internal Server Error"}),
    "permanent": (400, {"code": 21211, "message": "Invalid 'To' Phone Number"}),
    "optout": (400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}),
}


@dataclass(frozen=True)
class Received:
    """One message the gateway accepted. `{"to": "+336…", "text": "…", "id": "FAKE7"}`"""

    to: str
    text: str
    id: str
    at: float


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[Received] = field(default_factory=list)
    script: deque[str] = field(default_factory=deque)
    requests: int = 0
    latency: float = 0.0
    retry_after: float = 1.0
    hang: float = 3.0


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default backlog of 5 refuses a burst of parallel sends
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the "timeout" behaviour) is expected, not an error


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: benchmarks measure us, not TCP handshakes

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in two writes; without this, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            to = parse_qs(urlparse(self.path).query).get("to", [""])[0]
            with state.lock:
                found = [
                    {"id": r.id, "to": r.to, "text": r.text} for r in state.received if r.to == to
                ]
            self._answer(200, {"messages": found})

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.requests += 1
                behaviour = state.script.popleft() if state.script else "ok"
            if state.latency:
                time.sleep(state.latency)
            if behaviour in _ANSWERS:
                status, body = _ANSWERS[behaviour]
                return self._answer(status, body)
            with state.lock:
                item = Received(
                    payload["to"], payload["text"], f"FAKE{len(state.received) + 1}", time.time()
                )
                state.received.append(item)
            if behaviour == "timeout":
                time.sleep(state.hang)
            self._answer(200, {"id": item.id, "status": "queued"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", str(state.retry_after))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:  # quiet test output
            pass

    return Handler


class FakeGateway:
    """The loopback HTTP server; thread-safe; `latency` is per request (0 for benchmarks)."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.state = _State(latency=latency)
        self._server = _Server(("127.0.0.1", 0), _handler(self.state))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *behaviours: str) -> None:
        """The next requests get these answers in order; then "ok" again."""
        with self.state.lock:
            self.state.script.extend(behaviours)

    @property
    def received(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.received)

    @property
    def requests(self) -> int:
        return self.state.requests

    def texts_to(self, address: str) -> list[str]:
        return [item.text for item in self.received if item.to == address]


def _classify(response: httpx.Response) -> SendResult:
    if response.status_code == 200:
        return SendResult(Outcome.SENT, provider_id=response.json()["id"])
    body = response.json()
    error = f"{response.status_code} {body.get('code')}: {body.get('message')}"
    if response.status_code == 429 or response.status_code >= 500:
        retry = response.headers.get("Retry-After")
        return SendResult(
            Outcome.TEMPORARY, error=error, retry_after=float(retry) if retry else None
        )
    return SendResult(Outcome.PERMANENT, error=error, opted_out=body.get("code") == 21610)


class LoopbackProvider:
    """A Provider posting to a FakeGateway (or anything speaking its tiny JSON protocol)."""

    def __init__(self, channel: str, base_url: str, *, timeout: float = 2.0) -> None:
        self.channel = channel
        self.base_url = base_url
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def send(
        self, address: str, text: str, *, keyboard: list[list[str]] | None = None
    ) -> SendResult:
        if self._client is None:  # created inside the running loop that will use it
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout)
        try:
            response = await self._client.post("/send", json={"to": address, "text": text})
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return SendResult(Outcome.TEMPORARY, error=f"connection: {exc!r}")
        except httpx.TransportError as exc:  # sent, then no answer: it may have gone out
            return SendResult(Outcome.UNKNOWN, error=f"no answer: {type(exc).__name__}")
        return _classify(response)

    async def find_sent(self, address: str, text: str, *, since: datetime) -> str | None:
        """The gateway's id of `text` sent to `address` (its protocol has no time: `since`
        is not checked)."""
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout)
        response = await self._client.get("/sent", params={"to": address})
        response.raise_for_status()
        found = [m["id"] for m in response.json()["messages"] if m["text"] == text]
        return found[-1] if found else None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
