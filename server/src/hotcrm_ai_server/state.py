"""What one worker process serves: the data plane (once plugins and models are loaded), keys, limits
and metrics, shared by the REST app and the gRPC servicer."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from hotcrm_ai_server.auth import KeyRing, Principal
from hotcrm_ai_server.dataplane import DataPlane
from hotcrm_ai_server.errors import Unavailable
from hotcrm_ai_server.metrics import ServerMetrics
from hotcrm_ai_server.settings import ServerSettings

if TYPE_CHECKING:
    from hotcrm_ai.cloud import AICloud

log = logging.getLogger("hotcrm_ai_server")


class ServerState:
    """Starts not ready; ``load()`` builds the ``AICloud`` (plugins, models) and learns model outputs."""

    def __init__(self, build_cloud: Callable[[], AICloud], settings: ServerSettings, keyring: KeyRing) -> None:
        self.build_cloud = build_cloud
        self.settings = settings
        self.keyring = keyring
        self.metrics = ServerMetrics()
        self._plane: DataPlane | None = None
        self.draining = False
        self.load_error: BaseException | None = None

    def load(self) -> None:
        try:
            plane = DataPlane(self.build_cloud(), self.settings)
            plane.prepare()
        except BaseException as exc:
            self.load_error = exc
            log.error("server could not load: %s: %s", type(exc).__name__, exc)
            raise
        plane.draining = self.draining
        self._plane = plane
        self.metrics.ready.set(1)
        log.info("ready: %d models", len(plane.cloud.registry))

    def load_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self._load_quietly, name="hotcrm-ai-server-load", daemon=True)
        thread.start()
        return thread

    def _load_quietly(self) -> None:
        try:
            self.load()
        except BaseException:
            pass  # recorded in load_error; readiness stays false

    @property
    def ready(self) -> bool:
        return self._plane is not None and self._plane.ready

    def plane(self) -> DataPlane:
        if self._plane is None:
            raise Unavailable("server is starting: plugins and models are still loading")
        return self._plane

    def drain(self) -> None:
        """Shutdown began: readiness turns false and new requests get 503; in-flight ones finish."""
        self.draining = True
        self.metrics.ready.set(0)
        if self._plane is not None:
            self._plane.draining = True

    def authenticate(self, key: str | None) -> Principal:
        return self.keyring.authenticate(key)

    def close(self) -> None:
        if self._plane is not None:
            self._plane.cloud.close()
