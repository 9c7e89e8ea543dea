"""What runs on a worker: one ``AICloud`` per worker process (a ``WorkerPlugin``), and the task that
scores one piece of the input into one output file."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin, get_worker

PLUGIN_PREFIX = "hotcrm-ai-cloud"


class CloudPlugin(WorkerPlugin):
    """Builds the worker's ``AICloud`` from the job's configuration when the worker starts (or joins
    later, e.g. a replacement for a dead one) and closes it when the worker stops."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self.cloud: Any = None

    def setup(self, worker: Any) -> None:
        from hotcrm_ai import AICloud

        self.cloud = AICloud.from_config(self.config_path)

    def teardown(self, worker: Any) -> None:
        if self.cloud is not None:
            self.cloud.close()
            self.cloud = None


def plugin_name(config_path: str | None) -> str:
    return f"{PLUGIN_PREFIX}:{config_path or 'defaults'}"


def score_piece(
    plugin: str,
    model_id: str,
    source: str,
    row_groups: list[int],
    out_dir: str,
    index: int,
    chunk_rows: int,
    context: dict[str, Any],
    keep: tuple[str, ...],
) -> tuple[int, int]:
    """Score row groups ``row_groups`` of ``source`` into ``out_dir/part-<index>.parquet``; returns
    (rows, failed). The file is written beside its name and renamed, so a retry after a worker died
    replaces it whole: every input row appears exactly once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hotcrm_ai.scoring.arrow import to_columns
    from hotcrm_ai.scoring.io import Writer
    from hotcrm_ai.scoring.table import score_columns

    cloud = get_worker().plugins[plugin].cloud  # type: ignore[attr-defined]
    final = Path(out_dir) / f"part-{index:06d}.parquet"
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
    rows = failed = 0
    file = pq.ParquetFile(source)
    strings = [f.name for f in file.schema_arrow if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    file = pq.ParquetFile(source, read_dictionary=strings)  # categories arrive coded
    writer = Writer(tmp, "parquet", keep)
    try:
        for batch in file.iter_batches(batch_size=chunk_rows, row_groups=row_groups):
            columns, n = to_columns(batch)
            table = score_columns(cloud, model_id, columns, n, context, keep=keep)
            writer.write(table)
            rows += n
            failed += n - table.column("error").null_count
    finally:
        writer.close()
    os.replace(tmp, final)
    return rows, failed
