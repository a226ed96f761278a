"""`passnum serve` as a real process with Telegram pointed at a local fake, and ways to take
its database away without touching the shared PostgreSQL server: a TCP proxy in front of it
that can be cut, or (SQLite) another connection holding the write lock."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bot.fakes.servers import FakeTelegram
from tests.e2e.conftest import PUBLIC_URL, TELEGRAM_SECRET, _free_port

WEBHOOK = "/telegram/webhook"
SECRET_HEADER = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}


def telegram_env(database_url: str, telegram: FakeTelegram, *, webhook: bool = True) -> dict:
    return {
        **os.environ,
        "PASSNUM_DATABASE_URL": database_url,
        "PASSNUM_PUBLIC_URL": PUBLIC_URL if webhook else "http://localhost:8000",
        "PASSNUM_TELEGRAM_TOKEN": "123456:TEST-TOKEN",
        "PASSNUM_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "PASSNUM_TELEGRAM_API_BASE": telegram.url,
        "PASSNUM_TWILIO_ACCOUNT_SID": "",
        "PASSNUM_TWILIO_AUTH_TOKEN": "",
    }


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start `passnum serve` and wait until it answers /healthz (its log: PASSNUM_TEST_LOG)."""
    port = _free_port()
    log = os.environ.get("PASSNUM_TEST_LOG")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "ab") if log else subprocess.DEVNULL,  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


class TcpProxy:
    """Forwards a local port to the database server; `cut()` is an outage, `restore()` ends it."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = _free_port()
        self.connections: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.lock = threading.Lock()

    def restore(self) -> None:
        if self.listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        with self.lock:
            listener, self.listener = self.listener, None
            connections, self.connections = self.connections, []
        if listener is not None:
            with contextlib.suppress(OSError):  # shutdown wakes the thread blocked in accept()
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self.lock:
                if self.listener is not listener:  # cut meanwhile
                    client.close()
                    return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.close()


class Outage:
    """Makes the database unreachable for a running server, then brings it back.

    PostgreSQL: the server connects through a TcpProxy, which is cut. SQLite: another
    connection holds the write lock longer than the server's busy timeout (10 s)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        url = make_url(database_url)
        self.sqlite = url.get_backend_name() == "sqlite"
        self.proxy: TcpProxy | None = None
        self.server_url = database_url
        self.holder: sqlite3.Connection | None = None
        if not self.sqlite:
            self.proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
            self.proxy.restore()
            self.server_url = url.set(host="127.0.0.1", port=self.proxy.port).render_as_string(
                hide_password=False
            )

    def begin(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
        else:
            path = make_url(self.database_url).database
            self.holder = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.holder.execute("BEGIN IMMEDIATE")

    def end(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
        elif self.holder is not None:
            self.holder.execute("ROLLBACK")
            self.holder.close()
            self.holder = None

    def close(self) -> None:
        self.end()
        if self.proxy is not None:
            self.proxy.cut()
