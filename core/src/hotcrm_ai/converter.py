"""The one cattrs converter: every JSON/TOML document in or out of hotcrm-ai goes through it.

Strict on the way in (no "1" silently becoming 1.0, no unknown keys, no NaN), so a typo in a config
file is an error that names the key instead of a default that quietly applies.
"""

from __future__ import annotations

import math
import operator
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.v import format_exception

from hotcrm_ai import types as t
from hotcrm_ai.cache.codec import register_bulk_hook
from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai.secrets import Secret, as_secret

T = TypeVar("T")


def _strict_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _strict_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


def _strict_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _strict_float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return float(value)


def _endpoint(value: Any, _: type) -> str | Secret | None:
    """An endpoint (``ProviderConfig.endpoint``): text, or ``{env = "NAME"}`` for one carrying a token."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str) and value["env"]:
        return Secret(env=value["env"])
    raise TypeError(f'expected a string or {{env = "NAME"}}, got {type(value).__name__}')


_RECORD_KEYS = frozenset(
    {"prediction", "confidence", "model_id", "model_version", "stored_at", "metadata", "explanation"}
)
_RECORD_FIELDS = operator.itemgetter(
    "prediction", "confidence", "model_id", "model_version", "stored_at", "metadata", "explanation"
)
_DICT, _FLOAT, _STR, _NONE = frozenset((dict,)), frozenset((float,)), frozenset((str,)), frozenset((type(None),))


def _record_hooks(conv: cattrs.Converter) -> None:
    """``CacheRecord`` by hand, both ways: every cache hit and every stored answer goes through these,
    and the generated hooks cost several times more. Same strictness (extra keys and wrong types
    are errors, so a foreign entry is a miss). ``RecordFields`` is the same check giving the fields
    as a tuple (a batch of hits needs no object per row)."""
    from hotcrm_ai.prediction.outcome import CacheRecord, RecordFields, record_document

    def record_fields(d: Any, _: type) -> tuple[Any, ...]:
        if type(d) is not dict or not d.keys() <= _RECORD_KEYS:
            raise TypeError("expected a cache record object with known keys only")
        metadata = d.get("metadata") or {}
        explanation = d.get("explanation")
        if type(metadata) is not dict:
            raise TypeError("metadata: expected an object")
        confidence, stored_at = d["confidence"], d["stored_at"]
        # the common case (two floats, as written) is tested inline; anything else gets the full check
        if type(confidence) is not float or not 0.0 <= confidence <= 100.0:
            confidence = _strict_float(confidence, float)
            if not 0.0 <= confidence <= 100.0:  # what PredictionOutput allows: a hit serves the record as is
                raise ValueError(f"confidence: expected 0-100, got {confidence}")
        if type(stored_at) is not float or not -math.inf < stored_at < math.inf:
            stored_at = _strict_float(stored_at, float)
        model_id, model_version = d["model_id"], d["model_version"]
        if type(model_id) is not str or type(model_version) is not str:
            _strict_str(model_id, str)
            _strict_str(model_version, str)
        return (
            d["prediction"],
            confidence,
            model_id,
            model_version,
            stored_at,
            metadata,
            None if explanation is None else conv.structure(explanation, t.Explanation),
        )

    def structure_record(d: Any, _: type) -> CacheRecord:
        return CacheRecord(*record_fields(d, CacheRecord))

    def unstructure_record(r: CacheRecord) -> dict[str, Any]:
        explanation = None if r.explanation is None else conv.unstructure(r.explanation)
        return record_document(
            r.prediction, r.confidence, r.model_id, r.model_version, r.stored_at, r.metadata, explanation
        )

    def record_fields_many(ds: list[Any]) -> list[tuple[Any, ...]] | None:
        # record_fields of each, column by column: exactly the seven keys (seven, all present), no
        # explanation, and the common types (float confidences in 0-100, finite float timestamps,
        # string ids, object metadata); anything else is left to record_fields, entry by entry
        if not _DICT.issuperset(map(type, ds)) or set(map(len, ds)) != {7}:
            return None
        try:
            fields = list(map(_RECORD_FIELDS, ds))
        except KeyError:
            return None
        _, confidences, ids, versions, stored_at, metadata, explanations = zip(*fields, strict=True)
        if (
            not _FLOAT.issuperset(map(type, confidences))
            or not min(confidences) >= 0.0
            or not max(confidences) <= 100.0
            or not math.isfinite(sum(confidences))  # a NaN hides from min and max
            or not _FLOAT.issuperset(map(type, stored_at))
            or not math.isfinite(sum(stored_at))  # an infinity or a NaN (or an overflow: then one by one)
            or not _STR.issuperset(map(type, ids))
            or not _STR.issuperset(map(type, versions))
            or not _DICT.issuperset(map(type, metadata))
            or not _NONE.issuperset(map(type, explanations))
        ):
            return None
        return fields

    conv.register_structure_hook(CacheRecord, structure_record)
    conv.register_structure_hook(RecordFields, record_fields)
    register_bulk_hook(RecordFields, record_fields_many)
    conv.register_unstructure_hook(CacheRecord, unstructure_record)


def make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, omit_if_default=False)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(Any, lambda v, _: v)
    conv.register_structure_hook(Secret, lambda v, _: as_secret(v))
    conv.register_structure_hook_func(lambda t: t == (str | Secret | None), _endpoint)
    conv.register_unstructure_hook(Secret, lambda s: s.to_json())
    # Exceptions stay in memory; JSON gets ErrorInfo.
    conv.register_unstructure_hook(
        t.PredictionResult,
        make_dict_unstructure_fn(t.PredictionResult, conv, exception=override(omit=True)),
    )
    conv.register_structure_hook(
        t.PredictionResult,
        make_dict_structure_fn(t.PredictionResult, conv, exception=override(omit=True), _cattrs_forbid_extra_keys=True),
    )
    _record_hooks(conv)
    return conv


converter = make_converter()


def _format(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"known fields only; unknown: {', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, KeyError):
        return "a value (required field is missing)"
    if isinstance(exc, (TypeError, AttributeError)) and attrs.has(type_) and not str(exc).startswith("expected"):
        return "a table"  # a number or a string where a table of fields belongs (Python's words are no help)
    if isinstance(exc, (TypeError, ValueError)) and str(exc):
        return str(exc)
    return format_exception(exc, type_)


def _paths(exc: BaseException) -> list[FieldError]:
    errors: list[FieldError] = []
    for line in cattrs.transform_error(exc, path="$", format_exception=_format):
        message, _, path = line.rpartition(" @ ")
        field = path.removeprefix("$").lstrip(".") or "$"
        message = message or line
        if message.startswith("unknown error (") and message.endswith(")"):
            message = message[len("unknown error (") : -1]
        message = message.removeprefix("invalid value for type, ")
        errors.append(FieldError(field=field, expected=message.removeprefix("expected ")))
    return errors


def structure(data: Any, cls: type[T], *, subject: str | None = None) -> T:
    """Structure plain data into ``cls``; every problem becomes one ``ValidationError`` naming fields."""
    subject = subject or cls.__name__
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, cattrs.StructureHandlerNotFoundError) as exc:
        raise ValidationError(_paths(exc), subject=subject) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ValidationError([FieldError(field="$", expected=str(exc))], subject=subject) from None


def unstructure(obj: Any) -> Any:
    return converter.unstructure(obj)
