"""The fast paths of a prediction give what the general paths give: keyed hashes, canonical bytes,
cache encoding, validation, and a batch of cached rows (results, events, outcomes)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import math
from typing import Any

import attrs
import pytest
from support.providers import LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud, FeatureSpec, ModelConfig
from hotcrm_ai.cache.codec import DecodeError, decode, encode
from hotcrm_ai.cache.keys import KeyedHash, canonical_bytes, canonical_json, canonical_many, canonical_or_none
from hotcrm_ai.config import Settings
from hotcrm_ai.errors import ValidationError
from hotcrm_ai.prediction.outcome import CacheRecord
from hotcrm_ai.prediction.validation import _check, validate_features
from hotcrm_ai.types import PredictionEvent, PredictionResult


@pytest.mark.parametrize("length", [1, 16, 32, 63, 64, 65, 200])
def test_keyed_hash_is_hmac_sha256(length: int) -> None:
    secret = bytes(range(256))[:length]
    hasher = KeyedHash(secret)
    items = (b"", b"{}", b'{"a":1}' * 50, "Zoë 日本".encode())
    for data in items:
        assert hasher.hexdigest(data) == hmac.new(secret, data, hashlib.sha256).hexdigest()
    expected = [hmac.new(secret, d, hashlib.sha256).hexdigest() for d in items]
    assert hasher.hexdigests([*items, None]) == [*expected, None]


class _Str(str):
    pass


_ODD_ROWS: list[tuple[Any, bool]] = [  # (row, whether it has a canonical form)
    ({"a": None, "b": 1.5}, True),
    ({"a": math.nan}, False),
    ({"a": math.inf, "b": "x"}, False),
    ({"a": 2**70}, True),
    ({"a": "\ud800"}, False),
    ({1: "an int key"}, True),  # the standard library writes it as "1"
    ({1: "mixed", "a": "keys"}, False),
    ({"a": _Str("subclass")}, True),
    ({"nested": {"b": [1, 2]}}, True),
    ("not a mapping", False),
]


@pytest.mark.parametrize(("odd", "has_form"), [(None, True), *_ODD_ROWS])
def test_a_batch_of_canonical_forms_is_each_rows_own(odd: Any, has_form: bool) -> None:
    """``canonical_many`` tests a batch's value types once: every row still gets exactly what it gets
    alone (the same bytes, or None when it has no canonical form), whatever one odd row holds."""
    rows: list[Any] = [{"x": float(i), "y": "Zoë", "z": i, "t": True, "n": None} for i in range(5)]
    if odd is not None:
        rows.insert(2, odd)
    got = canonical_many(rows)
    assert got == [canonical_or_none(r) for r in rows]
    assert [g is not None for g in got] == [has_form if r is odd else True for r in rows]
    for row, data in zip(rows, got, strict=True):
        if data is not None:
            assert data == canonical_bytes(row) == canonical_json(row).encode()


def test_batch_keys_are_the_single_keys() -> None:
    """``digest_keys`` (a batch's keys in one loop) gives each row the key ``key`` gives it alone."""
    ai = AICloud(Settings(), plugins=[Plugin({"test-logit": LogitProvider}, (logit_model(),))], load_entrypoints=False)
    rows = [{"x1": float(i), "x2": "Zoë", "x3": None} for i in range(5)]
    for tenant in ("acme", "globex", None):
        prefix = ai.cache.key_prefix(tenant=tenant, model_id="logit-v1", model_version="1.0.0")
        keys = ai.cache.digest_keys(prefix, [*map(canonical_bytes, rows), None])
        assert keys == [
            *(ai.cache.key(tenant=tenant, model_id="logit-v1", model_version="1.0.0", features=r) for r in rows),
            None,
        ]
    ai.close()


@pytest.mark.parametrize(
    "features",
    [
        {"b": 1, "a": 2.5, "c": None, "d": True, "e": "Zoë"},
        {"x": 1e-05, "y": -0.0, "z": 10**18},
        {"nested": {"b": [1, 2], "a": None}},
        {"big": 2**70},
    ],
)
def test_canonical_bytes_are_the_canonical_json(features: dict[str, Any]) -> None:
    data = canonical_bytes(features)
    assert data.decode("utf-8") == canonical_json(features)
    assert json.loads(data) == features
    assert canonical_bytes(dict(reversed(list(features.items())))) == data


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_canonical_bytes_refuse_what_orjson_would_write_as_null(bad: float) -> None:
    with pytest.raises(ValidationError):
        canonical_bytes({"a": 1.0, "b": bad})
    with pytest.raises(ValidationError):
        canonical_bytes({"a": None, "b": bad})  # a null already in the text must not hide the NaN


def test_encode_takes_the_fast_path_only_for_plain_finite_json() -> None:
    record = CacheRecord({"label": "hot", "p": 0.25}, 50.0, "m", "1", 1.5, {"tokens": [1, 2]})
    assert decode(encode(record), CacheRecord) == record
    assert decode(encode({"t": (1, 2)})) == {"t": [1, 2]}
    assert decode(encode({"big": 2**70})) == {"big": 2**70}
    with pytest.raises(ValueError):
        encode(CacheRecord(float("nan"), 50.0, "m", "1", 1.5))
    with pytest.raises(ValueError):
        encode({"deep": [{"x": float("inf")}]})
    with pytest.raises(TypeError):  # orjson would write it as a string; the cache refuses it as before
        encode(CacheRecord(1.0, 50.0, "m", "1", 1.5, {"at": datetime.date(2026, 1, 1)}))


def test_a_record_a_hit_could_not_serve_is_a_miss() -> None:
    good = {"prediction": 1, "confidence": 50, "model_id": "m", "model_version": "1", "stored_at": 2}
    assert decode(encode(good), CacheRecord) == CacheRecord(1, 50.0, "m", "1", 2.0)
    for field, value in (("confidence", 150.0), ("confidence", True), ("stored_at", "x"), ("model_id", 3)):
        with pytest.raises(DecodeError):
            decode(encode({**good, field: value}), CacheRecord)


def _model(**spec: Any) -> ModelConfig:
    features = (FeatureSpec(name="a", dtype="number", **spec), FeatureSpec(name="b", dtype="number"))
    return ModelConfig(id="m", name="m", type="regression", provider="p", features=features)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"a": 1.0, "b": 2}, None),
        ({"b": 2.0, "a": 10}, None),
        ({"a": True, "b": 2.0}, "a"),
        ({"a": float("nan"), "b": 1.0}, "a"),
        ({"a": 1.0, "b": float("inf")}, "b"),
        ({"a": float("-inf"), "b": float("inf")}, "a,b"),
        ({"a": 1.0, "b": 1.7e308}, None),
        ({"a": 10**400, "b": 1.0}, "a"),
        ({"a": 1.0}, "b"),
        ({"a": 1.0, "b": 2.0, "c": 3.0}, "c"),
        ({"a": None, "b": 1.0}, "a"),
        ({"a": -5.0, "b": 1.0}, "a"),
        ({"a": 50.0, "b": 1.0}, "a"),
        ({"a": "1", "b": 1.0}, "a"),
    ],
)
def test_fast_validation_agrees_with_the_per_field_check(row: dict[str, Any], field: str | None) -> None:
    model = _model(minimum=0.0, maximum=10.0)
    if field is None:
        clean = validate_features(model, row)
        assert clean == row and list(clean) == ["a", "b"]  # in the model's order, as the full check gives
        assert all(_check(spec, row[spec.name]) is None for spec in model.features)
    else:
        with pytest.raises(ValidationError) as caught:
            validate_features(model, row)
        assert [e.field for e in caught.value.errors] == field.split(",")


def test_fast_validation_leaves_an_overflowing_sum_to_the_full_check() -> None:
    features = tuple(FeatureSpec(name=n, dtype="number") for n in ("x", "y"))
    model = ModelConfig(id="m", name="m", type="regression", provider="p", features=features)
    row = {"x": 1.7e308, "y": 1.7e308}  # each finite; their sum is not
    assert validate_features(model, row) == row
    one = ModelConfig(id="one", name="one", type="regression", provider="p", features=features[:1])
    assert validate_features(one, {"x": 2}) == {"x": 2}
    with pytest.raises(ValidationError):
        validate_features(one, {"x": 10**400})


def test_results_and_events_are_built_in_field_order() -> None:
    """The hot path builds these positionally: a field added in the middle must fail here first."""
    assert [a.name for a in attrs.fields(PredictionResult)][:13] == [
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
    ]
    assert [a.name for a in attrs.fields(PredictionEvent)][:18] == [
        "model_id",
        "requested_model_id",
        "model_version",
        "timestamp",
        "latency_ms",
        "success",
        "confidence",
        "cached",
        "degraded",
        "variant",
        "provider",
        "tenant",
        "prediction_id",
        "error",
        "error_type",
        "degraded_reason",
        "usage",
        "prediction",
    ]


def test_a_batch_of_cached_rows_answers_and_records_like_single_hits() -> None:
    ai = AICloud(Settings(), plugins=[Plugin({"test-logit": LogitProvider}, (logit_model(),))], load_entrypoints=False)
    rows = [{"x1": float(i), "x2": 1.0, "x3": -1.0} for i in range(50)]
    ctx = {"tenant": "acme"}
    first = ai.batch_predict("logit-v1", rows, context=ctx)
    again = ai.batch_predict("logit-v1", [*rows, {"x1": "bad"}], context=ctx)
    assert [r.cached for r in again[:50]] == [True] * 50 and not again[50].ok
    for a, b in zip(first, again, strict=False):
        assert (b.prediction, b.confidence, b.model_id, b.model_version) == (
            a.prediction,
            a.confidence,
            a.model_id,
            a.model_version,
        )
        assert b.requested_model_id == "logit-v1" and b.metadata["provider"] == "test-logit" and not b.degraded
    again[0].metadata["mine"] = 1  # each result owns its metadata
    assert all("mine" not in r.metadata for r in again[1:50])
    single = ai.predict("logit-v1", rows[7], context=ctx)
    assert single.cached and single.prediction == again[7].prediction
    ids = [r.prediction_id for r in [*first, *again[:50], single]]
    assert len(set(ids)) == len(ids) and all(len(i) == 32 for i in ids)
    stats = ai.monitor.stats("logit-v1")
    assert stats is not None and stats.total == 50 + 51 + 1 and stats.cached == 51 and stats.failures == 1
    events = ai.monitor.store.events("logit-v1")
    cached_events = [e for e in events if e.cached]
    assert {e.prediction_id for e in cached_events} == {r.prediction_id for r in [*again[:50], single]}
    assert all(e.tenant == "acme" and e.provider == "test-logit" and e.success for e in cached_events)
    outcome = ai.record_outcome(again[3].prediction_id, again[3].prediction["probability"])
    assert outcome.kind == "value" and outcome.abs_error == 0.0
    assert math.isfinite(stats.latency_mean_ms)
    ai.close()
