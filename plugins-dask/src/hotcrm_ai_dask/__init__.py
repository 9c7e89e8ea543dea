"""hotcrm-ai-dask: the ``dask`` engine, scoring Parquet datasets on a dask.distributed cluster.

Registration is a descriptor only; dask.distributed is imported when the engine is first used."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hotcrm_ai.descriptors import EngineSpec
from hotcrm_ai.hookspecs import hookimpl


def _factory(options: Mapping[str, Any]) -> Any:
    from hotcrm_ai_dask.engine import dask_engine

    return dask_engine(options)


@hookimpl
def register_engines(register: Callable[[EngineSpec], None]) -> None:
    register(
        EngineSpec(
            name="dask",
            factory=_factory,
            description="Scores Parquet row groups on a dask.distributed cluster (--scheduler).",
        )
    )
