"""Arrow at the edges of scoring: input tables to columns, a served ``Chunk`` to an output table.

Only imported when a table is scored (pyarrow is the ``hotcrm-ai[score]`` extra)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai.scoring.output import Categories
from hotcrm_ai.scoring.serve import Chunk
from hotcrm_ai.scoring.validate import Columns

STATUS_FIELDS = ("confidence", "model_id", "model_version", "variant", "error")


def column_from_arrow(arr: pa.Array | pa.ChunkedArray) -> Any:
    """A numpy array for numeric columns without nulls (no copy where Arrow allows), else Python values
    (null -> None, so it reads as a missing field)."""
    t = arr.type
    if (pa.types.is_integer(t) or pa.types.is_floating(t)) and arr.null_count == 0:
        out = arr.to_numpy()
        return out if out.dtype.kind == "f" else out.astype(np.int64, copy=False)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        # as codes into the distinct values: validated and looked up once per value, not per row
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        coded = arr if pa.types.is_dictionary(t) else arr.dictionary_encode()
        if len(coded.dictionary) > max(64, len(coded) // 4):  # mostly distinct (free text): plain values
            return arr.to_pylist()
        codes = coded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        return Categories(codes, coded.dictionary.to_pylist())
    return arr.to_pylist()


def to_columns(data: Any) -> tuple[dict[str, Any], int]:
    """``data`` (Arrow table or record batch, pandas DataFrame, or mapping of columns) as columns."""
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return {name: column_from_arrow(data.column(name)) for name in data.column_names}, data.num_rows
    if _is_dataframe(data):
        try:
            table = pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python objects in a column: keep them as they are
            return {str(c): data[c].tolist() for c in data.columns}, len(data)
        return to_columns(table)
    if isinstance(data, Mapping):
        cols: dict[str, Any] = {}
        for name, values in data.items():
            if not isinstance(name, str):
                raise ValidationError([FieldError(repr(name)[:60], "column names that are strings")], subject="data")
            cols[name] = _column(name, values)
        lengths = {len(c) for c in cols.values()}
        if len(lengths) > 1:
            shown = ", ".join(f"{k}={len(v)}" for k, v in list(cols.items())[:10])
            raise ValidationError([FieldError("data", "columns of equal length", shown)], subject="data")
        return cols, lengths.pop() if lengths else 0
    raise ValidationError(
        [
            FieldError(
                "data",
                "a pyarrow Table or RecordBatch, a pandas DataFrame or a mapping of columns",
                type(data).__name__,
            )
        ],
        subject="data",
    )


def _column(name: str, values: Any) -> Any:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return column_from_arrow(values)
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValidationError(
                [FieldError(name, "a one-dimensional column", f"shape {values.shape}")], subject="data"
            )
        return values if values.dtype.kind in "fiu" else values.tolist()
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
        if hasattr(values, "tolist"):  # a pandas Series
            return (
                _column(name, np.asarray(values))
                if getattr(values, "dtype", None) is not None and np.asarray(values).dtype.kind in "fiu"
                else list(values.tolist())
            )
        raise ValidationError([FieldError(name, "a column (list or array)", type(values).__name__)], subject="data")
    return list(values)


def _is_dataframe(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and hasattr(data, "columns") and hasattr(data, "iloc")


def chunk_table(chunk: Chunk, keep: Columns | None = None) -> pa.Table:
    """One row per input row, in order: ``keep`` columns, the prediction's top-level fields, then
    confidence, model_id, model_version, variant and error (null where the row was scored)."""
    n = chunk.n
    answered = np.zeros(n, dtype=bool)
    fields: dict[str, list[tuple[np.ndarray, Any]]] = {}
    confidence: list[tuple[np.ndarray, Any]] = []
    several = len(chunk.groups) > 1  # per-row model columns are only needed when an A/B test split the chunk
    model_ids = np.empty(n if several else 0, dtype=object)
    versions = np.empty(n if several else 0, dtype=object)
    variants = np.empty(n if several else 0, dtype=object)
    for group in chunk.groups:
        if group.output is None or group.answered is None:
            continue
        at = group.index[group.answered]
        answered[at] = True
        for name, col in group.output.prediction.items():
            fields.setdefault(name, []).append((at, col))
        confidence.append((at, group.output.confidence))
        if several:
            model_ids[at], versions[at], variants[at] = group.model.id, group.model.version, group.variant
    failed = np.zeros(n, dtype=bool)
    if chunk.errors:
        failed[np.fromiter(chunk.errors, dtype=np.intp, count=len(chunk.errors))] = True
    null = failed | ~answered
    out: dict[str, pa.Array] = {}
    for name, col in (keep or {}).items():
        out[name] = pa.array(col.tolist() if isinstance(col, Categories) else col)
    for name, parts in fields.items():
        out[name] = _assemble(parts, n, null)
    out["confidence"] = _assemble(confidence, n, null, float_only=True)
    for name, values in (("model_id", model_ids), ("model_version", versions), ("variant", variants)):
        out[name] = _status(chunk, name, values, null)
    if chunk.errors:
        errors: list[str | None] = [None] * n
        for i, exc in chunk.errors.items():
            errors[i] = str(exc)
        out["error"] = pa.array(errors, type=pa.string())
    else:
        out["error"] = pa.nulls(n, pa.string())
    return pa.table(out)


def _status(chunk: Chunk, name: str, values: np.ndarray, null: np.ndarray) -> pa.Array:
    """model_id / model_version / variant: one value per group, so built from codes, not per row."""
    if len(chunk.groups) == 1:
        group = chunk.groups[0]
        value = {"model_id": group.model.id, "model_version": group.model.version, "variant": group.variant}[name]
        if value is None:
            return pa.nulls(chunk.n, pa.string())
        if not null.any():
            return pa.repeat(pa.scalar(value, pa.string()), chunk.n)
        indices = pa.array(np.zeros(chunk.n, dtype=np.int32), mask=null)
        return pa.DictionaryArray.from_arrays(indices, pa.array([value])).dictionary_decode()
    return pa.array(values, type=pa.string(), mask=null)


def _assemble(parts: list[tuple[np.ndarray, Any]], n: int, null: np.ndarray, *, float_only: bool = False) -> pa.Array:
    """Scatter each group's column into one column of ``n`` rows (nulls where ``null``)."""
    whole_chunk = len(parts) == 1 and len(parts[0][0]) == n  # positions are sorted and unique: all rows, in order
    if whole_chunk and isinstance(parts[0][1], np.ndarray):
        whole = parts[0][1]
        if whole.dtype.kind in "fiub" or whole.dtype.kind == "U":
            return pa.array(whole, mask=null if null.any() else None)
    if whole_chunk and isinstance(parts[0][1], Categories):
        col = parts[0][1]
        codes = np.where(null, -1, col.codes)
        indices = pa.array(codes, mask=codes < 0)
        return pa.DictionaryArray.from_arrays(indices, pa.array(col.values)).dictionary_decode()
    arrays = [np.asarray(v) if isinstance(v, np.ndarray) else None for _, v in parts]
    if float_only or (all(a is not None and a.dtype.kind in "fiu" for a in arrays) and arrays):
        floats = float_only or any(a.dtype.kind == "f" for a in arrays)  # type: ignore[union-attr]
        full = np.zeros(n, dtype=np.float64 if floats else np.int64)
        for at, v in parts:
            full[at] = np.asarray(v, dtype=full.dtype)
        return pa.array(full, mask=null)
    obj = np.empty(n, dtype=object)
    for at, v in parts:
        values: list[Any] = v.tolist() if isinstance(v, (np.ndarray, Categories)) else list(v)
        for i, value in zip(at.tolist(), values, strict=True):
            obj[i] = value
    obj[null] = None
    return pa.array(obj.tolist())


def in_order(table: pa.Table, keep: Sequence[str] = ()) -> pa.Table:
    """Columns as ``chunk_table`` orders them: kept ones, prediction fields, then the status fields."""
    names = table.column_names
    status = [n for n in STATUS_FIELDS if n in names]
    kept = [n for n in keep if n in names]
    fields = [n for n in names if n not in status and n not in kept]
    order = [*kept, *fields, *status]
    return table if order == names else table.select(order)
