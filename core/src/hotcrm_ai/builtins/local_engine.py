"""Built-in ``local`` scoring engine: chunks on a thread pool in this process (see hotcrm_ai.scoring)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hotcrm_ai.descriptors import EngineSpec
from hotcrm_ai.hookspecs import hookimpl


def _factory(options: Mapping[str, Any]) -> Any:
    from hotcrm_ai.scoring.local import local_engine

    return local_engine(options)


@hookimpl
def register_engines(register: Callable[[EngineSpec], None]) -> None:
    from hotcrm_ai.scoring.local import LocalOptions

    register(
        EngineSpec(
            name="local",
            factory=_factory,
            options=LocalOptions,
            description="Scores chunks on a thread pool in this process; memory bounded by chunk size.",
        )
    )
