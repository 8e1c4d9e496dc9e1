"""A fault-injecting HTTP proxy in front of either emulator (or any HTTP API).

The collection is pointed at the proxy (``NORTHFLANK_API_BASE_URL`` / ``HEROKU_API_URL``); the proxy forwards each
request to the emulator, unless its fault plan says otherwise. It lives outside the emulators on purpose: it tests the
collection's clients against what a real network and a real API do, whatever the emulator's own knobs are.

Faults (``FAULTS``), chosen per request by a seeded plan or queued for a matching request:

- ``500``, ``502``, ``503``: an error answer; the request never reached the server;
- ``429``: rate limited, with the API's real headers (Northflank ``x-ratelimit-*`` and ``Retry-After``, Heroku
  ``RateLimit-Remaining``); the request never reached the server;
- ``reset-before``: the connection is reset (RST) before the request reached the server;
- ``reset-after``: the server acted, then the connection is reset: the client gets no answer;
- ``504-after``: the server acted, then a gateway timeout is answered;
- ``slow``: the server acted, and its answer is held ``slow_seconds`` (longer than the client's timeout).

The proxy also counts the writes that reached the server and can call ``on_write(n, entry)`` after each, before the
client
gets its answer: the interruption tests kill the playbook there. After ``killed()`` it forwards nothing and records
every
request that still arrives (``late``): after a kill, none may.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional
from urllib.parse import urlsplit

BEFORE = ("500", "502", "503", "429", "reset-before")  # the server never sees the request
AFTER = ("reset-after", "504-after", "slow")  # the server acted; the client does not learn it
FAULTS = BEFORE + AFTER
WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
        "host",
        "content-length",
    )
)


class FaultPlan:
    """Which fault (or None) hits a request. Deterministic from the seed: the choice depends on the request's method,
    path and how many times that method and path were seen before, not on timing or on how hosts interleave.

    ``queue`` entries ``{"match": regex on "METHOD /path", "fault": kind, "times": n}`` fire first."""

    def __init__(self, seed: int = 0, rate: float = 0.0, faults=FAULTS, queue=()):
        self.seed = seed
        self.rate = rate
        self.faults = tuple(faults)
        self.queue = [dict(item, times=item.get("times", 1)) for item in queue]
        self.seen: dict = {}

    def decide(self, method: str, path: str) -> Optional[str]:
        line = f"{method} {path}"
        for item in self.queue:
            if item["times"] > 0 and re.search(item["match"], line):
                item["times"] -= 1
                return item["fault"]
        n = self.seen[line] = self.seen.get(line, 0) + 1
        if not self.rate or not self.faults:
            return None
        rng = random.Random(f"{self.seed}:{line}:{n}")
        return rng.choice(self.faults) if rng.random() < self.rate else None


class FaultProxy:
    """``FaultProxy(upstream_url, api="northflank"|"heroku", plan=FaultPlan(...))``; ``start()``, ``url``,
    ``stop()``."""

    def __init__(
        self, upstream: str, api: str = "northflank", plan: Optional[FaultPlan] = None, slow_seconds: float = 4.0
    ):
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.upstream_prefix = parts.path.rstrip("/")
        self.api = api
        self.plan = plan or FaultPlan()
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.log: list = []  # one entry per request received
        self.late: list = []  # requests received after killed()
        self.writes = 0  # writes forwarded to the server
        self.on_write: Optional[Callable[[int, dict], None]] = None
        self._killed = False
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.upstream_prefix}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def killed(self) -> None:
        """From now on, forward nothing: every request that still arrives is recorded in ``late`` and reset."""
        with self.lock:
            self._killed = True

    def reset_plan(self, plan: Optional[FaultPlan] = None) -> None:
        with self.lock:
            self.plan = plan or FaultPlan()
            self._killed = False
            self.on_write = None

    def faults_fired(self) -> list:
        return [e for e in self.log if e.get("fault")]

    # -- what a fault answers -----------------------------------------------------------------------
    def error_body(self, status: int, message: str, error_id: str) -> dict:
        if self.api == "heroku":
            return {"id": error_id, "message": message}
        return {"error": {"status": status, "message": message, "id": error_id}}

    def rate_limited(self) -> tuple:
        """A 429 as each API sends it (the window resets in a second, so a client's wait costs ~2 s)."""
        if self.api == "heroku":
            headers = {"RateLimit-Remaining": "0"}
            body = self.error_body(
                429,
                "Your account reached the API rate limit. Please wait a few minutes before making new requests",
                "rate_limit",
            )
        else:
            headers = {
                "x-ratelimit-limit": "1000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": "1",
                "Retry-After": "1",
            }
            body = self.error_body(429, "Rate limit exceeded; retry in 1 seconds", "rate_limit")
        return 429, headers, body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    proxy: FaultProxy

    def log_message(self, format, *args):  # noqa: A002 - keep stderr quiet
        pass

    def _serve(self):
        proxy = self.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        entry = {"method": self.command, "path": path, "time": time.time(), "fault": None, "forwarded": False}
        try:
            name = json.loads(body).get("name") if body else None
        except (ValueError, AttributeError):
            name = None
        entry["name"] = name if isinstance(name, str) else None
        with proxy.lock:
            if proxy._killed:
                proxy.late.append(entry)
                proxy.log.append(entry)
                return self._reset()
            fault = proxy.plan.decide(self.command, path)
            entry["fault"] = fault
            proxy.log.append(entry)
        if fault == "reset-before":
            return self._reset()
        if fault == "429":
            return self._send(*proxy.rate_limited())
        if fault in ("500", "502", "503"):
            status = int(fault)
            return self._send(status, {}, proxy.error_body(status, f"Injected fault {status}", "server_error"))
        status, headers, payload = self._forward(body)
        entry.update(forwarded=True, status=status)
        if self.command in WRITE_METHODS:
            with proxy.lock:
                proxy.writes += 1
                n, hook = proxy.writes, proxy.on_write
            if hook:
                hook(n, entry)  # may kill the client; then the answer is never sent
            with proxy.lock:
                if proxy._killed:
                    return self._reset()
        if fault == "reset-after":
            return self._reset()
        if fault == "504-after":
            return self._send(504, {}, proxy.error_body(504, "Injected gateway timeout", "gateway_timeout"))
        if fault == "slow":
            time.sleep(proxy.slow_seconds)
        try:
            self._send_raw(status, headers, payload)
        except OSError:  # the client gave up waiting
            self.close_connection = True

    def _forward(self, body: bytes):
        proxy = self.proxy
        conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            return resp.status, [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP], payload
        finally:
            conn.close()

    def _reset(self):
        """Close with RST (SO_LINGER 0): the client sees ``Connection reset by peer``."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def _send(self, status: int, headers: dict, body: dict):
        self._send_raw(status, [("Content-Type", "application/json"), *headers.items()], json.dumps(body).encode())

    def _send_raw(self, status: int, headers, payload: bytes):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve
