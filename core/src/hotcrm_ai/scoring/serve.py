"""Serve one chunk of rows given as columns: sticky A/B split, column-wise validation, one provider call
(``predict_columns``) or bounded-concurrency ``batch_predict`` calls, one monitor record per model.

Kept free of pyarrow: ``score`` turns a ``Chunk`` into an Arrow table, ``batch_predict`` into results.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from hotcrm_ai.errors import PredictionError, ValidationError
from hotcrm_ai.prediction import ab
from hotcrm_ai.scoring.output import ColumnOutput, from_outputs
from hotcrm_ai.scoring.records import ChunkRecord
from hotcrm_ai.scoring.validate import Columns, ValidatedColumns, row, select, validate_columns
from hotcrm_ai.types import ModelConfig, PredictionInput, PredictionOutput

if TYPE_CHECKING:
    from hotcrm_ai.prediction.service import PredictionService
    from hotcrm_ai.provider import BaseMLProvider

log = logging.getLogger("hotcrm_ai.scoring")

BATCH_ROWS = 256  # rows per batch_predict call for providers without predict_columns


@attrs.define
class Group:
    """The rows of a chunk one model served (all of them, unless an A/B test split the chunk)."""

    model: ModelConfig
    variant: str | None
    index: np.ndarray  # positions in the chunk
    output: ColumnOutput | None = None  # answers for ``index[answered]``
    answered: np.ndarray | None = None  # positions within ``index`` the output covers


@attrs.define
class Chunk:
    n: int
    requested_id: str
    groups: list[Group]
    errors: dict[int, BaseException]  # chunk row -> why it has no answer


def assign_rows(
    service: PredictionService,
    requested: ModelConfig,
    columns: Columns,
    n: int,
    ctx: Mapping[str, Any],
    subjects: Sequence[Any] | None,
) -> list[tuple[ModelConfig, str | None, np.ndarray]]:
    """Sticky A/B per row, with ``predict``'s hash: ``subjects[i]`` (else ``context['subject']``, else
    tenant + the row's features) picks the variant."""
    ab_test = requested.ab_test
    if ab_test is None or not ab_test.enabled or not ab_test.champion_model_id:
        return [(requested, None, np.arange(n))]
    groups: dict[str, tuple[ModelConfig, str | None, list[int]]] = {}
    for i in range(n):
        row_ctx = ctx if subjects is None or subjects[i] is None else {**ctx, "subject": subjects[i]}
        model, variant = ab.assign(requested, service.registry, row_ctx, row(columns, i))
        groups.setdefault(model.key, (model, variant, []))[2].append(i)
    return [(m, v, np.asarray(idx, dtype=np.intp)) for m, v, idx in groups.values()]


def serve_chunk(
    service: PredictionService,
    model_id: str,
    columns: Columns,
    n: int,
    ctx: Mapping[str, Any],
    *,
    subjects: Sequence[Any] | None = None,
) -> Chunk:
    """Answers for ``n`` rows; a refused or failed row holds its exception and never fails the rest."""
    from hotcrm_ai.prediction.serving import _check_context, _check_model_id

    _check_model_id(model_id)
    _check_context(ctx)
    requested = service._active(model_id)
    chunk = Chunk(n=n, requested_id=model_id, groups=[], errors={})
    for model, variant, index in assign_rows(service, requested, columns, n, ctx, subjects):
        started = time.perf_counter()
        group = Group(model=model, variant=variant, index=index)
        chunk.groups.append(group)
        whole = len(index) == n
        part = columns if whole else select(columns, index)
        clean, refused = validate_columns(model, part, len(index))
        for j, exc in refused.items():
            chunk.errors[int(index[j])] = exc
        answered = np.arange(len(index))
        if refused:
            answered = np.setdiff1d(answered, np.fromiter(refused, dtype=np.intp), assume_unique=True)
        if len(answered):
            valid = ValidatedColumns(select(clean, None if len(answered) == len(index) else answered), model.key)
            try:
                output = _answer(service, model, valid, len(answered), ctx)
            except Exception as failure:  # the provider failed the whole group: every row says why
                error = (
                    failure
                    if isinstance(failure, (ValidationError, PredictionError))
                    else PredictionError(
                        f"{model.id}: {type(failure).__name__}: {failure}", model_id=model.id, cause=failure
                    )
                )
                for j in answered.tolist():
                    chunk.errors[int(index[j])] = error
            else:
                group.output, group.answered = output, answered
                for j, refusal in output.errors.items():
                    chunk.errors[int(index[answered[j]])] = refusal
        _record(service, chunk, group, ctx, (time.perf_counter() - started) * 1000)
    return chunk


def _answer(
    service: PredictionService, model: ModelConfig, columns: Columns, n: int, ctx: Mapping[str, Any]
) -> ColumnOutput:
    provider, breaker = service.providers.get(model)
    if provider.supports_columns(model):
        output = service.call_guarded(breaker, lambda: provider.predict_columns(model, columns))
        if not isinstance(output, ColumnOutput):
            raise PredictionError(
                f"provider {model.provider} returned {type(output).__name__} from "
                "predict_columns, expected ColumnOutput",
                model_id=model.id,
            )
        return output
    return _by_batches(service, provider, breaker, model, columns, n, ctx)


def _by_batches(
    service: PredictionService,
    provider: BaseMLProvider,
    breaker: Any,
    model: ModelConfig,
    columns: Columns,
    n: int,
    ctx: Mapping[str, Any],
) -> ColumnOutput:
    """Providers without ``predict_columns``: ``batch_predict`` on slices of ``BATCH_ROWS`` rows, a few
    at a time (remote providers batch natively); a failed slice is retried row by row. The rows were
    validated column-wise already, and say so (``PredictionInput.validated``)."""
    context = dict(ctx)
    inputs = [PredictionInput(features=row(columns, i), context=context, validated=True) for i in range(n)]
    outputs: list[PredictionOutput | None] = [None] * n
    errors: dict[int, BaseException] = {}

    def call(fn: Any) -> Any:
        return service.call_guarded(breaker, fn)

    def one_slice(begin: int) -> None:
        part = inputs[begin : begin + BATCH_ROWS]
        try:
            got = call(lambda: provider.batch_predict(model, part))
            if len(got) != len(part):
                raise PredictionError(
                    f"provider {model.provider} returned {len(got)} results for {len(part)} rows", model_id=model.id
                )
            outputs[begin : begin + len(part)] = got
        except Exception:
            for k, inp in enumerate(part, begin):
                try:
                    outputs[k] = call(lambda inp=inp: provider.predict(model, inp))
                except Exception as exc:
                    errors[k] = exc

    workers = max(1, min(service.settings.max_concurrency, -(-n // BATCH_ROWS)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hotcrm-score") as pool:
        list(pool.map(one_slice, range(0, n, BATCH_ROWS)))
    return from_outputs(outputs, errors)


def _record(service: PredictionService, chunk: Chunk, group: Group, ctx: Mapping[str, Any], latency_ms: float) -> None:
    rows = len(group.index)
    failed_types: dict[str, int] = {}
    in_group = set(group.index.tolist()) if len(chunk.groups) > 1 else None
    for i, exc in chunk.errors.items():
        if in_group is None or i in in_group:
            failed_types[type(exc).__name__] = failed_types.get(type(exc).__name__, 0) + 1
    failed = sum(failed_types.values())
    mean_conf = 0.0
    if group.output is not None and rows > failed:
        conf = np.asarray(group.output.confidence, dtype=np.float64)
        if group.output.errors:
            keep = np.ones(len(conf), dtype=bool)
            keep[list(group.output.errors)] = False
            conf = conf[keep]
        mean_conf = float(conf.mean()) if len(conf) else 0.0
    record = ChunkRecord(
        model_id=group.model.id,
        requested_model_id=chunk.requested_id,
        model_version=group.model.version,
        timestamp=time.time(),
        rows=rows,
        failed=failed,
        latency_ms=latency_ms,
        variant=group.variant,
        provider=group.model.provider,
        tenant=ctx.get("tenant"),
        mean_confidence=mean_conf,
        error_types=failed_types,
    )
    try:
        service.monitor.record_chunk(record)
    except Exception:  # the monitor isolates its sinks; this guards against the monitor itself
        log.exception("monitor failed to record a chunk")
