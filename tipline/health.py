"""``/metrics``, ``/healthz`` and ``/readyz`` for every process, and the intake's drain switch.

Contract:

    GET /metrics   this process's Prometheus registry (text format)
    GET /healthz   200 while the process runs (liveness: restart it if this fails)
    GET /readyz    200 {"ready": true, ...} when every dependency answers within a second,
                   else 503 with the failing checks named (readiness: send it no traffic)

The web intake and the review app mount these in front of their own app (``OpsMiddleware``);
the worker and the pollers, which have no web server, run ``OpsServer`` on TIPLINE_OPS_PORT.

A check returns ``None`` when fine, else a short reason. Checks must be cheap: the broker check
sends one ApiVersions request and waits at most ``timeout_s`` for the answer (a stopped broker
still accepts TCP connections from the kernel's backlog, so connecting proves nothing); the
database check runs ``SELECT 1`` with libpq's connect timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tipline.core.metrics import HTTP_REFUSED

log = logging.getLogger(__name__)

Check = Callable[[], str | None]
_CACHE_S = 1.0
RETRY_AFTER_S = 30  # what a refused sender is told while the pipeline stops or restarts


def broker_check(bootstrap: str, timeout_s: float = 1.0) -> Check:
    """A check that one of ``bootstrap``'s brokers answers an ApiVersions request in time."""
    hosts = [h.rsplit(":", 1) for h in bootstrap.split(",") if h]

    def check() -> str | None:
        for host, port in hosts:
            if _api_versions(host, int(port), timeout_s):
                return None
        return "broker did not answer"

    return check


def _api_versions(host: str, port: int, timeout_s: float) -> bool:
    # ApiVersions v0 (api key 18): the one request every Kafka broker answers before anything.
    client = b"tipline-readyz"
    body = struct.pack(">hhih", 18, 0, 1, len(client)) + client
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(struct.pack(">i", len(body)) + body)
            head = sock.recv(8)
    except OSError:
        return False
    if len(head) < 8:
        return False
    _, correlation = struct.unpack(">ii", head)
    return bool(correlation == 1)


def database_check(url: str, timeout_s: int = 2) -> Check:
    """A check that PostgreSQL answers ``SELECT 1`` (libpq's shortest connect timeout is 2 s)."""
    import psycopg

    def check() -> str | None:
        try:
            with psycopg.connect(url, connect_timeout=timeout_s, autocommit=True) as conn:
                conn.execute("SET statement_timeout = '2s'")
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return f"database unavailable: {type(exc).__name__}"
        return None

    return check


class Readiness:
    """Runs the checks (cached for a second, so a busy scraper cannot hammer the services)."""

    def __init__(self, checks: Mapping[str, Check]) -> None:
        self._checks = dict(checks)
        self._lock = threading.Lock()
        self._at = 0.0
        self._last: dict[str, str | None] = {}

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    def results(self) -> dict[str, str | None]:
        with self._lock:
            if time.monotonic() - self._at > _CACHE_S:
                self._last = {name: _run(check) for name, check in self._checks.items()}
                self._at = time.monotonic()
            return dict(self._last)

    def body(self) -> tuple[int, bytes]:
        results = self.results()
        ready = all(v is None for v in results.values())
        payload = {"ready": ready, "checks": {k: v or "ok" for k, v in results.items()}}
        return (200 if ready else 503), json.dumps(payload).encode()


def _run(check: Check) -> str | None:
    try:
        return check()
    except Exception as exc:  # a broken check means "not ready", never a crashed endpoint
        return f"check failed: {type(exc).__name__}"


class Drain:
    """The intake's switch: once set (SIGUSR1 from `tipline run`), new requests get 503."""

    def __init__(self) -> None:
        self.draining = False

    def install(self, signum: int = signal.SIGUSR1) -> None:
        def on_signal(*_: object) -> None:
            if not self.draining:
                log.info("draining: new requests are refused with 503 until the stop")
            self.draining = True

        signal.signal(signum, on_signal)


ASGIApp = Callable[
    [dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]
_OPS_PATHS = frozenset({"/metrics", "/readyz", "/healthz"})


class OpsMiddleware:
    """ASGI: serves /metrics and /readyz, refuses work with 503 while draining, counts refusals.

    ``/healthz`` stays the wrapped app's own (liveness is the app answering at all).
    """

    def __init__(
        self, app: ASGIApp, service: str, readiness: Readiness, drain: Drain | None = None
    ) -> None:
        self.app = app
        self.service = service
        self.readiness = readiness
        self.drain = drain or Drain()

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path == "/metrics":
            await _respond(send, 200, generate_latest(), CONTENT_TYPE_LATEST)
            return
        if path == "/readyz":
            status, body = await asyncio.to_thread(self.readiness.body)
            if self.drain.draining:
                status, body = 503, b'{"ready": false, "checks": {"draining": "stopping"}}'
            await _respond(send, status, body, "application/json")
            return
        if self.drain.draining and path not in _OPS_PATHS:
            HTTP_REFUSED.labels(self.service, "503").inc()
            body = b'{"detail": "tipline is restarting: nothing was accepted, try again shortly"}'
            await _respond(
                send, 503, body, "application/json", [(b"retry-after", str(RETRY_AFTER_S).encode())]
            )
            return

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] in (413, 429, 503):
                HTTP_REFUSED.labels(self.service, str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counting_send)


async def _respond(
    send: Callable[[Any], Awaitable[None]],
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class OpsServer:
    """The three endpoints on their own port, for processes without a web server."""

    def __init__(self, host: str, port: int, readiness: Readiness) -> None:
        handler = _handler(readiness)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ops-http", daemon=True
        )

    def start(self) -> OpsServer:
        self._thread.start()
        log.info("ops endpoints on http://%s:%d (/metrics /healthz /readyz)", *self.address)
        return self

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(readiness: Readiness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                self._send(200, b'{"status": "ok"}', "application/json")
            elif self.path == "/readyz":
                self._send(*readiness.body(), "application/json")
            else:
                self._send(404, b'{"detail": "not found"}', "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes every few seconds would drown the log

    return Handler
