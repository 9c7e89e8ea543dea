"""``score``: a table in, a table out, chunk by chunk (the body of ``AICloud.score``).

Not cached: a scoring run reads every row once, so a cache would only add a key per row and a
backend round trip; ``predict`` and ``batch_predict`` keep caching for interactive use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai.scoring.pool import ordered_map
from hotcrm_ai.scoring.serve import serve_chunk

if TYPE_CHECKING:
    import pyarrow as pa

    from hotcrm_ai.cloud import AICloud
    from hotcrm_ai.progress import Progress

DEFAULT_CHUNK_ROWS = 65_536


def score_table(
    cloud: AICloud,
    model_id: str,
    data: Any,
    *,
    context: Mapping[str, Any] | None = None,
    progress: Progress = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    keep: tuple[str, ...] = (),
    subject: str | None = None,
    workers: int = 2,
) -> pa.Table:
    """Score every row of ``data``; see ``AICloud.score``."""
    import pyarrow as pa

    from hotcrm_ai.scoring.arrow import to_columns

    check_chunk_rows(chunk_rows)
    columns, n = to_columns(data)
    missing = [c for c in (*keep, *([subject] if subject else [])) if c not in columns]
    if missing:
        raise ValidationError(
            [FieldError(c, "a column of the input", "no such column") for c in missing], subject="score"
        )
    ctx = dict(context or {})
    cloud.service._active(model_id)  # an unknown or inactive model fails the call, not every row
    from hotcrm_ai.progress import reporter

    bar = reporter(progress, n, "scoring")
    lock = threading.Lock()

    def advance(rows: int) -> None:  # chunks finish on worker threads
        with lock:
            bar.advance(rows)

    def slices() -> Iterator[tuple[dict[str, Any], int]]:
        for begin in range(0, max(n, 1), chunk_rows):
            end = min(n, begin + chunk_rows)
            yield {k: v[begin:end] for k, v in columns.items()}, end - begin

    try:
        tables = [
            t
            for t in ordered_map(
                lambda part: score_columns(
                    cloud, model_id, part[0], part[1], ctx, keep=keep, subject=subject, progress=advance
                ),
                slices(),
                workers=min(workers, -(-n // chunk_rows)),
            )
        ]
    finally:
        bar.close()
    if len(tables) == 1:
        return tables[0]
    from hotcrm_ai.scoring.arrow import in_order

    # a chunk whose rows all failed has no prediction columns: they are filled with nulls
    return in_order(pa.concat_tables(tables, promote_options="default"), keep)


def score_columns(
    cloud: AICloud,
    model_id: str,
    columns: Mapping[str, Any],
    n: int,
    ctx: Mapping[str, Any],
    *,
    keep: tuple[str, ...] = (),
    subject: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> pa.Table:
    """One chunk: ``keep`` columns are copied to the output (and still feed the model when they are
    features); every other column goes to the model, an unknown one refusing its rows as ``predict``
    refuses an unknown field."""
    from hotcrm_ai.scoring.arrow import chunk_table

    held = {k: columns[k] for k in keep}
    known = {f.name for f in cloud.registry.get(model_id).features}  # a kept feature still feeds the model
    features = {k: v for k, v in columns.items() if (k not in held or k in known) and k != subject}
    subjects = columns[subject] if subject else None
    if subjects is not None and not isinstance(subjects, list):
        subjects = subjects.tolist()
    chunk = serve_chunk(cloud.service, model_id, features, n, ctx, subjects=subjects)
    table = chunk_table(chunk, held)
    if progress is not None:
        progress(n)
    return table


def check_chunk_rows(chunk_rows: Any) -> None:
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or not 1 <= chunk_rows <= 10_000_000:
        raise ValidationError(
            [FieldError("chunk_rows", "an integer from 1 to 10,000,000", repr(chunk_rows)[:40])], subject="score"
        )
