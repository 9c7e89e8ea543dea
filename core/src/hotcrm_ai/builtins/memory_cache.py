"""The built-in ``memory`` cache backend, registered like any plugin's (a plugin may replace it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hotcrm_ai.descriptors import CacheBackendSpec
from hotcrm_ai.hookspecs import hookimpl


def memory_backend(options: Mapping[str, Any]) -> Any:
    """``max_entries`` (the manager passes ``[cache] max_entries``), ``max_bytes``, ``max_value_bytes``."""
    from hotcrm_ai.cache.memory import MemoryBackend

    return MemoryBackend.from_options(options)


@hookimpl
def register_cache_backends(register: Callable[[Any], None]) -> None:
    register(
        CacheBackendSpec(
            name="memory",
            factory=memory_backend,
            description="In-process LRU with TTL, bounded by entries and bytes (not shared between processes)",
        )
    )
