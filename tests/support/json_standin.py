"""What the wire-level stand-ins of JSON HTTP APIs (OpenAI, Anthropic) share: the recorded request,
a scripted action queue per path, the threaded loopback server and its lifecycle. Each stand-in
subclasses ``JSONStandIn`` and answers in ``_respond``; the vendor's own behaviour stays in its module.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    time: float
    status: int = 0

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    @property
    def key(self) -> str | None:
        """The API key sent, as ``x-api-key`` or else a bearer token."""
        return self.headers.get("x-api-key", self.bearer)


@dataclass
class Action:
    """A scripted answer for the next request to a path."""

    kind: str  # "fail" | "delay" | "reply"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    reply: Any = None  # the vendor's reply content (a tool input, a message text...)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes; no 40 ms delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self, method: str) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        record = Recorded(
            method, self.path.split("?")[0], {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()
        )
        owner._record(record)
        with owner._lock:
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            status, payload, headers = owner._respond(record)
        finally:
            with owner._lock:
                owner.in_flight -= 1
        record.status = status
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header(owner.request_id_header, f"{owner.request_id_prefix}{owner._next_id()}")
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: JSONStandIn

    def handle_error(self, request: Any, client_address: Any) -> None:  # client hung up mid-reply
        pass


class JSONStandIn:
    """A loopback JSON API server with scripted actions per path; start it with ``with`` or ``start()``."""

    name: ClassVar[str] = "standin"  # the server thread's name
    request_id_header: ClassVar[str] = "x-request-id"
    request_id_prefix: ClassVar[str] = "req_"

    def __init__(self) -> None:
        self.latency = 0.0  # seconds added to every answer (a remote API's round trip, for benchmarks)
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests the server was answering at once
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._actions: dict[str, collections.deque[Action]] = collections.defaultdict(collections.deque)
        self._ids = 0
        self._server: _Server | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name=self.name
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    def reset(self) -> None:
        with self._lock:
            self._actions.clear()
            self.requests.clear()
            self.max_in_flight = 0

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- internals -----------------------------------------------------------------------------------

    def _respond(self, req: Recorded) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def _push(self, path: str, action: Action) -> None:
        with self._lock:
            self._actions[path].append(action)

    def _pop(self, path: str) -> Action | None:
        with self._lock:
            queue = self._actions.get(path)
            return queue.popleft() if queue else None

    def _next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def _record(self, record: Recorded) -> None:
        with self._lock:
            self.requests.append(record)
