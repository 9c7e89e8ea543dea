"""The fast paths of a prediction give what the general paths give: keyed hashes, canonical bytes,
cache encoding, validation, and a batch of cached rows (results, events, outcomes)."""

from __future__ import annotations

import datetime
import gc
import hashlib
import hmac
import json
import math
import threading
import time
from typing import Any

import attrs
import pytest
from support.cache import SwitchableBackend
from support.providers import FlakyProvider, LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud, FeatureSpec, ModelConfig
from hotcrm_ai.cache import CacheManager, MemoryBackend
from hotcrm_ai.cache.codec import DecodeError, Encoded, decode, encode
from hotcrm_ai.cache.keys import (
    KeyedHash,
    canonical_bytes,
    canonical_json,
    canonical_many,
    canonical_or_none,
    safe_component,
    tenant_component,
)
from hotcrm_ai.cache.singleflight import SingleFlight
from hotcrm_ai.config import CacheSettings, PredictionSettings, Settings
from hotcrm_ai.errors import CircuitOpenError, ProviderServerError, ValidationError
from hotcrm_ai.monitor import EventStore, PerformanceMonitor
from hotcrm_ai.monitor.outcomes import OutcomeTracker
from hotcrm_ai.prediction.breaker import BreakerConfig, CircuitBreaker
from hotcrm_ai.prediction.outcome import CacheRecord, RecordFields, Served
from hotcrm_ai.prediction.validation import _check, validate_features
from hotcrm_ai.types import Explanation, PredictionEvent, PredictionOutput, PredictionResult


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
    ({"a": "a { in a string", "b": 1.0}, True),  # a "{" that is not a row's start
    ({"{": 1.0}, True),
    ({}, True),
    ({"a": None}, True),
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


@pytest.mark.parametrize("n", [1, 2, 7])
def test_a_batch_encoded_at_once_is_cut_into_each_rows_own(n: int) -> None:
    """The whole-list encoding cut at each row's "{" gives every row its own canonical bytes, for
    shared and differing keys, Unicode, empty rows, None values and a NaN among them."""
    rows: list[Any] = [{"b": float(i), "a": "Zoë 日本", "c": i, "d": None} for i in range(n)]
    rows.append({})
    rows.append({"z": 1e16, "y": -0.0, "x": 1e-07, "w": True})
    rows.append({"a": math.nan, "b": None})
    got = canonical_many(rows)
    assert got == [canonical_or_none(r) for r in rows]
    assert got[-1] is None and got[-2] == canonical_bytes(rows[-2])


def test_results_built_by_columns_are_the_results_built_one_by_one() -> None:
    """``PredictionResult._many`` (a cached batch's results) gives results equal to, printed and
    pickled like, and as frozen as the ones the class builds."""
    import pickle

    explanation = Explanation(0.1, 0.3, "probability", (), (), text="x", method="exact")
    rows = [
        ({"p": 0.25}, 50.0, "m", "1", "req", None, True, False, None, 1.5, "a" * 32, {"provider": "p"}, None),
        (
            3,
            0.0,
            "m",
            "1",
            "req",
            "challenger",
            True,
            False,
            None,
            0.0,
            "b" * 32,
            {"provider": "p", "u": 1},
            explanation,
        ),
    ]
    columns = [*zip(*rows, strict=True), (None, None), (None, None)]
    built = PredictionResult._many(2, columns)
    plain = [PredictionResult(*row) for row in rows]
    assert built == plain and list(map(repr, built)) == list(map(repr, plain))
    assert pickle.loads(pickle.dumps(built)) == plain and pickle.dumps(built) == pickle.dumps(plain)
    assert [attrs.asdict(r) for r in built] == [attrs.asdict(r) for r in plain]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built[0].confidence = 1.0  # type: ignore[misc]
    assert built[0].exception is None and built[0].error is None and built[0].ok


def test_a_batch_decoded_at_once_is_each_entry_decoded_alone() -> None:
    """``decode_all`` gives what ``decode`` gives each entry (None stays None), and refuses the whole
    batch (the caller then decodes each) when any entry is not in the usual shape."""
    from hotcrm_ai.cache.codec import decode_all

    good = {"prediction": {"p": 0.5}, "confidence": 50.0, "model_id": "m", "model_version": "1", "stored_at": 2.0}
    record = {**good, "metadata": {"u": 1}, "explanation": None}
    raws = [encode({**record, "confidence": float(i % 101)}) for i in range(300)]  # more than one chunk
    with_gaps = [None, *raws[:150], None, *raws[150:]]
    for batch in (raws, with_gaps):
        expected = [None if r is None else decode(r, RecordFields) for r in batch]
        assert decode_all(batch, RecordFields) == expected
        assert decode_all(batch) == [None if r is None else decode(r) for r in batch]
    assert decode_all([None, None], RecordFields) == [None, None]
    odd = [
        b"garbage",
        b'{"v":2,"d":{}}',
        encode(good),  # metadata and explanation left out: decode fills them in, the bulk test does not
        encode({**record, "confidence": 50}),  # an int: decode turns it into 50.0
        encode({**record, "confidence": 150.0}),
        encode({**record, "stored_at": "x"}),
        encode({**record, "model_id": 3}),
        encode({**record, "extra": 1}),
        encode({**record, "metadata": None}),
        b'{"v":1,"d":{},"x":1}',
        b'{"v":[1],"d":{}}',
    ]
    for entry in odd:
        assert decode_all([*raws[:40], entry, *raws[40:80]], RecordFields) is None


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


# -- a single miss ----------------------------------------------------------------------------------


def test_misses_for_new_and_known_tenants_store_once_and_record_one_event_each() -> None:
    plugin = Plugin({"test-logit": LogitProvider}, (logit_model(),))
    ai = AICloud(Settings(), plugins=[plugin], load_entrypoints=False)
    rows = [{"x1": float(i), "x2": 0.5, "x3": -1.0} for i in range(30)]
    tenants = [f"t{i}" for i in range(20)] + ["acme"] * 10  # new tenants, then new rows of a known one
    first = [ai.predict("logit-v1", row, context={"tenant": t}) for row, t in zip(rows, tenants, strict=True)]
    again = [ai.predict("logit-v1", row, context={"tenant": t}) for row, t in zip(rows, tenants, strict=True)]
    other = ai.predict("logit-v1", rows[0], context={"tenant": "someone else"})
    assert not any(r.cached for r in first) and all(r.cached for r in again) and not other.cached
    assert [r.prediction for r in again] == [r.prediction for r in first]
    provider = plugin.instances[0]
    assert isinstance(provider, LogitProvider) and provider.calls == 31  # one provider call per miss
    stats = ai.cache.stats()
    assert stats.sets == 31 and ai.cache.writes() == 31 and stats.misses == 31 and stats.hits == 30
    events = ai.monitor.store.events("logit-v1")
    assert len(events) == 61 and len({e.prediction_id for e in events}) == 61
    assert {e.tenant for e in events} == {*tenants, "someone else"}
    ai.record_outcome(first[0].prediction_id, first[0].prediction["probability"])  # its pending record exists
    ai.close()


TENANTS = ["acme", "a.b-c_d", "_", "__", "a:b", "Zoë", "x" * 64, "x" * 65, "a b", "%5F", "~x"]


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_key_safe_tenant_is_its_own_component(tenant: str) -> None:
    assert tenant_component(tenant) == safe_component(tenant)


def test_a_new_tenants_prefix_is_the_key_without_its_digest() -> None:
    m = CacheManager(MemoryBackend(), CacheSettings(namespace="ns"))
    for model_id, version in (("m", "1"), ("a/b:c", "2.0@x"), ("m" * 80, "1")):
        for tenant in [*TENANTS, None]:
            expected = m.digest_key(tenant=tenant, model_id=model_id, model_version=version, digest="")
            assert m.key_prefix(tenant=tenant, model_id=model_id, model_version=version) == expected
            assert m.key_prefix(tenant=tenant, model_id=model_id, model_version=version) == expected  # remembered
    for bad in ("", 5, "\ud800"):
        with pytest.raises(ValidationError) as caught:
            m.key_prefix(tenant=bad, model_id="m", model_version="1")  # type: ignore[arg-type]
        assert caught.value.errors[0].field == "tenant"
    with pytest.raises(ValidationError):
        m.key_prefix(tenant="acme", model_id="", model_version="1")


def test_the_lookup_in_the_flight_is_skipped_only_when_nothing_was_written_since() -> None:
    m = CacheManager(MemoryBackend(), CacheSettings())
    key = m.key(tenant="acme", model_id="m", model_version="1", features={"x": 1})
    computed: list[Any] = []

    def compute(stale: Any) -> tuple[Any, float]:
        computed.append(stale)
        return {"n": len(computed)}, 60.0

    before = m.writes()
    assert m.get(key) is None
    m.set(key, {"n": 0}, 60.0)  # a concurrent leader stored it after this caller's lookup
    found = m.get_or_refresh(key, compute, missed=True, unchanged_since=before)
    assert found.source == "cache" and found.value == {"n": 0} and computed == []
    other = m.key(tenant="acme", model_id="m", model_version="1", features={"x": 2})
    mark = m.writes()
    assert m.get(other) is None
    made = m.get_or_refresh(other, compute, missed=True, unchanged_since=mark)
    assert made.source == "computed" and computed == [None] and m.get(other) == {"n": 1}
    assert m.writes() == mark + 1
    stats = m.stats()
    assert (stats.hits, stats.misses, stats.sets) == (2, 1, 2)  # the first miss turned out a hit


def test_a_stale_entry_still_reaches_compute_through_the_service() -> None:
    """A stale answer found before the flight is looked at again inside it and offered to compute
    (served when the provider fails): the lookup is skipped only when there was no entry at all."""
    ai = AICloud(
        Settings(prediction=PredictionSettings(stale_if_error_s=600, retries=0)),
        plugins=[Plugin({"test-flaky": FlakyProvider}, (logit_model(provider="test-flaky", cache_ttl_s=0.05),))],
        load_entrypoints=False,
    )
    flaky = ai.providers.get(ai.registry.get("logit-v1"))[0]
    assert isinstance(flaky, FlakyProvider)
    flaky.failure_rate = 0.0
    row = {"x1": 1.0, "x2": 2.0, "x3": 3.0}
    fresh = ai.predict("logit-v1", row)
    time.sleep(0.1)
    flaky.failure_rate = 1.0
    stale = ai.predict("logit-v1", row)
    assert stale.degraded and stale.cached and stale.prediction == fresh.prediction
    ai.close()


def test_followers_share_the_leaders_value_or_error_and_give_up_after_their_timeout() -> None:
    flights: SingleFlight[str] = SingleFlight()
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "leader"

    results: dict[str, Any] = {}
    leader = threading.Thread(target=lambda: results.setdefault("leader", flights.do("k", slow)))
    leader.start()
    assert started.wait(5)
    assert flights.do("k", lambda: "impatient", wait_timeout_s=0.05) == ("impatient", False)
    follower = threading.Thread(target=lambda: results.setdefault("follower", flights.do("k", lambda: "own")))
    follower.start()
    time.sleep(0.05)
    release.set()
    leader.join(5)
    follower.join(5)
    assert results == {"leader": ("leader", False), "follower": ("leader", True)}
    assert flights.in_flight() == 0 and flights.shared == 1

    started.clear()
    release.clear()

    def failing() -> str:
        started.set()
        release.wait(5)
        raise ProviderServerError("down", provider="p", status=503)

    errors: list[BaseException] = []

    def call(fn: Any) -> None:
        try:
            flights.do("k", fn)
        except ProviderServerError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(failing,))]
    threads[0].start()
    assert started.wait(5)
    threads += [threading.Thread(target=call, args=(lambda: "unused",)) for _ in range(3)]
    for t in threads[1:]:
        t.start()
    time.sleep(0.05)
    release.set()
    for t in threads:
        t.join(5)
    assert len(errors) == 4 and len({id(e) for e in errors}) == 1 and flights.in_flight() == 0


def test_a_closed_breaker_admits_without_its_lock_and_still_trips_and_ignores_late_outcomes() -> None:
    breaker = CircuitBreaker("p", BreakerConfig(failure_threshold=2, min_calls=100, window=100))
    early = breaker.before_call()
    for _ in range(2):
        breaker.report(breaker.before_call(), ProviderServerError("down", provider="p", status=503))
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    breaker.success(early)  # admitted while closed: its late success does not close the circuit
    assert breaker.state == "open" and breaker.opened_count == 1


def test_cancelling_integers_beyond_the_float_range_are_refused() -> None:
    features = tuple(FeatureSpec(name=n, dtype="number") for n in ("x", "y"))
    model = ModelConfig(id="m", name="m", type="regression", provider="p", features=features)
    with pytest.raises(ValidationError) as caught:
        validate_features(model, {"x": 10**400, "y": -(10**400)})  # their sum is 0, each is not a float
    assert [e.field for e in caught.value.errors] == ["x", "y"]


def test_pending_outcomes_are_bounded_and_score_reduced_predictions() -> None:
    tracker = OutcomeTracker(3)
    events = [
        PredictionEvent("m", "m", "1", 1.0, 1.0, True, prediction_id=f"p{i}", prediction=p)
        for i, p in enumerate([0.25, {"label": "hot", "probability": 0.9}, "cold", 2.0])
    ]
    for event in events:
        tracker.remember(event)
    with pytest.raises(ValidationError):
        tracker.resolve("p0", 0.25)  # the oldest went when the fourth came
    assert tracker.resolve("p1", "hot").correct is True
    assert tracker.resolve("p2", "hot").correct is False
    assert tracker.resolve("p3", 2.5).abs_error == 0.5
    tracker.clear("m")
    with pytest.raises(ValidationError):
        tracker.resolve("p9", 1.0)
    assert tracker.outcomes("m") == []


def test_a_closed_pool_builds_a_new_provider_for_the_next_call() -> None:
    plugin = Plugin({"test-logit": LogitProvider}, (logit_model(),))
    ai = AICloud(Settings(), plugins=[plugin], load_entrypoints=False)
    model = ai.registry.get("logit-v1")
    first, breaker = ai.providers.get(model)
    assert ai.providers.get(model) == (first, breaker)
    ai.providers.close()
    second, breaker2 = ai.providers.get(model)
    assert second is not first and breaker2 is not breaker and len(plugin.instances) == 2
    ai.close()


def test_what_a_miss_stores_is_the_records_document() -> None:
    from hotcrm_ai.converter import unstructure

    model = logit_model()
    explanation = Explanation(0.1, 0.3, "probability", (), (), text="x", method="exact")
    for output, extra in (
        (PredictionOutput({"probability": 0.25}, 50.0), {}),
        (PredictionOutput("hot", 12.5, {"usage": {"tokens": 3}, "notes": [1, None]}), {}),
        (PredictionOutput(0.5, 0.0), {"explanation": explanation}),
    ):
        served = Served(model, output, stored_at=1234.5, **extra)  # type: ignore[arg-type]
        record = served.record()
        assert record is not None
        document = served.document()
        if isinstance(document, Encoded):  # written ahead: the same bytes as the general encoder's
            assert document.data == encode(unstructure(record)) and extra == {}
            stored = json.loads(document.data)["d"]
        else:
            stored = unstructure(document) if isinstance(document, CacheRecord) else document
        assert stored == unstructure(record)
        assert decode(encode(document), CacheRecord) == record
    assert Served(model, PredictionOutput(1.0, 5.0), stored_at=1.0, degraded_reason="x").document() is None
    assert Served(model, PredictionOutput(1.0, 5.0)).document() is None


def test_a_row_in_the_models_order_is_copied_whole_and_any_order_gives_the_same_features() -> None:
    from collections import OrderedDict

    model = _model(minimum=0.0, maximum=10.0)
    in_order = {"a": 1.5, "b": 2}
    for row in (in_order, {"b": 2, "a": 1.5}, OrderedDict(in_order)):
        clean = validate_features(model, row)
        assert clean == {"a": 1.5, "b": 2} and list(clean) == ["a", "b"] and type(clean) is dict
        assert clean is not row
    clean = validate_features(model, in_order)
    clean["a"] = 9.0
    assert in_order["a"] == 1.5  # a copy: the caller's row is never the provider's
    with pytest.raises(ValidationError):
        validate_features(model, {"a": 11.0, "b": 2})  # in order, out of bounds: still refused


# -- a batch of cached rows: record fields, event rows, untracked pending outcomes -------------------


def test_pending_outcomes_leave_the_garbage_collectors_view() -> None:
    """A pending entry is a plain tuple of atoms: after one collection the collector no longer walks
    it (a NamedTuple or an event object would stay tracked, and every full collection would walk
    the whole map)."""
    tracker = OutcomeTracker(100)
    for i, p in enumerate([0.25, {"label": "hot", "probability": 0.9}, "cold", 2.0]):
        tracker.remember(PredictionEvent("m", "m", "1", 1.0, 1.0, True, prediction_id=f"p{i}", prediction=p))
    rows = [
        attrs.astuple(
            PredictionEvent("m", "m", "1", 2.0, 1.0, True, prediction_id=f"r{i}", prediction=p), recurse=False
        )
        for i, p in enumerate([{"probability": 0.5}, 1.5])
    ]
    tracker.remember_rows([*rows, attrs.astuple(PredictionEvent("m", "m", "1", 2.0, 1.0, False), recurse=False)])
    gc.collect()
    stored = [v for shard in tracker._shards for v in shard.values()]
    assert len(stored) == 6 and not any(gc.is_tracked(v) for v in stored)
    assert tracker.resolve("p1", {"label": "hot"}).correct is True
    assert tracker.resolve("r0", 0.75).abs_error == 0.25 and tracker.resolve("r1", 1.5).abs_error == 0.0
    tracker.remember_rows(rows * 60)  # past the bound: the oldest go, the map stays at 100
    assert len(tracker._order) == 100 and sum(len(s) for s in tracker._shards) <= 100


class _ListSink:
    name = "list"

    def __init__(self) -> None:
        self.events: list[PredictionEvent] = []

    def record(self, event: PredictionEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


def test_event_rows_are_recorded_as_their_events_with_or_without_other_sinks() -> None:
    events = [
        PredictionEvent("a", "a", "1", 1.0 + i, 2.0, True, 40.0, True, tenant="t", prediction_id=f"p{i}", prediction=i)
        for i in range(5)
    ] + [PredictionEvent("b", "a", "2", 9.0, 1.0, True, 60.0, prediction_id="q", prediction={"label": "x"})]
    rows = [attrs.astuple(e, recurse=False) for e in events]
    plain = PerformanceMonitor()
    sink = _ListSink()
    fanned = PerformanceMonitor([EventStore(), sink])
    for monitor in (plain, fanned):
        monitor.record_checked_rows(rows)
        assert monitor.store.events("a") == events[:5] and monitor.store.events("b") == events[5:]
        assert monitor.record_outcome("p3", 3.5).abs_error == 0.5
        assert monitor.record_outcome("q", "x").correct is True
        stats = monitor.stats("a")
        assert stats is not None and stats.total == 5 and stats.cached == 5 and stats.mean_confidence == 40.0
    assert sink.events == events and all(type(e) is PredictionEvent for e in sink.events)
    plain.record(events[0])  # single events and rows share the ring, in arrival order
    assert plain.store.events("a") == [*events[:5], events[0]]


def test_a_batch_row_whose_cached_entry_is_not_a_servable_record_is_recomputed() -> None:
    ai = AICloud(Settings(), plugins=[Plugin({"test-logit": LogitProvider}, (logit_model(),))], load_entrypoints=False)
    rows = [{"x1": float(i), "x2": 1.0, "x3": -1.0} for i in range(6)]
    ctx = {"tenant": "acme"}
    first = ai.batch_predict("logit-v1", rows, context=ctx)
    model = ai.registry.get("logit-v1")
    keys = [ai.cache.key(tenant="acme", model_id=model.id, model_version=model.version, features=r) for r in rows]
    good = ai.cache.get(keys[0])
    assert decode(encode(good), RecordFields) == attrs.astuple(decode(encode(good), CacheRecord), recurse=False)
    ai.cache.set(keys[1], {**good, "confidence": 150.0}, 300)  # outside 0-100
    ai.cache.set(keys[2], {**good, "extra": 1}, 300)  # not the record's shape
    ai.cache.set(keys[3], {**good, "model_version": "0.9"}, 300)  # another version's answer
    ai.cache.set(keys[4], {**good, "stored_at": time.time() - 10 * model.cache_ttl_s}, 300)  # stale
    again = ai.batch_predict("logit-v1", rows, context=ctx)
    assert [r.cached for r in again] == [True, False, False, False, False, True]
    assert [r.prediction for r in again] == [r.prediction for r in first]
    assert [r.prediction for r in ai.batch_predict("logit-v1", rows, context=ctx)] == [r.prediction for r in first]
    assert all(r.cached for r in ai.batch_predict("logit-v1", rows, context=ctx))
    stats = ai.monitor.stats("logit-v1")
    assert stats is not None and stats.total == 24 and stats.cached == 2 + 6 + 6
    ai.close()


@pytest.mark.parametrize(
    ("prediction", "metadata"),
    [
        (math.nan, {}),
        (0.5, {"score": math.inf}),
        (2**70, {}),
        ({1, 2}, {}),
        (datetime.date(2024, 1, 2), {}),
        (0.5, {"when": datetime.datetime(2024, 1, 2)}),
        ("\ud800", {}),
        (_Str("subclass"), {}),
    ],
)
def test_a_record_written_ahead_walks_what_the_provider_chose(prediction: Any, metadata: dict[str, Any]) -> None:
    """Only the prediction and its metadata are walked when a miss's record is written ahead: a value
    without a plain JSON form there leaves the document to the general encoder, which decides as it
    always did (refuses it, or writes it with the standard library)."""
    served = Served(logit_model(), PredictionOutput(prediction, 50.0, metadata), stored_at=1234.5)
    document = served.document()
    assert isinstance(document, dict)
    try:
        general = encode(document)
    except (TypeError, ValueError):
        general = None
    m = CacheManager(MemoryBackend(), CacheSettings())
    m.set("k", document, 60.0)
    stored = m.get("k")
    assert (stored is None) == (general is None)
    if general is not None:
        assert stored == json.loads(general)["d"]


def test_a_miss_stores_the_bytes_the_general_encoder_writes() -> None:
    """The record a miss writes ahead decodes to the record of the answer and is what ``encode`` of
    the same document gives, so every instance sharing a cache reads it alike."""
    plugin = Plugin({"test-logit": LogitProvider}, (logit_model(),))
    ai = AICloud(Settings(), plugins=[plugin], load_entrypoints=False)
    row = {"x1": 1.0, "x2": 0.5, "x3": -1.0}
    result = ai.predict("logit-v1", row, context={"tenant": "t1"})
    model = ai.registry.get("logit-v1")
    key = ai.cache.key(tenant="t1", model_id=model.id, model_version=model.version, features=row)
    record = ai.cache.get(key, CacheRecord)
    assert isinstance(record, CacheRecord)
    assert (record.prediction, record.confidence, record.model_id) == (result.prediction, result.confidence, model.id)
    raw = ai.cache._backend.get(key)  # type: ignore[union-attr]
    assert raw == encode(
        {
            "prediction": record.prediction,
            "confidence": record.confidence,
            "model_id": record.model_id,
            "model_version": record.model_version,
            "stored_at": record.stored_at,
            "metadata": record.metadata,
            "explanation": None,
        }
    )
    again = ai.predict("logit-v1", row, context={"tenant": "t1"})
    assert again.cached and again.prediction == result.prediction
    ai.close()


def test_a_write_the_backend_refuses_lands_in_memory_once() -> None:
    """The direct write of a healthy backend fails over as every other operation does: the fault is
    counted, the entry goes to the memory fallback, and the backend is not tried a second time
    (no probe in the same call, even with no cool-down)."""
    backend = SwitchableBackend()
    m = CacheManager(backend, CacheSettings(retry_backend_after_s=0.0))  # type: ignore[arg-type]
    m.set("before", {"n": 0}, 60.0)
    backend.broken = True
    m.set("k", {"n": 1}, 60.0)
    assert backend.calls == {"set_many": 2}
    stats = m.stats()
    assert stats.degraded and stats.errors == 1 and stats.fallbacks == 1 and stats.sets == 2
    assert m.writes() == 2
    assert m.get("k") == {"n": 1}  # from the fallback (the probe this get makes fails again)


def test_a_memory_entry_holds_no_more_than_its_bytes() -> None:
    """A producer's bytes may sit in a far larger buffer (orjson's output holds a 4 KB allocation
    whatever its length): the memory backend keeps exact copies, so what it holds is what its byte
    bound counts, and each miss does not take a fresh page."""
    import tracemalloc

    import orjson

    backend = MemoryBackend(10_000)
    tracemalloc.start()
    try:
        backend.set_many([(f"k{i}", orjson.dumps({"n": i, "pad": "x" * 100}), 60.0) for i in range(1000)])
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 1000 * 1024  # about 400 bytes an entry; 4 KB an entry without the copies
    assert backend.get("k7") == orjson.dumps({"n": 7, "pad": "x" * 100})
    assert backend.stats()["bytes"] == sum(len(f"k{i}") + len(backend.get(f"k{i}") or b"") for i in range(1000))
