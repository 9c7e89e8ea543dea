"""Running the server: check keys and the bind address, then one worker in this process or several
worker processes sharing one listening socket (gRPC shares its port through SO_REUSEPORT).

Shutdown on SIGTERM is graceful: readiness turns false, new requests get 503 (gRPC: new calls are
refused), requests in flight finish within ``[server] graceful_timeout_s``."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import multiprocessing
import os
import signal
import socket
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import attrs

from hotcrm_ai.config import load_settings
from hotcrm_ai.errors import ConfigError
from hotcrm_ai_server.auth import KeyRing
from hotcrm_ai_server.settings import server_settings

log = logging.getLogger("hotcrm_ai_server")


@attrs.frozen
class WorkerSpec:
    """What a worker needs, picklable (settings are re-read in each worker: secrets never pickle)."""

    config: str | None
    host: str
    port: int
    grpc_port: int
    log_level: str = "info"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(keyring: KeyRing, host: str, insecure: bool) -> None:
    if keyring.enabled:
        return
    if not is_loopback(host) and not insecure:
        raise ConfigError(
            f"--host {host}: no [server] api_keys are configured, so the server only binds to loopback; "
            "configure keys or pass --insecure to serve everyone on the network"
        )
    log.warning(
        "no [server] api_keys configured: every caller is anonymous%s",
        "" if is_loopback(host) else " (--insecure: reachable from the network)",
    )


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")


def run_worker(spec: WorkerSpec, sock: socket.socket | None = None) -> None:
    """One worker: the REST app on uvicorn and the gRPC server, over one ``AICloud``."""
    import uvicorn

    from hotcrm_ai.cloud import AICloud
    from hotcrm_ai_server.grpc_service import start_grpc
    from hotcrm_ai_server.rest import build_app
    from hotcrm_ai_server.state import ServerState

    _configure_logging(spec.log_level)
    settings = load_settings(spec.config)
    server_cfg = server_settings(settings.server)
    state = ServerState(lambda: AICloud(settings), server_cfg, KeyRing(server_cfg.api_keys))
    grpc_box: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(server_cfg.threads, "hotcrm-ai-rest"))
        state.load_in_background()
        if spec.grpc_port:
            grpc_box["server"] = start_grpc(state, spec.host, spec.grpc_port)
        yield
        stopped = grpc_box.get("stopped")
        if "server" in grpc_box and stopped is None:
            stopped = grpc_box["server"].stop(server_cfg.graceful_timeout_s)
        if stopped is not None:
            await asyncio.get_running_loop().run_in_executor(None, stopped.wait, server_cfg.graceful_timeout_s + 1)
        state.close()

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            if not state.draining:
                log.info("shutting down: finishing requests in flight, refusing new ones")
                state.drain()
                if "server" in grpc_box:
                    grpc_box["stopped"] = grpc_box["server"].stop(server_cfg.graceful_timeout_s)
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        build_app(state, lifespan=lifespan),
        host=spec.host,
        port=spec.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(server_cfg.graceful_timeout_s),
        timeout_keep_alive=30,
    )
    Server(config).run(sockets=[sock] if sock is not None else None)


def serve(spec: WorkerSpec, *, workers: int = 1, insecure: bool = False) -> None:
    _configure_logging(spec.log_level)
    settings = load_settings(spec.config)
    check_bind(KeyRing(server_settings(settings.server).api_keys), spec.host, insecure)
    log.info(
        "serving REST on http://%s:%d%s",
        spec.host,
        spec.port,
        f" and gRPC on {spec.host}:{spec.grpc_port}" if spec.grpc_port else "",
    )
    if workers <= 1:
        run_worker(spec)
        return
    family = socket.AF_INET6 if ":" in spec.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((spec.host, spec.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=run_worker, args=(spec, sock), name=f"hotcrm-ai-worker-{i}") for i in range(workers)]
    for p in procs:
        p.start()

    def forward(signum: int, frame: Any) -> None:
        for p in procs:
            if p.pid is not None and p.is_alive():
                os.kill(p.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for p in procs:
        p.join()
    sock.close()
