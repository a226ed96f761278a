"""Local fake Twilio REST and Telegram Bot API servers: real HTTP on 127.0.0.1, recording what
they receive. Used by the end-to-end tests and by `passnum bench`; never by production code.

    with FakeTwilio() as twilio:          # twilio.url -> PASSNUM_TWILIO_API_BASE
        ...; twilio.sent  -> [{"To": "+336…", "Body": "…", …}]; twilio.sids -> {"SM…": {…}}
        # GET …/Messages.json?To=+336… lists what it accepted, newest first, like Twilio
        ...; twilio.calls -> [{"To": "+336…", "Twiml": "<Response>…", …}] (reminder calls)
    with FakeTelegram() as telegram:      # telegram.url -> PASSNUM_TELEGRAM_API_BASE
        ...; telegram.calls("sendMessage") -> [{"chat_id": 42, "text": "…", …}]
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlparse

__all__ = ["FakeTelegram", "FakeTwilio", "serve_fast_twilio"]


class _Threaded(ThreadingHTTPServer):
    request_queue_size = 256  # the default backlog of 5 refuses a burst of parallel sends


class _Server:
    """A threaded loopback HTTP server whose subclass answers `handle(method, path, body)`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[tuple[int, dict[str, Any], dict[str, str]]] = []  # queued answers
        self.successes_before_failure = 0  # requests answered normally before the next failure
        self.delay = 0.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # headers and body leave in two writes: without this, Nagle's algorithm and
                # the client's delayed ACK add 40 ms to every answer on a kept-alive connection
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                kind = self.headers.get("Content-Type", "")
                self._respond(*owner.answer(urlparse(self.path).path, raw, kind))

            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                self._respond(*owner.answer_get(url.path, _fields(url.query, "form")))

            def _respond(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = _Threaded(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(
        self,
        status: int,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        *,
        after: int = 0,
    ) -> None:
        """The next request (or the one after `after` successes) gets this answer instead of
        a success."""
        with self.lock:
            self.failures.append((status, body or {}, headers or {}))
            self.successes_before_failure = after

    def answer(self, path: str, raw: str, kind: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.delay:
            time.sleep(self.delay)
        fields = _fields(raw, kind)
        with self.lock:
            if self.failures and self.successes_before_failure > 0:
                self.successes_before_failure -= 1
            elif self.failures:
                return self.failures.pop(0)
            self.requests.append((path, fields))
        return self.handle(path, fields)

    def answer_get(
        self, path: str, query: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """A GET: by default answered like a POST without a body."""
        return self.answer(path, "", "")

    def handle(
        self, path: str, fields: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        raise NotImplementedError

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _fields(raw: str, kind: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in kind:
        return dict(json.loads(raw))
    return {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}


class FakeTwilio(_Server):
    """Answers `POST /2010-04-01/Accounts/{sid}/Messages.json` like Twilio does, and the GET of
    that list (filtered by `To`, newest first). `clock` stamps `date_created` (tests that map
    wall time onto another day give theirs)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._sids = itertools.count(1)
        self.sids: dict[str, dict[str, Any]] = {}  # message sid -> the fields it was sent with
        self.clock = clock
        self.accepted: list[dict[str, Any]] = []  # the message resources, oldest first

    @property
    def sent(self) -> list[dict[str, Any]]:
        with self.lock:
            return [fields for path, fields in self.requests if path.endswith("/Messages.json")]

    @property
    def calls(self) -> list[dict[str, Any]]:
        """The calls placed (`To`, `From`, `Twiml`…), in order."""
        with self.lock:
            return [fields for path, fields in self.requests if path.endswith("/Calls.json")]

    def handle(
        self, path: str, fields: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if path.endswith("/Calls.json"):
            return self._call(path, fields)
        if not path.endswith("/Messages.json"):
            return 404, {"code": 20404, "message": "not found", "status": 404}, {}
        sid = f"SM{next(self._sids):032x}"
        with self.lock:
            self.sids[sid] = fields
        account = path.split("/")[3]
        resource = {
            "sid": sid,
            "account_sid": account,
            "to": fields.get("To"),
            "from": fields.get("From"),
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "body": fields.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": formatdate(self.clock(), usegmt=True),
            "uri": f"{path[:-5]}/{sid}.json",
        }
        with self.lock:
            self.accepted.append(resource)
        return 201, resource, {}

    def answer_get(
        self, path: str, query: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not path.endswith("/Messages.json"):
            return super().answer_get(path, query)
        with self.lock:
            found = [m for m in reversed(self.accepted) if m["to"] == query.get("To", m["to"])]
        size = int(query.get("PageSize") or 50)
        page = {"messages": found[:size], "page": 0, "page_size": size, "start": 0}
        return 200, {**page, "uri": path, "first_page_uri": path, "next_page_uri": None}, {}

    def _call(
        self, path: str, fields: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        sid = f"CA{next(self._sids):032x}"
        with self.lock:
            self.sids[sid] = fields
        return (
            201,
            {
                "sid": sid,
                "account_sid": path.split("/")[3],
                "to": fields.get("To"),
                "from": fields.get("From"),
                "status": "queued",
                "direction": "outbound-api",
                "uri": f"{path[:-5]}/{sid}.json",
            },
            {},
        )


class FakeTelegram(_Server):
    """Answers the Bot API methods the product uses: getMe, sendMessage, setWebhook, …"""

    def __init__(self) -> None:
        super().__init__()
        self._message_ids = itertools.count(1)
        self.blocked_chats: set[int] = set()
        # handed out by getUpdates (polling) until a later call's offset confirms them
        self.pending_updates: list[dict[str, Any]] = []
        self.confirmed_offset = 0  # the highest offset a getUpdates call has asked from

    def calls(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [fields for path, fields in self.requests if path.endswith("/" + method)]

    def handle(
        self, path: str, fields: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        method = path.rsplit("/", 1)[-1]
        if method == "getMe":
            return (
                200,
                {
                    "ok": True,
                    "result": {
                        "id": 999,
                        "is_bot": True,
                        "first_name": "passnum",
                        "username": "passnum_bot",
                    },
                },
                {},
            )
        if method == "sendMessage":
            return self._send_message(fields)
        if method == "getUpdates":
            updates = self._get_updates(fields)
            if not updates:
                time.sleep(0.05)  # a short long-poll
            return 200, {"ok": True, "result": updates}, {}
        return 200, {"ok": True, "result": True}, {}

    def _get_updates(self, fields: dict[str, Any]) -> list[dict[str, Any]]:
        """Like Telegram: an offset confirms (forgets) every update below it."""
        offset = fields.get("offset")
        with self.lock:
            if offset is not None:
                self.confirmed_offset = max(self.confirmed_offset, int(offset))
            self.pending_updates = [
                update
                for update in self.pending_updates
                if not isinstance(update.get("update_id"), int)
                or update["update_id"] >= self.confirmed_offset
            ]
            return list(self.pending_updates)

    def _send_message(self, fields: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        chat_id = int(fields.get("chat_id", 0))
        if chat_id in self.blocked_chats:
            return (
                403,
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
                {},
            )
        result = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "text": fields.get("text", ""),
        }
        return 200, {"ok": True, "result": result}, {}


class _FastTwilioProtocol(asyncio.Protocol):
    """One keep-alive connection of `serve_fast_twilio`: HTTP/1.1 requests parsed by hand (a
    request line, headers, a Content-Length body), answered at once with TCP_NODELAY. It
    counts each message and remembers its form (To and Body) to count duplicates."""

    def __init__(self, stats: dict[str, Any]) -> None:
        self.stats = stats
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower() + b"\r\n"
            at = head.find(b"\r\ncontent-length:")
            length = int(head[at + 17 : head.find(b"\r\n", at + 2)]) if at >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, path = head[: head.find(b"\r\n")].split(b" ")[:2]
            self._answer(method, path, body)

    def _answer(self, method: bytes, path: bytes, body: bytes) -> None:
        stats = self.stats
        if method == b"post" and path.endswith(b"/messages.json"):
            stats["messages"] += 1
            stats["bodies"].add(body)  # To and Body: the same twice is a duplicate SMS
            payload = b'{"sid": "SM%032x", "status": "queued"}' % stats["messages"]
            status = b"201 Created"
        elif method == b"get" and path == b"/stats":
            counts = {"messages": stats["messages"], "distinct": len(stats["bodies"])}
            payload, status = json.dumps(counts).encode(), b"200 OK"
        elif method == b"post" and path == b"/reset":
            stats["messages"], stats["bodies"] = 0, set()
            payload, status = b"{}", b"200 OK"
        else:
            payload = b'{"code": 20404, "message": "not found", "status": 404}'
            status = b"404 Not Found"
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (status, len(payload), payload)
        )


async def serve_fast_twilio(port: int = 0, ready: Callable[[int], None] | None = None) -> None:
    """A fake Twilio Messages endpoint for benchmarks, meant to run in its own process (`python
    -m bot.fakes.servers`): every POST …/Messages.json is accepted at once (201 + a sid);
    `GET /stats` says how many were received and how many distinct bodies; `POST /reset`
    forgets them. No Messages list, no failures: the tests use FakeTwilio."""
    stats: dict[str, Any] = {"messages": 0, "bodies": set()}
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _FastTwilioProtocol(stats), "127.0.0.1", port)
    bound = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready(bound)
    async with server:
        await server.serve_forever()


def _main() -> None:
    """`python -m bot.fakes.servers [PORT]`: the fast fake Twilio; prints its port, then serves."""
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    run: Callable[[Any], None] = asyncio.run
    try:
        import uvloop

        run = uvloop.run
    except ImportError:  # uvloop comes with uvicorn[standard]; plain asyncio also works
        pass
    run(serve_fast_twilio(port, ready=lambda bound: print(bound, flush=True)))


if __name__ == "__main__":
    _main()
