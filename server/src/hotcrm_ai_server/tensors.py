"""Tensors <-> feature rows. One input tensor per feature, named after it, shape ``[N]`` or ``[N, 1]``
(an array feature may also come as a numeric ``[N, L]`` tensor); one output tensor per top-level
field of the prediction plus ``confidence``. Every bad tensor is reported, not just the first."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai.types import FeatureSpec, ModelConfig, PredictionResult
from hotcrm_ai_server.datatypes import ACCEPTS, DATATYPES, INTS


@attrs.define(eq=False)
class Tensor:
    """A decoded tensor: flat row-major ``data`` of Python values (BYTES elements as bytes or str).
    Not frozen: one is built per tensor per request, and frozen attrs classes cost twice as much."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    data: list[Any]
    parameters: dict[str, Any] | None = None


DATATYPE_SET = frozenset(DATATYPES)


def dims_ok(shape: Any) -> bool:
    if not isinstance(shape, (list, tuple)):
        return False
    return all(type(d) is int and d >= 0 for d in shape)  # bool is not a dimension


def check_tensor(name: Any, datatype: Any, shape: Any, where: str) -> list[FieldError]:
    errors = []
    if not isinstance(name, str) or not name:
        errors.append(FieldError(f"{where}.name", "a non-empty string", repr(name)[:40]))
    if datatype not in DATATYPES:
        errors.append(FieldError(f"{where}.datatype", f"one of {', '.join(DATATYPES)}", repr(datatype)[:40]))
    if not dims_ok(shape):
        errors.append(FieldError(f"{where}.shape", "a list of non-negative integers", repr(shape)[:40]))
    return errors


def field_error(exc: ValueError) -> FieldError:
    """A ``FieldError`` from a ``ValueError`` worded ``"<field>: expected <what>"``."""
    field, _, expected = str(exc).partition(": expected ")
    return FieldError(field, expected or str(exc))


def element_count(shape: Sequence[int]) -> int:
    return math.prod(shape)  # an empty shape (a scalar) is one element


def flatten(data: Any) -> list[Any]:
    """JSON tensor data, flat or nested as the protocol allows, in row-major order."""
    if type(data) is not list:
        return [data]
    for x in data:
        if type(x) is list:
            break
    else:
        return data
    out: list[Any] = []
    for x in data:
        out.extend(flatten(x))
    return out


def _feature_values(spec: FeatureSpec, t: Tensor, field: str, errors: list[FieldError]) -> list[Any] | None:
    accepted = ACCEPTS[spec.dtype]
    if t.datatype not in accepted:
        errors.append(
            FieldError(f"{field}.datatype", f"one of {', '.join(accepted)} for a {spec.dtype} feature", t.datatype)
        )
        return None
    n = t.shape[0] if t.shape else 0
    matrix = spec.dtype == "array" and t.datatype != "BYTES"
    if matrix:
        if len(t.shape) != 2:
            errors.append(FieldError(f"{field}.shape", "[N, L] for a numeric array feature", str(list(t.shape))))
            return None
        width = t.shape[1]
        return [list(t.data[i * width : (i + 1) * width]) for i in range(n)]
    if len(t.shape) not in (1, 2) or (len(t.shape) == 2 and t.shape[1] != 1):
        errors.append(FieldError(f"{field}.shape", "[N] or [N, 1]", str(list(t.shape))))
        return None
    values = list(t.data)
    if t.datatype == "BYTES":
        for i, v in enumerate(values):
            try:
                text = v.decode("utf-8") if isinstance(v, bytes) else v
                if not isinstance(text, str):
                    raise TypeError
                values[i] = json.loads(text) if spec.dtype in ("array", "object") else text
            except (UnicodeDecodeError, TypeError):
                errors.append(FieldError(f"{field}[{i}]", "UTF-8 text", repr(v)[:40]))
            except json.JSONDecodeError:
                errors.append(FieldError(f"{field}[{i}]", f"JSON text of an {spec.dtype}", repr(v)[:40]))
    elif t.datatype == "BOOL":
        values = [bool(v) if isinstance(v, (bool, int)) else v for v in values]
    elif t.datatype in INTS:
        bad = [i for i, v in enumerate(values) if isinstance(v, bool) or not isinstance(v, int)]
        for i in bad[:10]:
            errors.append(FieldError(f"{field}[{i}]", f"an integer ({t.datatype})", repr(values[i])[:40]))
    return values


def tensors_to_rows(model: ModelConfig, tensors: Sequence[Tensor], *, max_rows: int) -> list[dict[str, Any]]:
    """Feature rows from input tensors; ``ValidationError`` lists every bad tensor."""
    errors: list[FieldError] = []
    columns: dict[str, list[Any]] = {}
    counts: dict[str, int] = {}
    specs = {f.name: f for f in model.features}
    for t in tensors:
        field = f"inputs.{t.name}"
        spec = specs.get(t.name)
        if spec is None:
            errors.append(FieldError(field, f"a feature of {model.id} ({', '.join(specs)})", "an unknown input"))
            continue
        if t.name in counts:
            errors.append(FieldError(field, "one tensor per feature", "a second tensor"))
            continue
        counts[t.name] = t.shape[0] if t.shape else 0
        values = _feature_values(spec, t, field, errors)
        if values is not None:
            columns[t.name] = values
    for spec in model.features:
        if spec.required and spec.name not in counts:
            errors.append(FieldError(f"inputs.{spec.name}", f"a tensor ({spec.dtype}, required feature)", "none"))
    sizes = sorted(set(counts.values()))
    if len(sizes) > 1:
        detail = ", ".join(f"{k}={v}" for k, v in counts.items())
        errors.append(FieldError("inputs", "the same number of rows (first dimension) in every tensor", detail))
    elif sizes and sizes[0] == 0:
        errors.append(FieldError("inputs", "at least one row", "0"))
    elif sizes and sizes[0] > max_rows:
        errors.append(FieldError("inputs", f"at most {max_rows} rows per request", str(sizes[0])))
    if not tensors:
        errors.append(FieldError("inputs", "at least one input tensor", "none"))
    if errors:
        raise ValidationError(errors, subject="request")
    n = sizes[0]
    return [{name: col[i] for name, col in columns.items()} for i in range(n)]


# -- outputs ------------------------------------------------------------------------------------


def _datatype_of(values: Iterable[Any]) -> str:
    kinds = set()
    for v in values:
        if isinstance(v, bool):
            kinds.add("BOOL")
        elif isinstance(v, (int, float)):
            kinds.add("FP64")
        elif isinstance(v, str):
            kinds.add("BYTES_TEXT")
        else:
            kinds.add("JSON")
    if len(kinds) == 1 and kinds != {"JSON"}:
        kind = kinds.pop()
        return "BYTES" if kind == "BYTES_TEXT" else kind
    return "JSON"


def _column(values: list[Any], datatype: str) -> tuple[str, list[Any]]:
    if datatype == "JSON":
        return "BYTES", [json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str) for v in values]
    if datatype == "FP64":
        return "FP64", [float(v) for v in values]
    return datatype, values


def prediction_fields(prediction: Any) -> dict[str, Any]:
    """Top-level fields of a prediction (a non-object prediction is one field, ``prediction``)."""
    return prediction if isinstance(prediction, dict) else {"prediction": prediction}


def results_to_outputs(results: Sequence[PredictionResult], *, explain: bool = False) -> list[Tensor]:
    """One ``[N]`` tensor per top-level prediction field (numbers FP64, text BYTES, booleans BOOL,
    lists and objects BYTES holding JSON), then ``confidence`` (FP64) and, when asked, ``explanation``."""
    rows = [prediction_fields(r.prediction) for r in results]
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    n = len(results)
    out = []
    for name in names:
        values = [row.get(name) for row in rows]
        datatype, data = _column(values, _datatype_of(values))
        out.append(Tensor(name=name, datatype=datatype, shape=(n,), data=data))
    out.append(Tensor(name="confidence", datatype="FP64", shape=(n,), data=[float(r.confidence) for r in results]))
    if explain:
        from hotcrm_ai.converter import unstructure

        data = [json.dumps(unstructure(r.explanation), ensure_ascii=False, default=str) for r in results]
        out.append(Tensor(name="explanation", datatype="BYTES", shape=(n,), data=data))
    return out


def output_metadata(prediction: Any) -> list[tuple[str, str]]:
    """(name, datatype) of the outputs a prediction of this shape produces."""
    fields = prediction_fields(prediction)
    meta = [(k, _column([v], _datatype_of([v]))[0]) for k, v in fields.items()]
    return [*meta, ("confidence", "FP64")]
