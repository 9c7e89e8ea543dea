"""Built-in ``memory`` monitor sink: the bounded in-process event store the monitor queries.

Its bound is ``[monitor] max_events_per_model`` (the monitor applies it), so it takes no options.
If ``[monitor] sinks`` leaves it out, the monitor keeps a private one anyway: stats always work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hotcrm_ai.descriptors import MonitorSinkSpec
from hotcrm_ai.hookspecs import hookimpl


def memory_sink(options: Mapping[str, Any]) -> Any:
    if options:
        from hotcrm_ai.errors import ConfigError

        raise ConfigError(
            f"[monitor.sink_options.memory]: unknown keys {', '.join(sorted(map(str, options)))}; "
            "the memory sink takes none (its bound is [monitor] max_events_per_model)"
        )
    from hotcrm_ai.monitor.store import EventStore

    return EventStore()


@hookimpl
def register_monitor_sinks(register: Callable[[Any], None]) -> None:
    register(
        MonitorSinkSpec(
            name="memory",
            factory=memory_sink,
            description="In-process ring buffer of events per model; what stats, health and recent errors read.",
        )
    )
