"""The HTTP machinery both API emulators share.

An emulator is a real HTTP server on 127.0.0.1. It owns a router, a state dict (persisted to
``--state-file`` after every change), a request log, and knobs for latency and fault injection.
API-specific behaviour (auth, envelopes, rate-limit headers, validation) lives in the subclass.

Admin endpoints live outside the API prefix, under ``/_admin``:

- ``GET /_admin/requests``: ``{"requests": [...], "counts": {"GET /v1/projects": 3, ...}, "writes": N}``
- ``DELETE /_admin/requests``: clear the log
- ``GET /_admin/state`` / ``PUT /_admin/state``: read or replace the whole state
- ``POST /_admin/faults``: ``{"queue": [{"fault": "500", "match": "GET /v1/projects", "times": 2}],
  "fault_rate": 0.0, "faults": ["500"], "seed": 1, "latency_ms": 0}``; queued faults fire first,
  in order, on the next requests whose ``METHOD path`` starts with ``match``
- ``POST /_admin/rate-limit``: API-specific (budget, window or refill), see the subclass
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import struct
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl, unquote, urlsplit

FAULTS = ("500", "502", "503", "504", "429", "reset", "timeout")
WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


class Request:
    def __init__(self, method: str, target: str, headers: dict, body: bytes):
        parts = urlsplit(target)
        self.method = method.upper()
        self.path = parts.path
        self.raw_query = parts.query
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.params: dict = {}

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


class Response:
    def __init__(self, status: int = 200, body: Any = None, headers: Optional[dict] = None,
                 raw: Optional[bytes] = None, content_type: str = "application/json"):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.raw = raw
        self.content_type = content_type

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


class HttpError(Exception):
    """Raised by handlers; the subclass turns it into the API's own error body."""

    def __init__(self, status: int, message: str, error_id: Optional[str] = None, details: Any = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_id = error_id
        self.details = details


Handler = Callable[[Request], Response]


class Emulator:
    """Router, state, request log and fault knobs. Subclasses register routes in ``setup()``."""

    name = "emulator"
    api_prefix = "/v1"

    def __init__(self, token: str = "demo-token", state_file: Optional[str] = None,
                 latency_ms: int = 0, fault_rate: float = 0.0, faults: tuple = (), seed: int = 0,
                 fault_timeout_s: float = 5.0):
        self.token = token
        self.state_file = state_file
        self.lock = threading.RLock()
        self.routes: list = []
        self.log: list = []
        self.latency_ms = latency_ms
        self.fault_rate = fault_rate
        self.faults = tuple(faults)
        self.rng = random.Random(seed)
        self.fault_queue: list = []
        self.fault_timeout_s = fault_timeout_s
        self.state: dict = self.initial_state()
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as fh:
                self.state = json.load(fh)
        self.setup()

    # -- subclass hooks -------------------------------------------------------------------
    def initial_state(self) -> dict:
        return {}

    def setup(self) -> None:
        """Register routes with ``self.route(method, template, handler)``."""

    def authenticate(self, req: Request) -> Optional[Response]:
        return None

    def before(self, req: Request) -> Optional[Response]:
        """Rate limiting and request validation; a Response short-circuits the handler."""
        return None

    def after(self, req: Request, resp: Response) -> None:
        """Add headers (rate limits) and validate responses."""

    def error_response(self, err: HttpError) -> Response:
        return Response(err.status, {"error": {"status": err.status, "message": err.message}})

    def admin(self, req: Request) -> Optional[Response]:
        """Extra admin routes of the subclass."""
        return None

    # -- routing --------------------------------------------------------------------------
    def route(self, method: str, template: str, handler: Handler) -> None:
        parts = re.split(r"(\{[^}]+\})", template)
        rx = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
        self.routes.append((method.upper(), template, re.compile("^" + rx + "/?$"), handler))
        # literal segments win over placeholders (/services/build before /services/{id})
        self.routes.sort(key=lambda r: (r[1].count("{"), -len(r[1])))

    def find(self, req: Request):
        allowed = []
        for method, template, rx, handler in self.routes:
            m = rx.match(req.path)
            if not m:
                continue
            if method == req.method:
                req.params = {k: unquote(v) for k, v in m.groupdict().items()}
                return template, handler
            allowed.append(method)
        return None, allowed

    def served_routes(self) -> list:
        return sorted((m, t) for m, t, _rx, _h in self.routes)

    # -- state ----------------------------------------------------------------------------
    def save(self) -> None:
        if not self.state_file:
            return
        directory = os.path.dirname(os.path.abspath(self.state_file))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".state-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.state, fh, indent=2, sort_keys=True)
        os.replace(tmp, self.state_file)

    # -- dispatch -------------------------------------------------------------------------
    def next_fault(self, req: Request) -> Optional[str]:
        for i, item in enumerate(self.fault_queue):
            if req.line.startswith(item.get("match", "")):
                item["times"] = item.get("times", 1) - 1
                if item["times"] <= 0:
                    self.fault_queue.pop(i)
                return str(item["fault"])
        if self.fault_rate and self.faults and self.rng.random() < self.fault_rate:
            return self.rng.choice(self.faults)
        return None

    def dispatch(self, req: Request) -> Response:
        if req.path.startswith("/_admin"):
            return self.handle_admin(req)
        with self.lock:
            entry = {"method": req.method, "path": req.path, "query": req.raw_query, "time": time.time()}
            self.log.append(entry)
            resp = self.authenticate(req) or self.before(req)
            template = None
            if resp is None:
                template, handler = self.find(req)
                if template is None:
                    resp = self.error_response(HttpError(
                        404 if not handler else 405,
                        f"No route for {req.method} {req.path}"
                        + (f" (allowed: {sorted(handler)})" if handler else "")))
                else:
                    try:
                        resp = handler(req)
                        if req.method in WRITE_METHODS and resp.status < 300:
                            self.save()
                    except HttpError as err:
                        resp = self.error_response(err)
            entry["route"] = f"{req.method} {template}" if template else None
            entry["status"] = resp.status
            self.after(req, resp)
            return resp

    def handle_admin(self, req: Request) -> Response:
        with self.lock:
            if req.path == "/_admin/requests" and req.method == "GET":
                counts: dict = {}
                for e in self.log:
                    key = e.get("route") or f"{e['method']} {e['path']}"
                    counts[key] = counts.get(key, 0) + 1
                writes = sum(1 for e in self.log if e["method"] in WRITE_METHODS)
                return Response(200, {"requests": self.log, "counts": counts, "total": len(self.log), "writes": writes})
            if req.path == "/_admin/requests" and req.method == "DELETE":
                self.log.clear()
                return Response(200, {})
            if req.path == "/_admin/state" and req.method == "GET":
                return Response(200, self.state)
            if req.path == "/_admin/state" and req.method == "PUT":
                self.state = req.json()
                self.save()
                return Response(200, {})
            if req.path == "/_admin/faults" and req.method == "POST":
                body = req.json() or {}
                self.fault_queue = list(body.get("queue", []))
                self.fault_rate = float(body.get("fault_rate", 0.0))
                self.faults = tuple(body.get("faults", ()))
                self.rng = random.Random(body.get("seed", 0))
                self.latency_ms = int(body.get("latency_ms", self.latency_ms))
                return Response(200, {})
            if req.path == "/_admin/routes" and req.method == "GET":
                return Response(200, {"routes": [list(r) for r in self.served_routes()]})
            resp = self.admin(req)
            return resp if resp is not None else Response(404, {"error": "unknown admin route"})


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, each keep-alive request waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    emulator: Emulator  # set on the per-server subclass

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        pass

    def _serve(self):
        emu = self.emulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(self.command, self.path, dict(self.headers), body)
        if not req.path.startswith("/_admin"):
            if emu.latency_ms:
                time.sleep(emu.latency_ms / 1000.0)
            with emu.lock:
                fault = emu.next_fault(req)
            if fault:
                with emu.lock:
                    emu.log.append(
                        {
                            "method": req.method,
                            "path": req.path,
                            "query": req.raw_query,
                            "time": time.time(),
                            "route": None,
                            "status": f"fault:{fault}",
                        }
                    )
                if self._fault(fault, req):
                    return
        resp = emu.dispatch(req)
        self._send(resp)

    def _fault(self, fault: str, req: Request) -> bool:
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return True
        if fault == "timeout":
            time.sleep(self.emulator.fault_timeout_s)
            self.close_connection = True
            return True
        status = int(fault)
        if status == 429:
            resp = self.emulator.rate_limited_response(req)  # type: ignore[attr-defined]
        else:
            resp = self.emulator.error_response(HttpError(status, f"Injected fault {status}"))
        self._send(resp)
        return True

    def _send(self, resp: Response):
        payload = resp.payload()
        self.send_response(resp.status)
        if payload or resp.raw is None:
            self.send_header("Content-Type", resp.content_type)
        for k, v in resp.headers.items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


def serve(emulator: Emulator, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    handler = type("BoundHandler", (_RequestHandler,), {"emulator": emulator})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="demo-token", help="the one bearer token accepted")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail")
    parser.add_argument("--faults", default="", help=f"comma-separated, from {','.join(FAULTS)}")
    parser.add_argument("--seed", type=int, default=0)


def run(emulator: Emulator, port: int) -> None:
    server = serve(emulator, port)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()
