"""A real ``hotcrm-ai serve`` subprocess on free loopback ports, for the server tests and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hotcrm_ai_command() -> list[str]:
    exe = Path(sys.executable).with_name("hotcrm-ai")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "hotcrm_ai.cli.main"]


class ServerProcess:
    """Starts the server, waits until ``/v2/health/ready`` answers 200, stops it with SIGTERM."""

    def __init__(
        self, config: Path | None, env: dict[str, str] | None = None, *, workers: int = 1, extra: tuple[str, ...] = ()
    ) -> None:
        self.port, self.grpc_port = free_port(), free_port()
        self.config = config
        self.env = {**os.environ, **(env or {})}
        self.workers = workers
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self, log_path: Path, *, timeout: float = 60.0) -> ServerProcess:
        self.log_path = log_path
        args = [
            *hotcrm_ai_command(),
            "serve",
            "--port",
            str(self.port),
            "--grpc-port",
            str(self.grpc_port),
            "--workers",
            str(self.workers),
            *self.extra,
        ]
        if self.config is not None:
            args += ["--config", str(self.config)]
        self.proc = subprocess.Popen(args, env=self.env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"http://{self.url}/v2/health/ready", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)
