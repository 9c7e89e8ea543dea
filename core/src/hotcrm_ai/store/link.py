"""The link to the store shared by the registry and the writer: connect once, say so once when it
cannot, and run the on-connect steps (publish models, load the registry) whenever it comes back."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from hotcrm_ai.errors import StoreUnavailableError

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import Store

log = logging.getLogger("hotcrm_ai.store")


class StoreLink:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.ready = False
        self._lock = threading.Lock()
        self._on_connect: list[Callable[[], None]] = []
        self._warned = False

    def on_connect(self, step: Callable[[], None]) -> None:
        self._on_connect.append(step)

    def ensure(self) -> None:
        """Connect (and check the schema) unless connected; raises ``StoreUnavailableError``."""
        if self.ready:
            return
        with self._lock:
            if self.ready:
                return
            try:
                self.store.open()
                for step in self._on_connect:
                    step()
            except StoreUnavailableError as exc:
                if not self._warned:
                    self._warned = True
                    log.warning(
                        "%s; serving plugin and config models with the in-memory monitor, "
                        "reconnecting in the background",
                        exc,
                    )
                raise
            if self._warned:
                log.warning("store %s reachable again: registry and monitor use it", self.store.url)
            self.ready = True

    def lost(self) -> None:
        """A call failed with the connection: the next ``ensure`` reconnects and re-syncs."""
        self.ready = False
