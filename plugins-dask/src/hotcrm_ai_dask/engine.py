"""The ``dask`` engine: one task per Parquet row-group range, scored by the workers' own ``AICloud``,
each writing one part file of the output dataset; the dataset appears (renamed into place) only when
every task has finished.

Dask reschedules the tasks of a worker that dies; a rescheduled task rewrites its part file whole,
so each input row is in the output exactly once. Workers read the input and write the output by
path: on a cluster, both must be on storage every worker sees.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from hotcrm_ai.errors import ConfigError, FieldError, HotCRMAIError, PredictionError, ValidationError
from hotcrm_ai.options import at_least, non_empty, parse_options
from hotcrm_ai.scoring.engine import Progress, ScoreJob, ScoreSummary

if TYPE_CHECKING:
    from hotcrm_ai.cloud import AICloud

ROWS_PER_TASK = 262_144  # row groups are packed into tasks of about this many rows


@attrs.frozen
class DaskEngine:
    scheduler: str
    name: str = "dask"
    retries: int = 2
    rows_per_task: int = ROWS_PER_TASK

    def run(self, cloud: AICloud, job: ScoreJob, progress: Progress | None = None) -> ScoreSummary:
        from distributed import Client, as_completed

        from hotcrm_ai.scoring.atomic import atomic_path
        from hotcrm_ai.scoring.table import check_chunk_rows
        from hotcrm_ai_dask.worker import CloudPlugin, plugin_name, score_piece

        check_chunk_rows(job.chunk_rows)
        if job.input_format != "parquet" or job.output_format != "parquet":
            raise ValidationError(
                [
                    FieldError(
                        "--input/--output",
                        "Parquet files or datasets for the dask engine",
                        f"{job.input_format} -> {job.output_format}",
                    )
                ],
                subject="score",
            )
        cloud.service._active(job.model_id)
        pieces = self.pieces(job.input)
        config = str(Path(job.config_path).resolve()) if job.config_path else None
        name = plugin_name(config)
        started = time.perf_counter()
        rows = failed = 0
        run_id = uuid.uuid4().hex[:12]
        with Client(self.scheduler, timeout="30s") as client, atomic_path(job.output, directory=True) as tmp:
            client.register_plugin(CloudPlugin(config), name=name)
            futures = [
                client.submit(
                    score_piece,
                    name,
                    job.model_id,
                    source,
                    groups,
                    str(tmp.resolve()),
                    i,
                    job.chunk_rows,
                    dict(job.context),
                    tuple(job.keep),
                    key=f"hotcrm-score-{run_id}-{i}",
                    pure=False,
                    retries=self.retries,
                )
                for i, (source, groups) in enumerate(pieces)
            ]
            for future in as_completed(futures):
                try:
                    n, bad = future.result()
                except HotCRMAIError:
                    raise
                except Exception as exc:  # a task failed on every try: the run fails, nothing is written
                    raise PredictionError(
                        f"{job.model_id}: a dask task failed: {type(exc).__name__}: {exc}",
                        model_id=job.model_id,
                        cause=exc,
                    ) from exc
                rows += n
                failed += bad
                if progress is not None:
                    progress(n)
            for stray in tmp.glob(".*.tmp"):  # left by workers that died mid-write
                stray.unlink(missing_ok=True)
            unify_parts(tmp, job.keep)
        return ScoreSummary(
            rows=rows, failed=failed, elapsed_s=time.perf_counter() - started, engine=self.name, output=job.output
        )

    def pieces(self, path: str) -> list[tuple[str, list[int]]]:
        """(file, row groups) per task, in input order: each file's row groups packed up to ``rows_per_task``."""
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        files = [path] if Path(path).is_file() else sorted(ds.dataset(path, format="parquet").files)
        out: list[tuple[str, list[int]]] = []
        for file in files:
            meta = pq.ParquetFile(file).metadata
            groups: list[int] = []
            size = 0
            for g in range(meta.num_row_groups):
                groups.append(g)
                size += meta.row_group(g).num_rows
                if size >= self.rows_per_task:
                    out.append((file, groups))
                    groups, size = [], 0
            if groups:
                out.append((file, groups))
        return out


@attrs.frozen
class DaskOptions:
    """``[engines.dask]``: the scheduler's address (``--scheduler``), task retries, rows per task."""

    scheduler: str | None = attrs.field(default=None, validator=non_empty)
    retries: int = attrs.field(default=2, validator=at_least(0))
    rows_per_task: int = attrs.field(default=ROWS_PER_TASK, validator=at_least(1))


def dask_engine(options: Mapping[str, Any]) -> DaskEngine:
    """The factory: options declared by ``DaskOptions`` (one policy: ``hotcrm_ai.options``)."""
    opts = parse_options(DaskOptions, options, section="engines.dask")
    if opts.scheduler is None:
        raise ConfigError("--scheduler: the dask engine needs a scheduler address, e.g. tcp://127.0.0.1:8786")
    return DaskEngine(scheduler=opts.scheduler, retries=opts.retries, rows_per_task=opts.rows_per_task)


def unify_parts(folder: Path, keep: tuple[str, ...]) -> None:
    """Give every part file the dataset's full schema: a part whose rows all failed has no prediction
    columns (it is small: errors only) and is rewritten with them as nulls."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hotcrm_ai.scoring.arrow import in_order

    parts = sorted(folder.glob("part-*.parquet"))
    schemas = {p: pq.read_schema(p) for p in parts}
    widest = max(schemas.values(), key=len, default=None)
    if widest is None:
        return
    for part, schema in schemas.items():
        if schema.equals(widest):
            continue
        table = pq.read_table(part)
        full = pa.Table.from_arrays(
            [
                table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
                for f in widest
            ],
            schema=widest,
        )
        pq.write_table(in_order(full, keep), part)
