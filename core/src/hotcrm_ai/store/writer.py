"""The background writer: prediction events go to the store in batches, off the request path.

``put`` only appends to a bounded in-memory queue (a lock, a length check, an append); a thread takes
up to ``batch_size`` items at a time and writes them in one transaction. When the store is slow or
down the batch is retried with capped exponential back-off (that retry *is* the reconnect), the
queue fills, and past its bound new events are dropped and counted per model. The counts are written
with the next batch that gets through, so ``stats`` and ``health`` in every process show them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from hotcrm_ai.errors import StoreError, StoreUnavailableError

log = logging.getLogger("hotcrm_ai.store")

WriteBatch = Callable[[Sequence[Any], dict[str, int]], None]


class BackgroundWriter:
    """A bounded queue and one daemon thread. ``on_idle`` runs between batches (registry refresh)."""

    def __init__(
        self,
        write: WriteBatch,
        *,
        queue_size: int = 50_000,
        batch_size: int = 500,
        flush_interval_s: float = 0.2,
        reconnect_s: float = 2.0,
        on_idle: Callable[[], None] | None = None,
        idle_every_s: float = 2.0,
        name: str = "hotcrm-ai-store-writer",
    ) -> None:
        self._write = write
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.reconnect_s = reconnect_s
        self._on_idle = on_idle
        self._idle_every_s = idle_every_s
        self._items: deque[tuple[str, Any]] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._pending = 0  # queued + being written
        self._drops: dict[str, int] = {}
        self._drops_written: dict[str, int] = {}
        self.high_water = 0
        self.written = 0
        self.failures = 0
        self.connected = False
        self.process_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- producer side (request path) ---------------------------------------------------------

    def put(self, model_id: str, item: Any) -> bool:
        """Queue ``item``; False (and counted as a drop for ``model_id``) when the queue is full."""
        with self._cond:
            size = len(self._items)
            if size >= self.queue_size or self._stop:
                self._drops[model_id] = self._drops.get(model_id, 0) + 1
                return False
            self._items.append((model_id, item))
            self._pending += 1
            if size + 1 > self.high_water:
                self.high_water = size + 1
            if size + 1 >= self.batch_size:
                self._cond.notify()
        return True

    @property
    def dropped(self) -> int:
        with self._cond:
            return sum(self._drops.values())

    def drops(self) -> dict[str, int]:
        with self._cond:
            return dict(self._drops)

    def unwritten_drops(self, model_id: str) -> int:
        """Drops of ``model_id`` not yet written to the store (written ones are counted there)."""
        with self._cond:
            return self._drops.get(model_id, 0) - self._drops_written.get(model_id, 0)

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._items)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (up to ``timeout``; briefly when the store is known to be down), then
        stop the thread. Events that cannot be written by then are lost with the process."""
        self.flush(timeout if self.connected or not self.failures else min(timeout, 0.5))
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=1.0)

    # -- the thread ---------------------------------------------------------------------------

    def _take(self) -> list[tuple[str, Any]]:
        with self._cond:
            if not self._items and not self._stop:
                self._cond.wait(self.flush_interval_s)
            n = min(len(self._items), self.batch_size)
            return [self._items.popleft() for _ in range(n)]

    def _run(self) -> None:
        last_idle = 0.0
        backoff = 0.05
        batch: list[tuple[str, Any]] = []
        while True:
            if not batch:
                batch = self._take()
                with self._cond:
                    if self._stop and not batch:
                        return
            drops = self.drops()
            if batch or drops != self._drops_written:
                try:
                    self._write([item for _, item in batch], drops)
                except Exception as exc:
                    if isinstance(exc, StoreError) and not isinstance(exc, StoreUnavailableError):
                        self._discard(batch, exc)  # retrying cannot help (bad data): counted as drops
                        batch = []
                        continue
                    if not self._wait_to_retry(exc, batch, backoff):
                        return
                    backoff = min(backoff * 2, self.reconnect_s)
                    continue
                if not self.connected and self.failures:
                    log.warning("store writer: store reachable again; writing resumed")
                self.connected = True
                backoff = 0.05
                self._drops_written = drops
                self.written += len(batch)
                self._release(len(batch))
                batch = []
            now = time.monotonic()
            if self._on_idle is not None and now - last_idle >= self._idle_every_s:
                last_idle = now
                try:
                    self._on_idle()
                except Exception as exc:  # the registry refresh must never stop the writer
                    log.debug("store refresh failed: %s", exc)

    def _discard(self, batch: list[tuple[str, Any]], exc: BaseException) -> None:
        log.warning("store writer: batch of %d events dropped: %s", len(batch), exc)
        with self._cond:
            for model_id, _ in batch:
                self._drops[model_id] = self._drops.get(model_id, 0) + 1
        self._release(len(batch))

    def _wait_to_retry(self, exc: BaseException, batch: list[tuple[str, Any]], backoff: float) -> bool:
        """Back off before retrying the batch (the reconnect); False when closing (batch given up)."""
        self.failures += 1
        if self.connected or self.failures == 1:
            log.warning("store writer: %s; retrying in the background", exc)
        self.connected = False
        with self._cond:
            if self._stop:
                self._pending -= len(batch)
                self._cond.notify_all()
                return False
            self._cond.wait(backoff)
        return True

    def _release(self, n: int) -> None:
        with self._cond:
            self._pending -= n
            self._cond.notify_all()
