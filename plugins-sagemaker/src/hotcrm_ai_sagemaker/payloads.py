"""Request bodies and reply mapping for InvokeEndpoint: JSON and CSV, one row or a batch.

Pure Python on purpose (json + csv): it is the part with the most rules, and it is tested without
any network. The rules (documented in docs/providers/sagemaker.md):

* one row, JSON: the body is the feature object; CSV: one line, columns in
  the model's feature order.
* batch ``instances``: ``{"instances": [row, ...]}``; batch ``csv``: one line per row.
* reply, one row: ``predictions[0]`` when the body has a ``predictions`` list, else the whole body
  - a prediction of ``0`` is a prediction (``x || y`` would drop it).
* reply, batch: ``predictions`` (or a bare list, or CSV lines) with exactly one entry per row.
* confidence (0-100): the body's ``confidence`` when present (fractions 0-1 scaled by 100); else
  derived from a probability the reply carries; else 0 with ``confidence_source = "none"``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeGuard

import attrs

from hotcrm_ai.errors import ConfigError, FieldError, ProviderResponseError, ValidationError
from hotcrm_ai.options import OptionError, at_least, non_empty, one_of, parse_model_options
from hotcrm_ai.types import ModelConfig

JSON = "application/json"
CSV = "text/csv"
_SHORT = {"json": JSON, "csv": CSV}
BATCH_FORMATS = ("instances", "csv")
_INSTANCES_OPEN, _INSTANCES_CLOSE = b'{"instances":[', b"]}"
PROVIDER = "aws-sagemaker"


def _family(mime: str) -> str:
    lowered = mime.lower()
    if "json" in lowered:
        return "json"
    if "csv" in lowered:
        return "csv"
    return "other"


def _mime(model: ModelConfig, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"models.{model.id}.parameters.{key}: expected json, csv or a MIME type, got {value!r:.80}")
    mime = _SHORT.get(value.lower(), value)
    if _family(mime) == "other":
        raise ConfigError(f"models.{model.id}.parameters.{key}: expected a JSON or CSV MIME type, got {value!r:.80}")
    return mime


@attrs.frozen
class RequestSpec:
    """How one model is invoked: endpoint, formats and the pass-through InvokeEndpoint headers."""

    endpoint_name: str
    content_type: str
    accept: str
    batch_format: str | None
    columns: tuple[str, ...] | None
    extra_args: dict[str, str]
    confidence_field: str = "confidence"
    confidence_scale: str = "auto"
    probability_prediction: bool | None = None
    max_batch_rows: int | None = None
    single_instances: bool = False

    @property
    def csv(self) -> bool:
        return _family(self.content_type) == "csv"


_PASS_THROUGH = {
    "target_variant": "TargetVariant",
    "target_model": "TargetModel",
    "inference_component_name": "InferenceComponentName",
    "custom_attributes": "CustomAttributes",
    "target_container_hostname": "TargetContainerHostname",
}


def _mime_option(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and _family(_SHORT.get(value.lower(), value)) == "other":
        raise OptionError(attribute.name, "json, csv or a JSON or CSV MIME type", value)


def _batch_format(value: Any) -> Any:
    return {"json": "instances", "text/csv": "csv"}.get(value, value) if isinstance(value, str) else value


_text = attrs.validators.optional(non_empty)


@attrs.frozen
class SageMakerModelOptions:
    """What a model's ``parameters`` may set (``ProviderSpec.model_options``), checked when ``AICloud``
    starts under the one options policy. The InvokeEndpoint header names (``TargetVariant``...) are
    accepted as aliases of the snake_case keys."""

    ALIASES: ClassVar[dict[str, str]] = {arg: key for key, arg in _PASS_THROUGH.items()}

    batch_format: str | None = attrs.field(
        default=None, converter=_batch_format, validator=attrs.validators.optional(one_of(*BATCH_FORMATS))
    )
    content_type: str | None = attrs.field(default=None, validator=[_text, _mime_option])
    accept: str | None = attrs.field(default=None, validator=[_text, _mime_option])
    csv_columns: tuple[str, ...] | None = attrs.field(default=None)
    target_variant: str | None = attrs.field(default=None, validator=_text)
    target_model: str | None = attrs.field(default=None, validator=_text)
    inference_component_name: str | None = attrs.field(default=None, validator=_text)
    custom_attributes: str | None = attrs.field(default=None, validator=_text)
    target_container_hostname: str | None = attrs.field(default=None, validator=_text)
    confidence_field: str = attrs.field(default="confidence", validator=non_empty)
    confidence_scale: str = attrs.field(default="auto", validator=one_of("auto", "fraction", "percent"))
    prediction_is_probability: bool | None = None
    single_format: str = attrs.field(default="object", validator=one_of("object", "instances"))
    max_batch_rows: int | None = attrs.field(default=None, validator=at_least(1))

    @csv_columns.validator
    def _columns(self, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and (not value or not all(value)):
            raise OptionError(attribute.name, "a non-empty list of feature names", value)


def request_spec(model: ModelConfig) -> RequestSpec:
    """The model's declared ``SageMakerModelOptions`` (a wrong key or type is a ``ConfigError``
    naming it), then the checks across keys."""
    p = parse_model_options(SageMakerModelOptions, model)
    where = f"models.{model.id}.parameters"
    batch_format = p.batch_format
    default_type = CSV if batch_format == "csv" else JSON
    content_type = _mime(model, "content_type", p.content_type) if p.content_type else default_type
    accept = _mime(model, "accept", p.accept) if p.accept else content_type
    wanted = {"instances": "json", "csv": "csv"}.get(batch_format or "")
    if wanted and _family(content_type) != wanted:
        raise ConfigError(f"{where}.batch_format: {batch_format} needs content_type {wanted}, got {content_type}")
    columns = p.csv_columns
    if columns is None and model.features:
        columns = tuple(f.name for f in model.features)
    if _family(content_type) == "csv" and columns is None:
        raise ConfigError(f"{where}.csv_columns: CSV needs a column order; declare the model's features or csv_columns")
    extra = {arg: getattr(p, key) for key, arg in _PASS_THROUGH.items() if getattr(p, key) is not None}
    if p.single_format == "instances" and _family(content_type) != "json":
        raise ConfigError(f"{where}.single_format: instances needs content_type json, got {content_type}")
    return RequestSpec(
        endpoint_name=model.endpoint or model.id,
        content_type=content_type,
        accept=accept,
        batch_format=batch_format,
        columns=columns,
        extra_args=extra,
        confidence_field=p.confidence_field,
        confidence_scale=p.confidence_scale,
        probability_prediction=p.prediction_is_probability,
        max_batch_rows=p.max_batch_rows,
        single_instances=p.single_format == "instances",
    )


# ---------------------------------------------------------------- encoding


def _bad_json_fields(features: Mapping[str, Any], prefix: str) -> list[FieldError]:
    errors = []
    for name, value in features.items():
        try:
            json.dumps(value, allow_nan=False)
        except ValueError:
            errors.append(
                FieldError(f"{prefix}{name}", "a finite number (JSON has no NaN or infinity)", repr(value)[:80])
            )
        except (TypeError, RecursionError):
            errors.append(
                FieldError(
                    f"{prefix}{name}",
                    "a JSON value (number, string, boolean, list, object, null)",
                    type(value).__name__,
                )
            )
    return errors


def encode_json_row(features: Mapping[str, Any], *, row: int | None = None) -> bytes:
    """One row as compact UTF-8 JSON; NaN/inf or unserialisable values name the field."""
    prefix = f"rows[{row}].features." if row is not None else "features."
    try:
        return json.dumps(dict(features), allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (ValueError, TypeError, RecursionError):
        errors = _bad_json_fields(features, prefix) or [FieldError(prefix.rstrip("."), "a JSON object")]
        raise ValidationError(errors, subject="features") from None


def _csv_cell(name: str, value: Any, prefix: str) -> str:
    if value is None:
        return ""  # an empty cell is "missing" to the usual CSV containers (XGBoost, linear-learner)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError([FieldError(f"{prefix}{name}", "a finite number", repr(value))], subject="features")
        return repr(value)
    if isinstance(value, str):
        return value
    raise ValidationError(
        [FieldError(f"{prefix}{name}", "a number, string, boolean or null for a CSV cell", type(value).__name__)],
        subject="features",
    )


def encode_csv_row(
    model: ModelConfig, spec: RequestSpec, features: Mapping[str, Any], *, row: int | None = None
) -> bytes:
    """One CSV line (with its newline) in the spec's column order. Missing required columns and
    features the model does not have are errors: CSV is positional, a silent gap shifts every value."""
    prefix = f"rows[{row}].features." if row is not None else "features."
    columns = spec.columns or ()
    errors = [
        FieldError(f"{prefix}{k}", f"one of the CSV columns ({', '.join(columns)[:200]})", "an extra field")
        for k in features
        if k not in columns
    ]
    cells: list[str] = []
    for name in columns:
        if name in features:
            value = features[name]
        else:
            feature = model.feature(name)
            if feature is not None and feature.default is not None:
                value = feature.default
            elif feature is not None and not feature.required:
                value = None
            else:
                errors.append(FieldError(f"{prefix}{name}", "a value (required CSV column is missing)"))
                continue
        try:
            cells.append(_csv_cell(name, value, prefix))
        except ValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationError(errors, subject="features")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue().encode("utf-8")


def encode_single(model: ModelConfig, spec: RequestSpec, features: Mapping[str, Any]) -> bytes:
    """One row: a CSV line, the feature object, or ``{"instances": [features]}`` (``single_format``)."""
    if spec.csv:
        return encode_csv_row(model, spec, features)
    row = encode_json_row(features)
    return _INSTANCES_OPEN + row + _INSTANCES_CLOSE if spec.single_instances else row


def encode_rows(model: ModelConfig, spec: RequestSpec, rows: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Each row encoded alone (so size limits can be applied per row); every bad field of every row
    is reported in one ``ValidationError``."""
    encoded: list[bytes] = []
    errors: list[FieldError] = []
    for i, features in enumerate(rows):
        try:
            encoded.append(
                encode_csv_row(model, spec, features, row=i) if spec.csv else encode_json_row(features, row=i)
            )
        except ValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationError(errors, subject="features")
    return encoded


def join_batch(spec: RequestSpec, encoded: Sequence[bytes]) -> bytes:
    if spec.batch_format == "csv":
        return b"".join(encoded)
    return _INSTANCES_OPEN + b",".join(encoded) + _INSTANCES_CLOSE


def chunk_batch(spec: RequestSpec, encoded: Sequence[bytes], limit: int) -> list[range]:
    """Split rows into consecutive groups whose joined body stays within ``limit`` bytes (and
    ``max_batch_rows``). A single row over the limit cannot be sent at all: ``ValidationError``."""
    overhead = 0 if spec.batch_format == "csv" else len(_INSTANCES_OPEN) + len(_INSTANCES_CLOSE)
    separator = 0 if spec.batch_format == "csv" else 1
    too_big = [
        FieldError(
            f"rows[{i}]",
            f"a row of at most {limit - overhead} bytes encoded (the endpoint takes {limit})",
            f"{len(row)} bytes",
        )
        for i, row in enumerate(encoded)
        if len(row) + overhead > limit
    ]
    if too_big:
        raise ValidationError(too_big, subject="batch")
    chunks: list[range] = []
    start, size = 0, overhead
    for i, row in enumerate(encoded):
        extra = len(row) + (separator if i > start else 0)
        full = spec.max_batch_rows is not None and i - start >= spec.max_batch_rows
        if i > start and (size + extra > limit or full):
            chunks.append(range(start, i))
            start, size, extra = i, overhead, len(row)
        size += extra
    if encoded:
        chunks.append(range(start, len(encoded)))
    return chunks


# ---------------------------------------------------------------- decoding


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _csv_value(cell: str) -> Any:
    text = cell.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def decode(raw: bytes, content_type: str, *, endpoint: str) -> Any:
    """Parse the reply by its Content-Type: JSON (NaN/Infinity rejected) or CSV (list of rows)."""
    family = _family(content_type or "")
    if family == "other":
        family = "json" if raw.lstrip()[:1] in (b"{", b"[") else "csv"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProviderResponseError(
            f"SageMaker endpoint {endpoint}: reply is not UTF-8 text", provider=PROVIDER
        ) from None
    if family == "json":
        try:
            if any(kind in content_type.lower() for kind in ("jsonlines", "ndjson", "jsonl")):
                return [json.loads(line, parse_constant=_reject_constant) for line in text.splitlines() if line.strip()]
            return json.loads(text, parse_constant=_reject_constant)
        except ValueError as exc:
            raise ProviderResponseError(
                f"SageMaker endpoint {endpoint}: reply is not valid JSON ({exc})",
                provider=PROVIDER,
                details={"body": text[:200]},
            ) from None
    rows = [[_csv_value(c) for c in row] for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    return [r[0] if len(r) == 1 else r for r in rows]  # one entry per line: a scalar, or a list of cells


# ---------------------------------------------------------------- mapping


@attrs.frozen
class Mapped:
    prediction: Any
    confidence: float
    source: str  # "body", "probability" or "none"


def _real(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _scale(value: Any, spec: RequestSpec, endpoint: str) -> float:
    if not _real(value):
        raise ProviderResponseError(
            f"SageMaker endpoint {endpoint}: {spec.confidence_field}: expected a finite number, got {value!r:.80}",
            provider=PROVIDER,
        )
    scale = spec.confidence_scale
    if scale == "auto":
        scale = "fraction" if 0 <= value <= 1 else "percent"
    scaled = float(value) * 100 if scale == "fraction" else float(value)
    if not 0 <= scaled <= 100:
        raise ProviderResponseError(
            f"SageMaker endpoint {endpoint}: {spec.confidence_field}: expected 0-1 or 0-100, got {value!r}",
            provider=PROVIDER,
        )
    return scaled


def _distribution(value: Any) -> float | None:
    is_probabilities = isinstance(value, list) and len(value) >= 2 and all(_real(v) and 0 <= v <= 1 for v in value)
    return float(max(value)) if is_probabilities and abs(sum(value) - 1) <= 1e-3 else None


def probability_confidence(prediction: Any, model: ModelConfig, spec: RequestSpec) -> float | None:
    """Confidence (0-100) from a probability in the reply, or None when it carries none:
    ``probability``/``probabilities`` fields, a class distribution list, SageMaker's built-in
    ``{"score", "predicted_label"}`` binary shape, or a classifier's bare float in 0-1 (the
    probability of the positive class: confidence is that of the likelier class, max(p, 1-p))."""
    if spec.probability_prediction is False:
        return None
    if isinstance(prediction, Mapping):
        for key in ("probabilities", "probability"):
            if key in prediction:
                value = prediction[key]
                if _real(value) and 0 <= value <= 1:
                    return max(value, 1 - value) * 100
                dist = _distribution(value)
                if dist is not None:
                    return dist * 100
        score = prediction.get("score")
        if "predicted_label" in prediction and _real(score) and 0 <= score <= 1 and isinstance(score, float):
            return max(score, 1 - score) * 100
        return None
    dist = _distribution(prediction)
    if dist is not None:
        return dist * 100
    is_probability = spec.probability_prediction or model.type == "classification"
    if is_probability and isinstance(prediction, float) and 0 <= prediction <= 1:
        return max(prediction, 1 - prediction) * 100
    return None


def _finish(prediction: Any, explicit: Any, model: ModelConfig, spec: RequestSpec, endpoint: str) -> Mapped:
    if explicit is not None:
        return Mapped(prediction, _scale(explicit, spec, endpoint), "body")
    derived = probability_confidence(prediction, model, spec)
    if derived is not None:
        return Mapped(prediction, float(derived), "probability")
    return Mapped(prediction, 0.0, "none")


def map_single(body: Any, model: ModelConfig, spec: RequestSpec, *, endpoint: str) -> Mapped:
    """``predictions[0]`` when present, else the whole body (a falsy prediction such as ``0`` is kept)."""
    explicit: Any = None
    if isinstance(body, Mapping):
        explicit = body.get(spec.confidence_field)
        if isinstance(explicit, list):
            explicit = explicit[0] if explicit else None
        if "predictions" in body:
            preds = body["predictions"]
            if isinstance(preds, list):
                if not preds:
                    raise ProviderResponseError(
                        f"SageMaker endpoint {endpoint}: predictions: expected at least one value, got an empty list",
                        provider=PROVIDER,
                    )
                prediction = preds[0]
            else:
                prediction = preds
        else:
            prediction = dict(body)
    elif isinstance(body, list):
        if not body:
            raise ProviderResponseError(f"SageMaker endpoint {endpoint}: reply is empty", provider=PROVIDER)
        prediction = body[0]
    else:
        prediction = body
    return _finish(prediction, explicit, model, spec, endpoint)


def map_batch(body: Any, rows: int, model: ModelConfig, spec: RequestSpec, *, endpoint: str) -> list[Mapped]:
    """One result per row sent; any other count is a ``ProviderResponseError`` (never guessed)."""
    confidences: list[Any] | None = None
    if isinstance(body, Mapping):
        preds = body.get("predictions")
        if not isinstance(preds, list):
            raise ProviderResponseError(
                f"SageMaker endpoint {endpoint}: batch reply: expected a predictions list, got {type(preds).__name__}",
                provider=PROVIDER,
            )
        raw_conf = body.get(spec.confidence_field)
        if raw_conf is not None:
            if not isinstance(raw_conf, list) or len(raw_conf) != rows:
                raise ProviderResponseError(
                    f"SageMaker endpoint {endpoint}: batch reply: {spec.confidence_field}: expected a list of {rows}",
                    provider=PROVIDER,
                )
            confidences = raw_conf
    elif isinstance(body, list):
        preds = body
    else:
        raise ProviderResponseError(
            f"SageMaker endpoint {endpoint}: batch reply: expected a list of {rows} predictions, "
            f"got {type(body).__name__}",
            provider=PROVIDER,
        )
    if len(preds) != rows:
        raise ProviderResponseError(
            f"SageMaker endpoint {endpoint}: batch reply: expected {rows} predictions (one per row sent), "
            f"got {len(preds)}",
            provider=PROVIDER,
            details={"expected": rows, "got": len(preds)},
        )
    out = []
    for i, pred in enumerate(preds):
        if confidences is None and isinstance(pred, Mapping) and "predictions" in pred:
            out.append(map_single(pred, model, spec, endpoint=endpoint))  # one reply per row (JSON lines)
        else:
            out.append(_finish(pred, confidences[i] if confidences is not None else None, model, spec, endpoint))
    return out
