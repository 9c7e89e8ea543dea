"""The value types every part of hotcrm-ai speaks: frozen attrs classes, (de)serialised by
``hotcrm_ai.converter``.

Validators here check shape and ranges, so an invalid object cannot exist: a ``ModelConfig`` built in
code is as trustworthy as one structured from JSON. Cross-object rules (unique ids, a champion that
exists) belong to the registry.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

import attrs

from hotcrm_ai.secrets import Secret, as_secret

MODEL_TYPES = (
    "classification",
    "regression",
    "clustering",
    "nlp",
    "recommendation",
    "forecasting",
    "embedding",
    "generation",
)
MODEL_STATUSES = ("active", "deprecated", "training", "testing")
DTYPES = ("number", "integer", "string", "boolean", "array", "object")

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$")


def _check_id(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ValueError(
            f"{attribute.name}: expected 1-200 characters of letters, digits and ._:@/- "
            f"starting with a letter or digit, got {value!r:.80}"
        )


def _check_text(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{attribute.name}: expected a string, got {type(value).__name__}")


def masked_endpoint(value: str | Secret | None) -> str:
    """How an endpoint shows in a repr: user info and credential-like query values masked; one held
    as a ``Secret`` (``{env = "NAME"}``) as its reference."""
    from hotcrm_ai.secrets import mask_url

    if isinstance(value, Secret):
        return repr(value)
    return repr(None if value is None else mask_url(value))


def to_endpoint(value: Any) -> str | Secret | None:
    """An endpoint as configured: a URL (or name) as text, or ``{env = "NAME"}`` (a ``Secret`` read
    when the provider is built, for URLs that carry a token)."""
    if value is None or isinstance(value, (str, Secret)):
        return value
    if isinstance(value, Mapping) and set(value) == {"env"}:
        return as_secret(dict(value), field="endpoint")
    raise TypeError(f'endpoint: expected a string or {{env = "NAME"}}, got {type(value).__name__}')


def _check_optional_text(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None:
        _check_text(inst, attribute, value)


def _check_finite(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None or (type(value) is float and math.isfinite(value)):  # every provider's confidence
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{attribute.name}: expected a finite number, got {value!r}")


def _check_percentage(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    """A finite number in 0-100, checked in one call (every provider output has one)."""
    if type(value) is float and 0.0 <= value <= 100.0:
        return
    _check_finite(inst, attribute, value)
    if value is None or not 0 <= value <= 100:
        raise ValueError(f"{attribute.name}: expected 0-100, got {value}")


def _check_non_negative(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    _check_finite(inst, attribute, value)
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name}: expected a number >= 0, got {value!r}")


def _one_of(options: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def check(inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in options:
            raise ValueError(f"{attribute.name}: expected one of {', '.join(options)}, got {value!r:.80}")

    return check


def _as_float(value: Any) -> Any:
    """numpy scalars become plain floats (JSON, equality); anything else is left for the validator."""
    if type(value) is float:
        return value
    if isinstance(value, bool) or not hasattr(value, "__float__") or isinstance(value, str):
        return value
    return float(value)


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if value is not None else {}


def _tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes, Mapping)):
        return (value,)
    return tuple(value)


def _of(cls: type) -> Any:
    """Accept an instance or a plain mapping of its fields (keyword construction stays convenient)."""

    def convert(value: Any) -> Any:
        if value is None or isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            return cls(**value)
        raise TypeError(f"expected {cls.__name__} or a table of its fields, got {type(value).__name__}")

    return convert


def _tuple_of(cls: type) -> Any:
    one = _of(cls)

    def convert(value: Any) -> tuple[Any, ...]:
        return tuple(one(v) for v in _tuple(value))

    return convert


def _secrets(value: Any) -> dict[str, Secret]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"credentials: expected a table of secrets, got {type(value).__name__}")
    return {str(k): as_secret(v, field=f"credentials.{k}") for k, v in value.items()}


@attrs.frozen
class FeatureSpec:
    """One input field of a model: its JSON type and the values it may take."""

    name: str = attrs.field(validator=_check_text)
    dtype: str = attrs.field(default="number", validator=_one_of(DTYPES))
    required: bool = True
    choices: tuple[Any, ...] | None = attrs.field(default=None, converter=attrs.converters.optional(tuple))
    minimum: float | None = attrs.field(default=None, validator=_check_finite)
    maximum: float | None = attrs.field(default=None, validator=_check_finite)
    items: str | None = attrs.field(default=None, validator=attrs.validators.optional(_one_of(DTYPES)))
    max_length: int | None = attrs.field(default=None, validator=_check_non_negative)
    default: Any = None
    label: str = attrs.field(default="", validator=_check_text)
    description: str = attrs.field(default="", validator=_check_text)

    def __attrs_post_init__(self) -> None:
        if not self.name or len(self.name) > 200:
            raise ValueError(f"feature name: expected 1-200 characters, got {self.name!r:.80}")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"feature {self.name}: minimum {self.minimum} is above maximum {self.maximum}")
        if self.choices is not None and len(self.choices) == 0:
            raise ValueError(f"feature {self.name}: choices, when given, must not be empty")

    @property
    def display_name(self) -> str:
        """The label, else the name in title case (``days_since_contact`` -> ``Days Since Contact``)."""
        if self.label:
            return self.label
        from hotcrm_ai.text import title_case

        return title_case(self.name)


@attrs.frozen
class ModelMetrics:
    """Measured quality. Fractions in 0-1 for rates; ``extra`` for anything else (brier, mase, ...)."""

    accuracy: float | None = attrs.field(default=None, validator=_check_finite)
    precision: float | None = attrs.field(default=None, validator=_check_finite)
    recall: float | None = attrs.field(default=None, validator=_check_finite)
    f1: float | None = attrs.field(default=None, validator=_check_finite)
    roc_auc: float | None = attrs.field(default=None, validator=_check_finite)
    mse: float | None = attrs.field(default=None, validator=_check_finite)
    mae: float | None = attrs.field(default=None, validator=_check_finite)
    extra: dict[str, Any] = attrs.field(factory=dict, converter=_dict)


@attrs.frozen
class ABTest:
    """An A/B block: ``traffic_percentage`` of subjects stay on the model carrying it, the rest go to
    ``champion_model_id``."""

    enabled: bool = False
    traffic_percentage: float = attrs.field(default=100.0, validator=_check_finite)
    champion_model_id: str | None = attrs.field(default=None, validator=_check_optional_text)

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.traffic_percentage <= 100:
            raise ValueError(f"traffic_percentage: expected 0-100, got {self.traffic_percentage}")


@attrs.frozen
class ProviderConfig:
    """How to reach a provider: name, endpoint, credentials (``Secret`` objects) and options."""

    provider: str = attrs.field(validator=_check_id)
    #: a URL or name, or ``{env = "NAME"}`` for one that carries a token: read it with ``endpoint_value``
    endpoint: str | Secret | None = attrs.field(default=None, converter=to_endpoint, repr=masked_endpoint)
    credentials: dict[str, Secret] = attrs.field(factory=dict, converter=_secrets)
    config: dict[str, Any] = attrs.field(factory=dict, converter=_dict)

    def endpoint_value(self) -> str | None:
        """The endpoint to use: the text, or the variable an ``{env = "NAME"}`` endpoint names, read
        now (a ``ConfigError`` naming the variable, never a value, when it is unset)."""
        return self.endpoint.reveal() if isinstance(self.endpoint, Secret) else self.endpoint

    def identity(self) -> str:
        """A stable digest of the *whole* configuration: provider, endpoint, credentials and options.

        Two models share a provider instance (and its circuit breaker) only when this is equal, so a
        model configured with key B is never served by a client built with key A. A credential or an
        endpoint that is an ``{env = ...}`` reference takes part by its variable name; a literal
        credential by a hash of its value (never the value itself, and the digest is all that leaves
        this method).
        """
        doc = {
            "provider": self.provider,
            "endpoint": self.endpoint,
            "credentials": {k: _secret_identity(v) for k, v in sorted(self.credentials.items())},
            "config": self.config,
        }
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=_identity_default)
        return f"{self.provider}:{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"


def _secret_identity(secret: Secret) -> str:
    """How a secret takes part in an identity: its env reference, else a hash of its value."""
    if secret.env is not None:
        return "env:" + secret.env
    return "sha256:" + hashlib.sha256(secret.reveal().encode("utf-8", "surrogatepass")).hexdigest()


def _identity_default(value: Any) -> Any:
    """Non-JSON option values (a Secret, a set, an object) by a stable text, so any config has an identity."""
    if isinstance(value, Secret):
        return {"secret": _secret_identity(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return f"{type(value).__qualname__}:{value!r}"


def _to_provider_config(value: Any) -> ProviderConfig | None:
    return _of(ProviderConfig)(value)  # type: ignore[no-any-return]


def _to_features(value: Any) -> tuple[FeatureSpec, ...]:
    return _tuple_of(FeatureSpec)(value)  # type: ignore[no-any-return]


def _to_metrics(value: Any) -> ModelMetrics:
    return _of(ModelMetrics)(value)  # type: ignore[no-any-return]


def _to_ab_test(value: Any) -> ABTest | None:
    return _of(ABTest)(value)  # type: ignore[no-any-return]


@attrs.frozen
class ModelConfig:
    """Everything the registry knows about one model version."""

    id: str = attrs.field(validator=_check_id)
    name: str = attrs.field(validator=_check_text)
    type: str = attrs.field(validator=_one_of(MODEL_TYPES))
    provider: str = attrs.field(validator=_check_id)
    version: str = attrs.field(default="1.0.0", validator=_check_id)
    description: str = attrs.field(default="", validator=_check_text)
    endpoint: str | None = attrs.field(default=None, validator=_check_optional_text, repr=masked_endpoint)
    provider_config: ProviderConfig | None = attrs.field(default=None, converter=_to_provider_config)
    features: tuple[FeatureSpec, ...] = attrs.field(default=(), converter=_to_features)
    output: dict[str, Any] = attrs.field(factory=dict, converter=_dict)
    parameters: dict[str, Any] = attrs.field(factory=dict, converter=_dict)
    metrics: ModelMetrics = attrs.field(factory=ModelMetrics, converter=_to_metrics)
    status: str = attrs.field(default="active", validator=_one_of(MODEL_STATUSES))
    ab_test: ABTest | None = attrs.field(default=None, converter=_to_ab_test)
    cache_ttl_s: float = attrs.field(default=300.0, validator=_check_non_negative)
    timeout_s: float | None = attrs.field(default=None, validator=_check_non_negative)  # None: provider default
    fallback_model_id: str | None = attrs.field(default=None, validator=_check_optional_text)
    explainer: str | None = attrs.field(default=None, validator=_check_optional_text)
    explain_output: str | None = attrs.field(default=None, validator=_check_optional_text)
    background: tuple[dict[str, Any], ...] = attrs.field(default=(), converter=_tuple)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    last_trained: str | None = attrs.field(default=None, validator=_check_optional_text)

    def __attrs_post_init__(self) -> None:
        names = [f.name for f in self.features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"features: duplicate names {', '.join(dupes)}")
        for row in self.background:
            if not isinstance(row, Mapping):
                raise TypeError(f"background: expected feature rows (tables), got {type(row).__name__}")
        if self.provider_config is not None and self.provider_config.provider != self.provider:
            raise ValueError(
                f"provider_config.provider: expected {self.provider!r} (the model's provider), "
                f"got {self.provider_config.provider!r}"
            )

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def feature(self, name: str) -> FeatureSpec | None:
        return next((f for f in self.features if f.name == name), None)


_set = object.__setattr__  # how a frozen attrs class sets its fields in __init__
_new_object = object.__new__


class _InputSlots:
    """The storage of ``PredictionInput`` (see ``_ResultSlots``)."""

    __slots__ = ("__weakref__", "context", "features", "validated")


@attrs.frozen(init=False)
class PredictionInput(_InputSlots):
    """One row for a provider. ``validated`` says the features already passed
    ``prediction.validation.validate_features`` against the model's ``features`` (the prediction
    service sets it): a provider may then skip its own checks of those fields. Left False (a direct
    call), a provider checks what it relies on."""

    features: dict[str, Any] = attrs.field(converter=_dict)
    context: dict[str, Any] = attrs.field(factory=dict, converter=_dict)
    validated: bool = attrs.field(default=False, kw_only=True)

    def __init__(
        self, features: Mapping[str, Any] | None, context: Mapping[str, Any] | None = None, *, validated: bool = False
    ) -> None:
        """What attrs would generate (each mapping copied, None as ``{}``), with the converters
        written out: every provider call builds one."""
        _set(self, "features", {} if features is None else dict(features))
        _set(self, "context", {} if context is None else dict(context))
        _set(self, "validated", validated)


class _InputBuilder(_InputSlots):
    """A ``PredictionInput`` under construction: the same slots, plainly settable."""

    __slots__ = ()


def validated_input(features: dict[str, Any], context: dict[str, Any]) -> PredictionInput:
    """``PredictionInput(features, context, validated=True)`` for the prediction service, built as
    ``served_result`` builds a result (the same object, without a setattr call per field); both
    mappings are copied, as the fields' converters copy them."""
    inp: Any = _new_object(_InputBuilder)  # its slots are PredictionInput's fields
    inp.features = dict(features)
    inp.context = dict(context)
    inp.validated = True
    inp.__class__ = PredictionInput
    return inp


@attrs.frozen(init=False)
class PredictionOutput:
    """What a provider returns. ``confidence`` is a percentage, 0-100."""

    prediction: Any
    confidence: float = attrs.field(default=0.0, converter=_as_float, validator=_check_percentage)
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_dict)

    def __init__(self, prediction: Any, confidence: Any = 0.0, metadata: Mapping[str, Any] | None = None) -> None:
        """What attrs would generate: a plain float in 0-100 is set as it is; anything else goes
        through the field's converter and validator (``__attrs_init__``), which word the errors.
        Every provider answer builds one."""
        if type(confidence) is not float or not 0.0 <= confidence <= 100.0:
            self.__attrs_init__(prediction, confidence, metadata)  # type: ignore[attr-defined]
            return
        _set(self, "prediction", prediction)
        _set(self, "confidence", confidence)
        _set(self, "metadata", {} if metadata is None else dict(metadata))


@attrs.frozen
class HealthReport:
    healthy: bool
    latency_ms: float | None = None
    error: str | None = None
    details: dict[str, Any] = attrs.field(factory=dict, converter=_dict)


@attrs.frozen
class FeatureContribution:
    """One input field's Shapley value. ``importance`` is its share of the total |contribution| in %."""

    feature: str
    value: Any
    contribution: float
    importance: float
    label: str = ""


@attrs.frozen(slots=False)
class Explanation:
    """Attributions that add up: ``base_value + sum(contributions) == output_value``.

    ``Explanation.deferred`` makes one whose ``DERIVED`` fields (the contribution records, top
    features, reason text and metadata) are each built on its first read and then kept: a caller
    that wants the numbers of many rows does not pay for text it never reads. Such an object is
    indistinguishable from one built eagerly: every read (attribute, ``==``, ``repr``, the
    converter, ``attrs.asdict``, pickle, copy) sees the same values. Not slotted, so a built field
    is stored where attrs keeps an eager one (the instance ``__dict__``)."""

    base_value: float
    output_value: float
    output_kind: str  # "probability", "score", "log-odds", "value", ... : which number is explained
    contributions: tuple[FeatureContribution, ...] = attrs.field(converter=_tuple)
    top_features: tuple[FeatureContribution, ...] = attrs.field(converter=_tuple)
    text: str = ""
    method: str = ""
    evaluations: int = 0
    exact: bool = True
    error_estimate: float | None = None
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_dict)

    DERIVED: ClassVar[tuple[str, ...]] = ("contributions", "top_features", "text", "metadata")

    @classmethod
    def deferred(
        cls,
        base_value: float,
        output_value: float,
        output_kind: str,
        derive: Callable[[str], Any],
        *,
        method: str = "",
        evaluations: int = 0,
        exact: bool = True,
        error_estimate: float | None = None,
    ) -> Explanation:
        """An ``Explanation`` whose ``DERIVED`` fields come from ``derive(name)`` (through the field's
        converter), called once per field, on its first read."""
        inst = object.__new__(cls)
        inst.__dict__.update(
            base_value=base_value,
            output_value=output_value,
            output_kind=output_kind,
            method=method,
            evaluations=evaluations,
            exact=exact,
            error_estimate=error_estimate,
            _derive=derive,
        )
        return inst

    def __getstate__(self) -> dict[str, Any]:
        """Every field, in field order, built if deferred (pickle and copy see an eager object)."""
        return {f.name: getattr(self, f.name) for f in attrs.fields(type(self))}


class _Derived:
    """The class attribute of a deferred ``Explanation`` field: consulted only while the instance
    does not hold the field yet (a non-data descriptor, so a built or eagerly set value is read
    straight from the instance). Two threads racing here build equal values and either is kept;
    ``derive`` is let go once every deferred field is built."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, inst: Any, owner: type | None = None) -> Any:
        if inst is None:
            return self
        state, name = inst.__dict__, self.name
        derive = state.get("_derive")
        if derive is None:  # built meanwhile by another thread (or never deferred)
            try:
                return state[name]
            except KeyError:
                raise AttributeError(f"'Explanation' object has no attribute {name!r}") from None
        value = state[name] = _DERIVED_CONVERTERS[name](derive(name))
        if all(n in state for n in _DERIVED_CONVERTERS):
            state.pop("_derive", None)
        return value


def _same(value: Any) -> Any:
    return value


_DERIVED_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    f.name: f.converter or _same  # type: ignore[misc]
    for f in attrs.fields(Explanation)
    if f.name in Explanation.DERIVED
}
for _name in Explanation.DERIVED:
    setattr(Explanation, _name, _Derived(_name))


@attrs.frozen
class ErrorInfo:
    """A failure that is reported rather than raised (a batch row): type name, message, bad fields."""

    type: str
    message: str
    retryable: bool = False

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        return cls(type=type(exc).__name__, message=str(exc), retryable=bool(getattr(exc, "retryable", False)))


_RESULT_FIELDS = (
    "prediction",
    "confidence",
    "model_id",
    "model_version",
    "requested_model_id",
    "variant",
    "cached",
    "degraded",
    "degraded_reason",
    "latency_ms",
    "prediction_id",
    "metadata",
    "explanation",
    "error",
    "exception",
)


class _ResultSlots:
    """The storage of ``PredictionResult``: its fields as slots, declared here so that a mutable
    sibling (``_ResultBuilder``) has the same layout (attrs adds no slot a base already has)."""

    __slots__ = (*_RESULT_FIELDS, "__weakref__")


@attrs.frozen
class PredictionResult(_ResultSlots):
    """What ``AICloud.predict`` returns: the answer and everything about how it was served."""

    prediction: Any
    confidence: float
    model_id: str
    model_version: str
    requested_model_id: str
    variant: str | None = None  # "challenger" / "champion" under an A/B test, else None
    cached: bool = False
    degraded: bool = False
    degraded_reason: str | None = None
    latency_ms: float = 0.0
    prediction_id: str = ""
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_dict)
    explanation: Explanation | None = None
    error: ErrorInfo | None = None
    exception: BaseException | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def raise_for_error(self) -> PredictionResult:
        if self.exception is not None:
            raise self.exception
        return self

    @classmethod
    def _many(cls, n: int, columns: Sequence[Iterable[Any]]) -> list[PredictionResult]:
        """``n`` results built column by column: ``columns`` holds one iterable per field, in field
        order, and each result equals ``PredictionResult(*row)`` of its row. ``metadata`` must
        already be each result's own dict (what the converter would copy). A cached batch builds a
        thousand results: the generated ``__init__`` runs a Python frame and fifteen attribute
        calls per result, this sets each slot with one C-level ``map`` per field."""
        results = list(map(object.__new__, itertools.repeat(cls, n)))
        for set_field, column in zip(_RESULT_SLOTS, columns, strict=True):
            collections.deque(map(set_field, results, column), maxlen=0)
        return results


# the slots' own setters (a frozen class refuses ``setattr``; its ``__init__`` goes around the same way)
_RESULT_SLOTS = tuple(PredictionResult.__dict__[f.name].__set__ for f in attrs.fields(PredictionResult))


for _cls, _names in ((PredictionResult, _RESULT_FIELDS), (PredictionInput, ("features", "context", "validated"))):
    if tuple(a.name for a in attrs.fields(_cls)) != _names or _cls.__slots__ != ():
        raise RuntimeError(f"{_cls.__name__}'s fields and its slots base differ")  # pragma: no cover


class _ResultBuilder(_ResultSlots):
    """A ``PredictionResult`` under construction: the same slots, plainly settable."""

    __slots__ = ()


def served_result(
    prediction: Any,
    confidence: float,
    model_id: str,
    model_version: str,
    requested_model_id: str,
    variant: str | None,
    cached: bool,
    degraded: bool,
    degraded_reason: str | None,
    latency_ms: float,
    prediction_id: str,
    metadata: dict[str, Any],
    explanation: Explanation | None,
) -> PredictionResult:
    """``PredictionResult(...)`` of an answered prediction (no error), for the prediction service:
    ``metadata`` must be a new plain dict that the caller hands over (what the field's converter
    would make of it). The fields are set on a ``_ResultBuilder``, which then becomes the frozen
    class: the same object as the constructor's (equal, same repr, pickled alike, frozen), without
    the frozen class's one ``object.__setattr__`` call per field (about a microsecond a result)."""
    r: Any = _new_object(_ResultBuilder)  # its slots are PredictionResult's fields
    r.prediction = prediction
    r.confidence = confidence
    r.model_id = model_id
    r.model_version = model_version
    r.requested_model_id = requested_model_id
    r.variant = variant
    r.cached = cached
    r.degraded = degraded
    r.degraded_reason = degraded_reason
    r.latency_ms = latency_ms
    r.prediction_id = prediction_id
    r.metadata = metadata
    r.explanation = explanation
    r.error = None
    r.exception = None
    r.__class__ = PredictionResult
    return r


@attrs.frozen
class PredictionEvent:
    """One prediction outcome, as the monitor and every sink receive it."""

    model_id: str  # the model that served (or was asked, on failure)
    requested_model_id: str
    model_version: str
    timestamp: float  # epoch seconds
    latency_ms: float
    success: bool
    confidence: float = 0.0
    cached: bool = False
    degraded: bool = False
    variant: str | None = None
    provider: str | None = None
    tenant: str | None = None
    prediction_id: str = ""
    error: str | None = None
    error_type: str | None = None
    degraded_reason: str | None = None
    usage: dict[str, Any] = attrs.field(factory=dict, converter=_dict)
    prediction: Any = None  # what was answered, so a later outcome (record_outcome) can be scored
