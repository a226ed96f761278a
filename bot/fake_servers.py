"""Local fake Twilio REST and Telegram Bot API servers: real HTTP on 127.0.0.1, recording what
they receive. Used by the end-to-end tests and by `passnum bench`; never by production code.

    with FakeTwilio() as twilio:          # twilio.url -> PASSNUM_TWILIO_API_BASE
        ...; twilio.sent  -> [{"To": "+336…", "Body": "…", …}]; twilio.sids -> {"SM…": {…}}
    with FakeTelegram() as telegram:      # telegram.url -> PASSNUM_TELEGRAM_API_BASE
        ...; telegram.calls("sendMessage") -> [{"chat_id": 42, "text": "…", …}]
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = ["FakeTelegram", "FakeTwilio"]


class _Server:
    """A threaded loopback HTTP server whose subclass answers `handle(method, path, body)`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[tuple[int, dict[str, Any], dict[str, str]]] = []  # queued answers
        self.delay = 0.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                kind = self.headers.get("Content-Type", "")
                status, body, headers = owner.answer(urlparse(self.path).path, raw, kind)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(
        self, status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """The next request gets this answer instead of a success."""
        with self.lock:
            self.failures.append((status, body or {}, headers or {}))

    def answer(self, path: str, raw: str, kind: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.delay:
            time.sleep(self.delay)
        fields = _fields(raw, kind)
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.requests.append((path, fields))
        return self.handle(path, fields)

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
    """Answers `POST /2010-04-01/Accounts/{sid}/Messages.json` like Twilio does."""

    def __init__(self) -> None:
        super().__init__()
        self._sids = itertools.count(1)
        self.sids: dict[str, dict[str, Any]] = {}  # message sid -> the fields it was sent with

    @property
    def sent(self) -> list[dict[str, Any]]:
        with self.lock:
            return [fields for path, fields in self.requests if path.endswith("/Messages.json")]

    def handle(
        self, path: str, fields: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not path.endswith("/Messages.json"):
            return 404, {"code": 20404, "message": "not found", "status": 404}, {}
        sid = f"SM{next(self._sids):032x}"
        with self.lock:
            self.sids[sid] = fields
        account = path.split("/")[3]
        return (
            201,
            {
                "sid": sid,
                "account_sid": account,
                "to": fields.get("To"),
                "from": fields.get("From"),
                "messaging_service_sid": fields.get("MessagingServiceSid"),
                "body": fields.get("Body"),
                "status": "queued",
                "num_segments": "1",
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
        self.pending_updates: list[dict[str, Any]] = []  # handed out by getUpdates (polling)

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
            with self.lock:
                updates, self.pending_updates = self.pending_updates, []
            if not updates:
                time.sleep(0.05)  # a short long-poll
            return 200, {"ok": True, "result": updates}, {}
        return 200, {"ok": True, "result": True}, {}

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
