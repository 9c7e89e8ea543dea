"""Engines: how a whole file or dataset is scored. ``local`` (built in) scores chunks on a thread pool
in this process; plugins add others (``dask`` in hotcrm-ai-dask) through ``register_engines``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from hotcrm_ai.cloud import AICloud

Progress = Callable[[int], None]  # called with the rows just finished


@attrs.frozen
class ScoreJob:
    """One scoring run: a model, an input path, an output path and how to cut the work."""

    model_id: str
    input: str
    output: str
    input_format: str  # parquet | csv | jsonl
    output_format: str
    chunk_rows: int = 65_536
    context: Mapping[str, Any] = attrs.field(factory=dict)
    keep: tuple[str, ...] = ()
    config_path: str | None = None  # the configuration every worker builds its AICloud from


@attrs.frozen
class ScoreSummary:
    rows: int
    failed: int
    elapsed_s: float
    engine: str
    output: str

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "failed": self.failed,
            "elapsed_s": round(self.elapsed_s, 3),
            "rows_per_s": round(self.rows_per_s),
            "engine": self.engine,
            "output": self.output,
        }


@runtime_checkable
class Engine(Protocol):
    """Built by ``EngineSpec.factory(options)``; ``run`` writes ``job.output`` atomically (complete or not
    at all) and returns the summary. ``cloud`` is the caller's, built from ``job.config_path``."""

    name: str

    def run(self, cloud: AICloud, job: ScoreJob, progress: Progress | None = None) -> ScoreSummary: ...
