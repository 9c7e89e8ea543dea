"""The ``local`` engine: read chunks, score them on a small thread pool, write them in order.

At most ``workers + 1`` chunks are in memory at once, so peak memory follows ``chunk_rows``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from hotcrm_ai.options import between, parse_options
from hotcrm_ai.scoring.engine import Progress, ScoreJob, ScoreSummary

if TYPE_CHECKING:
    import pyarrow as pa

    from hotcrm_ai.cloud import AICloud


@attrs.frozen
class LocalEngine:
    name: str = "local"
    workers: int = 2

    def run(self, cloud: AICloud, job: ScoreJob, progress: Progress | None = None) -> ScoreSummary:
        from hotcrm_ai.scoring.atomic import atomic_path
        from hotcrm_ai.scoring.io import Writer, read_chunks
        from hotcrm_ai.scoring.pool import ordered_map
        from hotcrm_ai.scoring.table import check_chunk_rows, score_columns

        check_chunk_rows(job.chunk_rows)
        model = cloud.service._active(job.model_id)  # fails before anything is written
        started = time.perf_counter()
        rows = failed = 0
        ctx = dict(job.context)

        def one(chunk: tuple[dict[str, Any], int]) -> pa.Table:
            return score_columns(cloud, job.model_id, chunk[0], chunk[1], ctx, keep=job.keep)

        with atomic_path(job.output) as tmp:
            writer = Writer(Path(tmp), job.output_format, job.keep)
            try:
                chunks = read_chunks(job.input, job.input_format, job.chunk_rows, model)
                for table in ordered_map(one, chunks, workers=self.workers):
                    writer.write(table)
                    rows += table.num_rows
                    failed += table.num_rows - table.column("error").null_count
                    if progress is not None:
                        progress(table.num_rows)
            finally:
                writer.close()
        return ScoreSummary(
            rows=rows, failed=failed, elapsed_s=time.perf_counter() - started, engine=self.name, output=job.output
        )


@attrs.frozen
class LocalOptions:
    """``[engines.local]``: threads scoring chunks at once."""

    workers: int = attrs.field(default=2, validator=between(1, 64))


def local_engine(options: Mapping[str, Any]) -> LocalEngine:
    """The factory: options declared by ``LocalOptions`` (one policy: ``hotcrm_ai.options``)."""
    return LocalEngine(workers=parse_options(LocalOptions, options, section="engines.local").workers)
