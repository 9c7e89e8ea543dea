"""``batch_predict`` on dict rows through the columnar path, where the provider has one.

Taken when nothing is cached for the call (``use_cache=False`` or a model TTL of 0): the rows become
columns, are validated and answered column-wise (``serve_chunk``), and come back as one
``PredictionResult`` per row, in order. The monitor gets one aggregated record per call instead of
one event per row, so these results' prediction ids cannot take ``record_outcome``; ask ``predict``
(or ``batch_predict`` with the cache on) when the outcome will be reported back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from hotcrm_ai.scoring.serve import serve_chunk
from hotcrm_ai.types import ErrorInfo, PredictionResult

if TYPE_CHECKING:
    from hotcrm_ai.prediction.service import PredictionService


def columnar_batch(
    service: PredictionService,
    model_id: str,
    rows: Sequence[Any],
    ctx: Mapping[str, Any],
    *,
    use_cache: bool,
) -> list[PredictionResult] | None:
    """The results, or None when this call should take the row-by-row path (cache in use, rows
    that are not all mappings, or a provider without ``predict_columns``)."""
    model = service.registry.find(model_id) if isinstance(model_id, str) else None
    if model is None or model.status != "active" or (use_cache and model.cache_ttl_s > 0):
        return None
    if not all(type(r) is dict for r in rows) and not all(isinstance(r, Mapping) for r in rows):
        return None
    provider, _ = service.providers.get(model)
    if not provider.supports_columns(model):
        return None
    start = time.perf_counter()
    n = len(rows)
    first = list(rows[0])
    # the same number of keys everywhere, and every row has each of the first row's: the same keys
    same = set(map(len, rows)) == {len(first)} and all(map(_has(first), rows))
    if same:
        columns: dict[str, Any] = _numeric_matrix(rows, first) or {k: list(map(itemgetter(k), rows)) for k in first}
    else:
        names: dict[Any, None] = {}
        for r in rows:
            names.update(dict.fromkeys(r))
        columns = {k: [r.get(k) for r in rows] for k in names}
    if not all(isinstance(k, str) for k in columns):
        return None  # the row path words the bad key for each row
    chunk = serve_chunk(service, model_id, columns, n, ctx)
    latency = (time.perf_counter() - start) * 1000 / max(n, 1)
    ids = os.urandom(16 * n).hex()
    results: list[PredictionResult | None] = [None] * n
    for group in chunk.groups:
        out, answered = group.output, group.answered
        if out is None or answered is None:
            continue
        fields = {k: v.tolist() if hasattr(v, "tolist") else list(v) for k, v in out.prediction.items()}
        conf = out.confidence.tolist() if hasattr(out.confidence, "tolist") else list(out.confidence)
        shared = {"provider": group.model.provider, **out.metadata}  # copied into each result by its converter
        notes, refused = out.notes, out.errors
        served, version, variant = group.model.id, group.model.version, group.variant
        if out.scalar:
            predictions: Any = fields["prediction"]
        else:
            predictions = [dict(zip(fields, values, strict=True)) for values in zip(*fields.values(), strict=True)]
        at = group.index[answered].tolist()
        pids = [ids[32 * i : 32 * i + 32] for i in at]
        if not notes and not refused:  # the usual case: built at C speed, no Python loop per row
            built = list(
                map(
                    PredictionResult,
                    predictions,
                    conf,
                    repeat(served),
                    repeat(version),
                    repeat(model_id),
                    repeat(variant),
                    repeat(False),
                    repeat(False),
                    repeat(None),
                    repeat(latency),
                    pids,
                    repeat(shared),
                )
            )
            if len(built) == n:
                results = built  # type: ignore[assignment]
            else:
                for i, result in zip(at, built, strict=True):
                    results[i] = result
            continue
        for j, i in enumerate(at):
            if j in refused:
                continue
            note = notes.get(j)
            results[i] = PredictionResult(
                predictions[j],
                conf[j],
                served,
                version,
                model_id,
                variant,
                False,
                False,
                None,
                latency,
                pids[j],
                {**shared, **note} if note else shared,
            )
    for i, exc in chunk.errors.items():
        group = next(g for g in chunk.groups if i in set(g.index.tolist()))
        results[i] = PredictionResult(
            prediction=None,
            confidence=0.0,
            model_id=group.model.id,
            model_version=group.model.version,
            requested_model_id=model_id,
            variant=group.variant,
            latency_ms=latency,
            error=ErrorInfo.from_exception(exc),
            exception=exc,
        )
    return [r for r in results if r is not None]


def _has(names: list[Any]) -> Any:
    keys = frozenset(names)
    return lambda row: keys <= row.keys()


def _numeric_matrix(rows: Sequence[Mapping[str, Any]], names: list[str]) -> dict[str, Any] | None:
    """All-number rows with the same keys, as float64 columns in two C-speed passes (a type check and
    one conversion); None when any value is not an int or a float (bools and strings included)."""
    values = list(map(itemgetter(*names), rows)) if len(names) > 1 else [[r[names[0]]] for r in rows]
    if not set(map(type, chain.from_iterable(values))) <= {int, float}:
        return None
    try:
        matrix = np.array(values, dtype=np.float64).T.copy()
    except (OverflowError, ValueError):
        return None
    return dict(zip(names, matrix, strict=True))
