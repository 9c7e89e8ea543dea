"""Helpers for the cache tests: a real ``redis-server`` the test owns, and a backend plugin that fails on demand.

``RedisServer`` runs the machine's ``redis-server`` binary on a free port in a temporary directory
(no persistence), so a test can kill it, pause it with SIGSTOP and restart it on the same port.
``SwitchableBackend`` is a small *plugin-side* CacheBackend (a real implementation over a dict) whose
``broken`` switch makes every call raise, the way a cache plugin fails when its server is gone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REDIS_URL = "redis://127.0.0.1:6379/0"


def unique_namespace(label: str = "t") -> str:
    return f"hcai-test-{label}-{uuid.uuid4().hex[:12]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A ``redis-server`` process on 127.0.0.1:``port`` that the test controls."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        password: str | None = None,
        unixsocket: bool = False,
        tls: bool = False,
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.password = password
        self.unixsocket = str(workdir / "redis.sock") if unixsocket else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.paused = False
        self.tls_cert: str | None = None
        if tls:
            self.tls_cert = str(workdir / "cert.pem")
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-keyout",
                    str(workdir / "key.pem"),
                    "-out",
                    self.tls_cert,
                    "-days",
                    "1",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                ],
                check=True,
                capture_output=True,
            )

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        scheme = "rediss" if self.tls_cert else "redis"
        return f"{scheme}://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 5.0) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
            "--enable-debug-command",
            "local",
        ]
        if self.password:
            args += ["--requirepass", self.password]
        if self.unixsocket:
            args += ["--unixsocket", self.unixsocket, "--unixsocketperm", "700"]
        if self.tls_cert:
            args[1:3] = ["--port", "0", "--tls-port", str(self.port)]
            args += [
                "--tls-cert-file",
                self.tls_cert,
                "--tls-key-file",
                str(self.workdir / "key.pem"),
                "--tls-ca-cert-file",
                self.tls_cert,
                "--tls-auth-clients",
                "no",
            ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    if self.tls_cert:
                        return self
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64):
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: the server vanishes without closing anything (what a crash looks like)."""
        if self.proc is not None:
            if self.paused:
                self.resume()
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None

    def pause(self) -> None:
        """SIGSTOP: connections stay open, nothing answers (a hung or swapping server)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def restart(self) -> None:
        self.kill()
        self.start()

    def client(self) -> Any:
        import redis

        extra = {"ssl_ca_certs": self.tls_cert} if self.tls_cert else {}
        return redis.Redis.from_url(self.url, socket_timeout=2, **extra)

    def command_calls(self, command: str) -> int:
        """How many times ``command`` ran on this server (INFO commandstats), for round-trip counting."""
        stats = self.client().info("commandstats")
        return int(stats.get(f"cmdstat_{command.lower()}", {}).get("calls", 0))

    def stop(self) -> None:
        self.kill()


class SwitchableBackend:
    """A real CacheBackend over a dict (no TTL handling needed here) that raises while ``broken``."""

    name = "switchable"

    def __init__(self, error: str = "connection refused to redis://cacheuser:hunter2@10.0.0.5:6379/0") -> None:
        self.data: dict[str, bytes] = {}
        self.broken = False
        self.error = error
        self.calls: dict[str, int] = {}
        self.ping_gate: threading.Event | None = None  # when set, ping blocks until the event is set
        self._lock = threading.Lock()

    def _enter(self, op: str) -> None:
        with self._lock:
            self.calls[op] = self.calls.get(op, 0) + 1
        if self.broken:
            raise ConnectionError(self.error)

    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        self._enter("get_many")
        return [self.data.get(k) for k in keys]

    def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        self._enter("set_many")
        for key, value, ttl in items:
            if ttl > 0:
                self.data[key] = value

    def delete(self, key: str) -> bool:
        self._enter("delete")
        return self.data.pop(key, None) is not None

    def clear(self) -> int:
        self._enter("clear")
        n = len(self.data)
        self.data.clear()
        return n

    def stats(self) -> dict[str, Any]:
        self._enter("stats")
        return {"size": len(self.data)}

    def ping(self) -> bool:
        if self.ping_gate is not None:
            self.ping_gate.wait(10)
        self._enter("ping")
        return True

    def close(self) -> None:
        pass


class FakeClock:
    """A clock the test moves by hand (TTL and cool-down tests without sleeping)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
