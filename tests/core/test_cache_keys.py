"""Cache keys: tenant isolation, canonical ordering, no raw values, unicode, NaN rejected."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotcrm_ai.cache.keys import cache_key, canonical_json, features_digest, safe_component, tenant_component
from hotcrm_ai.errors import ValidationError

SECRET = b"a test deployment secret, 32 bytes!"
KEY_RE = re.compile(r"^ns:v2:[A-Za-z0-9._%~-]+:[A-Za-z0-9._%~-]+:[A-Za-z0-9._%~-]+:[0-9a-f]{64}$")


def key(
    tenant: str | None = "acme", model: str = "lead-scoring-v1", version: str = "1.0.0", features: object = None
) -> str:
    return cache_key("ns", tenant, model, version, {"a": 1, "b": "x"} if features is None else features, secret=SECRET)


def test_format_and_digest_of_canonical_json() -> None:
    features = {"b": [1, 2.5, None], "a": {"z": True, "y": "é"}}
    k = key(features=features)
    assert KEY_RE.match(k), k
    text = json.dumps(features, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    expected = hmac.new(SECRET, text, hashlib.sha256).hexdigest()
    assert k.endswith(":" + expected)
    assert k.split(":")[:5] == ["ns", "v2", "acme", "lead-scoring-v1", "1.0.0"]
    # a guessed input cannot be confirmed from the key without the secret
    assert not k.endswith(":" + hashlib.sha256(text).hexdigest())
    assert cache_key("ns", "acme", "lead-scoring-v1", "1.0.0", features, secret=b"another deployment's!") != k


def test_canonical_ordering_top_level_and_nested() -> None:
    assert key(features={"a": 1, "b": {"x": 1, "y": 2}}) == key(features={"b": {"y": 2, "x": 1}, "a": 1})
    assert key(features={"a": [1, 2]}) != key(features={"a": [2, 1]})  # list order is data
    assert key(features={"a": 1}) != key(features={"a": "1"})
    assert key(features={"a": True}) != key(features={"a": 1})


def test_tenants_model_and_version_each_separate_entries() -> None:
    keys = {key(tenant=t) for t in ("acme", "globex", None, "_", "ACME")}
    assert len(keys) == 5
    assert key(version="1.0.0") != key(version="1.0.1")
    assert key(model="m1") != key(model="m2")


def test_separator_in_a_tenant_cannot_forge_another_key() -> None:
    # without escaping, tenant "acme:m" + model "x" would read as tenant "acme" + model "m:x"...
    forged = cache_key("ns", "acme:m", "x", "1", {"a": 1}, secret=SECRET)
    honest = cache_key("ns", "acme", "m:x", "1", {"a": 1}, secret=SECRET)
    assert forged != honest
    assert forged.count(":") == honest.count(":") == 5
    assert "acme%3Am" in forged and "m%3Ax" in honest
    # the escape character itself is escaped, so "a%3Ab" and "a:b" stay apart
    assert cache_key("ns", "a%3Ab", "m", "1", {}, secret=SECRET) != cache_key("ns", "a:b", "m", "1", {}, secret=SECRET)


def test_none_tenant_and_literal_underscore_differ() -> None:
    assert tenant_component(None) == "_"
    assert tenant_component("_") == "%5F"
    assert key(tenant=None) != key(tenant="_")


def test_raw_feature_values_never_in_key() -> None:
    features = {"email": "jane.doe@example.com", "phone": "+44 7700 900123", "revenue": 987654321}
    k = cache_key("ns", "acme", "m", "1", features, secret=SECRET)
    for raw in ("jane", "example", "7700", "987654321", "email", "phone", "revenue"):
        assert raw not in k


def test_unicode_values_and_tenants() -> None:
    assert canonical_json({"name": "Zoë 日本"}) == '{"name":"Zoë 日本"}'
    k1 = cache_key("ns", "café", "modèle", "1", {"name": "Zoë 日本"}, secret=SECRET)
    # other normal form: other tenant
    k2 = cache_key("ns", "cafe\u0301", "modèle", "1", {"name": "Zoë 日本"}, secret=SECRET)
    assert k1 != k2
    assert k1.isascii()
    assert "caf%C3%A9" in k1
    assert key(features={"n": "Zoë"}) != key(features={"n": "Zoe"})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_rejected_naming_features(bad: float) -> None:
    with pytest.raises(ValidationError) as err:
        key(features={"a": 1, "nested": {"x": [bad]}})
    assert err.value.errors[0].field == "features"
    assert "finite" in str(err.value)


@pytest.mark.parametrize("features", [{"when": {1, 2}}, {"x": object()}, {1: "a", "b": 2}])
def test_values_without_json_form_rejected(features: object) -> None:
    with pytest.raises(ValidationError) as err:
        key(features=features)
    assert err.value.errors[0].field == "features"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tenant": ""}, "tenant"),
        ({"tenant": 5}, "tenant"),
        ({"model": ""}, "model_id"),
        ({"version": None}, "model_version"),
        ({"features": ["a", 1]}, "features"),
    ],
)
def test_bad_components_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        key(**kwargs)
    assert err.value.errors[0].field == field


@pytest.mark.parametrize("ns", ["", "a:b", "with space", "x" * 65, "star*"])
def test_namespace_must_be_key_safe(ns: str) -> None:
    with pytest.raises(ValidationError) as err:
        cache_key(ns, "t", "m", "1", {}, secret=SECRET)
    assert err.value.errors[0].field == "namespace"


def test_long_components_are_hashed_and_stay_distinct() -> None:
    long_a, long_b = "t" * 500 + "a", "t" * 500 + "b"
    ka, kb = key(tenant=long_a), key(tenant=long_b)
    assert ka != kb
    assert len(ka) < 250
    assert ka.split(":")[2].startswith("~") and len(ka.split(":")[2]) == 41
    # a short tenant that looks like a hashed one is escaped, so it cannot collide
    assert safe_component(ka.split(":")[2]).startswith("%7E")


def test_digest_is_stable() -> None:
    assert features_digest({"b": 2, "a": 1}, secret=SECRET) == features_digest({"a": 1, "b": 2}, secret=SECRET)
    assert features_digest({}, secret=SECRET) == hmac.new(SECRET, b"{}", hashlib.sha256).hexdigest()


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_tenant_encoding_is_injective(a: str, b: str) -> None:
    if a != b:
        assert tenant_component(a) != tenant_component(b)
    assert re.fullmatch(r"[A-Za-z0-9._%~-]+", tenant_component(a))


def test_lone_surrogates_are_a_validation_error_not_unicode_encode_error() -> None:
    """Review regression: "\ud800" in a feature value or a tenant raised UnicodeEncodeError."""
    with pytest.raises(ValidationError, match="features"):
        features_digest({"name": "\ud800"}, secret=SECRET)
    with pytest.raises(ValidationError, match="tenant"):
        cache_key("ns", "\udfff", "m", "1", {"a": 1}, secret=SECRET)
    with pytest.raises(ValidationError, match="model_id"):
        cache_key("ns", None, "m\ud800", "1", {"a": 1}, secret=SECRET)
    accented = cache_key("ns", "é", "m", "1", {"a": "é"}, secret=SECRET)
    assert accented != cache_key("ns", "e", "m", "1", {"a": "é"}, secret=SECRET)


def test_deployment_secret_from_config_or_a_stored_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotcrm_ai.cache.keysecret import FILE_NAME, key_secret
    from hotcrm_ai.config import CacheSettings
    from hotcrm_ai.errors import ConfigError

    monkeypatch.setenv("HOTCRM_AI_HOME", str(tmp_path))
    monkeypatch.setenv("FLEET_CACHE_SECRET", "s" * 32)
    assert key_secret(CacheSettings(backend="redis", key_secret={"env": "FLEET_CACHE_SECRET"})) == b"s" * 32
    with pytest.raises(ConfigError, match="key_secret"):
        key_secret(CacheSettings(backend="redis", key_secret="short"))
    first = key_secret(CacheSettings(backend="redis"))  # generated once, then the same in every process
    assert len(first) == 32 and key_secret(CacheSettings(backend="redis")) == first
    stored = tmp_path / FILE_NAME
    assert stored.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert key_secret(CacheSettings(backend="memory")) != key_secret(CacheSettings(backend="memory"))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=12),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.text(max_size=20),
        ),
        max_size=12,
    )
)
def test_the_fast_flat_path_is_canonical_and_refuses_what_json_cannot_say(row: dict) -> None:
    has_non_finite = any(isinstance(v, float) and not math.isfinite(v) for v in row.values())
    if has_non_finite:
        with pytest.raises(ValidationError):
            canonical_json(row)
        return
    text = canonical_json(row)
    assert json.loads(text) == row  # same content as the standard library would write
    assert canonical_json(dict(reversed(list(row.items())))) == text  # order-free


def test_values_the_fast_path_cannot_take_fall_back_to_the_standard_library() -> None:
    assert json.loads(canonical_json({"big": 2**70})) == {"big": 2**70}
    with pytest.raises(ValidationError):
        canonical_json({"x": float("nan")})
    with pytest.raises(ValidationError):
        canonical_json({"nested": [1.0, float("inf")]})
