"""Request bodies and reply mapping for Azure ML scoring, in the two shapes endpoints speak.

- ``data`` (default, the classic Azure ML scoring-script shape): ``{"data": [{features}, ...], "method": "predict"}``;
  reply ``{"result": [...], "confidence"?: number | [...]}``.
- ``mlflow``: ``{"input_data": {"columns": [...], "data": [[...], ...]}}`` (what MLflow models deployed
  without a scoring script accept); reply a bare list, or ``{"predictions": [...]}``.

Rows are encoded once, so a batch can be split under a byte limit exactly (no re-encoding to measure).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from hotcrm_ai.errors import FieldError, ProviderResponseError, ValidationError

PayloadFormat = Literal["data", "mlflow"]
_ALIASES: dict[str, PayloadFormat] = {
    "data": "data",
    "original": "data",
    "mlflow": "mlflow",
    "input_data": "mlflow",
}
# A reply without a confidence gets 0 ("unknown"), never an invented constant:
# a constant would look like a measurement. ``parameters.default_confidence`` sets another value.
DEFAULT_CONFIDENCE = 0.0


def payload_format(value: Any, *, field: str = "payload_format") -> PayloadFormat:
    """Normalise a configured payload format; the error names the field and the accepted values."""
    if value is None:
        return "data"
    if isinstance(value, str) and value.lower() in _ALIASES:
        return _ALIASES[value.lower()]
    raise ValidationError([FieldError(field, "one of data, mlflow (aliases original, input_data)", repr(value)[:80])])


def _default(value: Any) -> Any:
    """numpy scalars and arrays become plain JSON; anything else is refused (caller names the field)."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(type(value).__name__)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default)


def _bad_value(value: Any) -> str | None:
    """What is wrong with one feature value for JSON, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"a finite number, got {value}"
    try:
        _dumps(value)
    except ValueError:
        return "finite numbers only (found NaN or infinity inside)"
    except TypeError as exc:
        return f"a JSON value (number, string, boolean, null, list, table), got {exc}"
    return None


def _row_error(index: int, features: Mapping[str, Any], batch: bool) -> ValidationError:
    where = f"inputs[{index}].features" if batch else "features"
    errors = []
    for name, value in features.items():
        problem = _bad_value(value)
        if problem:
            expected, _, got = problem.partition(", got ")
            errors.append(FieldError(f"{where}.{name}", expected, got))
    if not errors:
        errors.append(FieldError(where, "a table of JSON values"))
    return ValidationError(errors, subject="Azure ML request")


def columns_for(feature_names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """MLflow column order: the model's declared features, then any other keys in first-seen order."""
    columns = list(feature_names)
    seen = set(columns)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    return columns


@attrs.frozen
class EncodedBatch:
    """Rows encoded for one payload format: each row's JSON text and the wrapper around them."""

    format: PayloadFormat
    rows: tuple[bytes, ...]
    head: bytes
    tail: bytes

    def size(self, start: int, stop: int) -> int:
        """Exact byte size of the body holding rows[start:stop]."""
        n = stop - start
        return len(self.head) + len(self.tail) + sum(len(r) for r in self.rows[start:stop]) + max(0, n - 1)

    def body(self, start: int, stop: int) -> bytes:
        return self.head + b",".join(self.rows[start:stop]) + self.tail

    def plan(self, max_bytes: int, max_rows: int | None = None) -> list[tuple[int, int]]:
        """Greedy split into consecutive chunks, each under ``max_bytes`` (and ``max_rows``); a single row
        that cannot fit is a ValidationError naming it."""
        chunks: list[tuple[int, int]] = []
        fixed = len(self.head) + len(self.tail)
        start, size = 0, fixed
        for i, row in enumerate(self.rows):
            alone = fixed + len(row)
            if alone > max_bytes:
                raise ValidationError(
                    [
                        FieldError(
                            f"inputs[{i}]", f"a row that encodes under max_request_bytes={max_bytes}", f"{alone} bytes"
                        )
                    ],
                    subject="Azure ML request",
                )
            add = len(row) + (1 if i > start else 0)
            full = max_rows is not None and i - start >= max_rows
            if size + add > max_bytes or full:
                chunks.append((start, i))
                start, size = i, fixed + len(row)
            else:
                size += add
        if self.rows:
            chunks.append((start, len(self.rows)))
        return chunks


def encode(
    fmt: PayloadFormat, rows: Sequence[Mapping[str, Any]], *, feature_names: Sequence[str] = (), batch: bool = False
) -> EncodedBatch:
    """Encode every row once; a value JSON cannot carry (NaN, inf, an object) is a ValidationError
    naming ``features.<name>`` (or ``inputs[i].features.<name>`` in a batch)."""
    columns = columns_for(feature_names, rows) if fmt == "mlflow" else []
    encoded: list[bytes] = []
    for i, row in enumerate(rows):
        try:
            value: Any = [row.get(c) for c in columns] if fmt == "mlflow" else dict(row)
            encoded.append(_dumps(value).encode("utf-8"))
        except (TypeError, ValueError):
            raise _row_error(i, row, batch) from None
    if fmt == "mlflow":
        head = b'{"input_data":{"columns":' + _dumps(columns).encode("utf-8") + b',"data":['
        tail = b"]}}"
    else:
        head, tail = b'{"data":[', b'],"method":"predict"}'
    return EncodedBatch(format=fmt, rows=tuple(encoded), head=head, tail=tail)


@attrs.frozen
class RowResult:
    prediction: Any
    confidence: float
    confidence_source: str  # "reply" or "default"


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(sorted(map(str, value))[:8]) or "none"
        return f"an object with keys {keys}"
    return f"a {type(value).__name__}"


def _confidence(value: Any, where: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value <= 100
    ):
        raise ProviderResponseError(
            f"Azure ML reply: {where}: expected a number 0-100, got {str(value)[:40]!r}", provider="azure-ml"
        )
    return float(value)


class _NonFinite(Exception):
    pass


def _no_constant(name: str) -> Any:
    """NaN / Infinity are not JSON; Python's json accepts them, we refuse them (they poison caches and stats)."""
    raise _NonFinite(name)


def parse_reply(body: bytes, n: int, *, default_confidence: float = DEFAULT_CONFIDENCE) -> list[RowResult]:
    """Map a scoring reply back to ``n`` rows by position.

    Unlike ``result[0] || data``, a falsy prediction (0, false, "") is kept as is; a reply
    that is not a list of ``n`` results is a ``ProviderResponseError`` saying what was expected.
    """
    try:
        data: Any = json.loads(body, parse_constant=_no_constant)
        if isinstance(data, str):  # scoring scripts that return json.dumps(...) get encoded twice
            data = json.loads(data, parse_constant=_no_constant)
    except _NonFinite as exc:
        raise ProviderResponseError(
            f"Azure ML reply: expected finite numbers, got {exc.args[0]}", provider="azure-ml"
        ) from None
    except (ValueError, UnicodeDecodeError):
        text = body[:80].decode("utf-8", "replace")
        raise ProviderResponseError(f"Azure ML reply: expected JSON, got {text!r}", provider="azure-ml") from None
    confidence: Any = None
    if isinstance(data, list):
        results = data
    elif isinstance(data, dict) and isinstance(data.get("result", data.get("predictions")), list):
        results = data["result"] if "result" in data else data["predictions"]
        confidence = data.get("confidence")
    else:
        raise ProviderResponseError(
            f"Azure ML reply: expected a list or an object with a 'result' (or 'predictions') list, got {_shape(data)}",
            provider="azure-ml",
        )
    if len(results) != n:
        raise ProviderResponseError(
            f"Azure ML reply: expected {n} result{'s' if n != 1 else ''} (one per row), got {len(results)}",
            provider="azure-ml",
        )
    if isinstance(confidence, list) and len(confidence) != n:
        raise ProviderResponseError(
            f"Azure ML reply: confidence: expected {n} values (one per row), got {len(confidence)}", provider="azure-ml"
        )
    out: list[RowResult] = []
    for i, prediction in enumerate(results):
        if prediction is None:
            raise ProviderResponseError(f"Azure ML reply: result[{i}]: expected a value, got null", provider="azure-ml")
        if confidence is None:
            out.append(RowResult(prediction, default_confidence, "default"))
            continue
        value = confidence[i] if isinstance(confidence, list) else confidence
        where = f"confidence[{i}]" if isinstance(confidence, list) else "confidence"
        out.append(RowResult(prediction, _confidence(value, where), "reply"))
    return out
