"""The built-in ``memory`` cache backend, registered like any plugin's (a plugin may replace it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from hotcrm_ai.descriptors import CacheBackendSpec
from hotcrm_ai.hookspecs import hookimpl
from hotcrm_ai.options import at_least


@attrs.frozen
class MemoryOptions:
    """The memory backend's bounds: entries (the manager passes ``[cache] max_entries``), total
    bytes and bytes per value."""

    max_entries: int = attrs.field(default=10_000, validator=at_least(1))
    max_bytes: int = attrs.field(default=256 * 1024 * 1024, validator=at_least(1))
    max_value_bytes: int = attrs.field(default=1024 * 1024, validator=at_least(1))


def memory_backend(options: Mapping[str, Any]) -> Any:
    """The factory: ``MemoryOptions`` from the ``[cache]`` table (keys for other parts are not ours)."""
    from hotcrm_ai.cache.memory import MemoryBackend

    return MemoryBackend.from_options(options)


@hookimpl
def register_cache_backends(register: Callable[[Any], None]) -> None:
    register(
        CacheBackendSpec(
            name="memory",
            factory=memory_backend,
            options=MemoryOptions,
            description="In-process LRU with TTL, bounded by entries and bytes (not shared between processes)",
        )
    )
