"""Built-in ``memory`` monitor sink: the bounded in-process event store the monitor queries.

Its bound is ``[monitor] max_events_per_model`` (the monitor applies it), so it takes no options.
If ``[monitor] sinks`` leaves it out, the monitor keeps a private one anyway: stats always work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from hotcrm_ai.descriptors import MonitorSinkSpec
from hotcrm_ai.hookspecs import hookimpl


@attrs.frozen
class MemorySinkOptions:
    """None: the memory sink's bound is ``[monitor] max_events_per_model``."""


def memory_sink(options: Mapping[str, Any]) -> Any:
    from hotcrm_ai.monitor.store import EventStore
    from hotcrm_ai.options import parse_options

    parse_options(MemorySinkOptions, options, section="monitor.sink_options.memory")

    return EventStore()


@hookimpl
def register_monitor_sinks(register: Callable[[Any], None]) -> None:
    register(
        MonitorSinkSpec(
            name="memory",
            factory=memory_sink,
            options=MemorySinkOptions,
            description="In-process ring buffer of events per model; what stats, health and recent errors read.",
        )
    )
