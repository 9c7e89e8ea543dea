"""A real dask.distributed cluster on loopback for tests and benchmarks: a scheduler and N worker
processes, each its own OS process (so a test can kill one), stopped on exit."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import attrs


@attrs.define
class LocalCluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_cluster(workers: int = 2, *, threads: int = 1, timeout_s: float = 60.0) -> Iterator[LocalCluster]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        **quiet,
    )  # type: ignore[call-overload]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                str(threads),
                "--no-nanny",
                "--no-dashboard",
                "--memory-limit",
                "0",
            ],
            **quiet,
        )  # type: ignore[call-overload]
        for _ in range(workers)
    ]
    cluster = LocalCluster(address=address, scheduler=scheduler, workers=procs)
    try:
        _wait_for_workers(address, workers, timeout_s)
        yield cluster
    finally:
        for proc in [*procs, scheduler]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*procs, scheduler]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_workers(address: str, n: int, timeout_s: float) -> None:
    from distributed import Client

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with Client(address, timeout="5s") as client:
                client.wait_for_workers(n, timeout=max(1.0, deadline - time.monotonic()))
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
