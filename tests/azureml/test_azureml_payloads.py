"""Payload encoding, batch splitting, reply mapping and Retry-After parsing (pure functions)."""

from __future__ import annotations

import json
import random
import time
from email.utils import formatdate

import pytest

from hotcrm_ai.errors import ProviderResponseError, ValidationError
from hotcrm_ai_azureml import payloads
from hotcrm_ai_azureml.errors import error_for_status, excerpt, parse_retry_after, redact


def _rows(n: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [
        {
            "a": rng.random(),
            "b": rng.randint(0, 10 ** rng.randint(1, 9)),
            "c": "x" * rng.randint(0, 300),
            "d": rng.random() < 0.5,
        }
        for _ in range(n)
    ]


@pytest.mark.parametrize("fmt", ["data", "mlflow"])
@pytest.mark.parametrize("seed", range(5))
def test_plan_chunks_are_exact_and_under_the_limit(fmt: payloads.PayloadFormat, seed: int) -> None:
    rows = _rows(120, seed)
    enc = payloads.encode(fmt, rows, feature_names=["a", "b"])
    limit = 2_000 + seed * 700
    chunks = enc.plan(limit)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(rows)
    assert all(a < b for a, b in chunks) and all(chunks[i][1] == chunks[i + 1][0] for i in range(len(chunks) - 1))
    decoded: list[object] = []
    for a, b in chunks:
        body = enc.body(a, b)
        assert len(body) == enc.size(a, b) <= limit
        doc = json.loads(body)
        decoded += doc["data"] if fmt == "data" else doc["input_data"]["data"]
        if b < len(rows):  # greedy: the next row would not have fitted
            assert enc.size(a, b + 1) > limit
    if fmt == "data":
        assert decoded == rows
    else:
        assert json.loads(enc.body(0, 1))["input_data"]["columns"] == ["a", "b", "c", "d"]
        assert decoded == [[r["a"], r["b"], r["c"], r["d"]] for r in rows]


def test_single_body_is_the_original_shape() -> None:
    enc = payloads.encode("data", [{"x": 1, "name": "Zoë"}])
    assert json.loads(enc.body(0, 1)) == {"data": [{"x": 1, "name": "Zoë"}], "method": "predict"}
    assert enc.plan(10_000) == [(0, 1)]


def test_mlflow_missing_values_are_null_and_extra_keys_become_columns() -> None:
    enc = payloads.encode("mlflow", [{"a": 1}, {"b": 2, "z": 3}], feature_names=["a", "b"])
    doc = json.loads(enc.body(0, 2))
    assert doc == {"input_data": {"columns": ["a", "b", "z"], "data": [[1, None, None], [None, 2, 3]]}}


def test_payload_format_aliases_and_error() -> None:
    assert payloads.payload_format(None) == "data"
    assert payloads.payload_format("Original") == "data"
    assert payloads.payload_format("input_data") == "mlflow"
    with pytest.raises(ValidationError, match="payload_format: expected one of data, mlflow"):
        payloads.payload_format(3)


def test_nested_nan_is_named() -> None:
    with pytest.raises(ValidationError, match=r"features\.history: expected finite numbers only"):
        payloads.encode("data", [{"ok": 1, "history": [1.0, float("nan")]}])


@pytest.mark.parametrize(
    ("body", "n", "expected"),
    [
        (b"[0.1, 0.9]", 2, [(0.1, 0.0), (0.9, 0.0)]),
        (b'{"result": [1, 0], "confidence": [90, 60]}', 2, [(1, 90.0), (0, 60.0)]),
        (b'{"predictions": ["a"], "confidence": 55.5}', 1, [("a", 55.5)]),
        (json.dumps(json.dumps([3.5])).encode(), 1, [(3.5, 0.0)]),
    ],
)
def test_parse_reply_shapes(body: bytes, n: int, expected: list[tuple[object, float]]) -> None:
    assert [(r.prediction, r.confidence) for r in payloads.parse_reply(body, n)] == expected


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "expected JSON"),
        (b"\xff\xfe", "expected JSON"),
        (b'{"result": 0.5}', "'result'"),
        (b'{"result": [0.5], "confidence": true}', "confidence"),
        (b'{"result": [0.5], "confidence": 101}', "confidence"),
        (b"[]", r"expected 1 result \(one per row\), got 0"),
        (b"[NaN]", "expected finite numbers, got NaN"),
        (b'{"result": [Infinity]}', "expected finite numbers, got Infinity"),
    ],
)
def test_parse_reply_errors(body: bytes, match: str) -> None:
    with pytest.raises(ProviderResponseError, match=match):
        payloads.parse_reply(body, 1)


def test_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "12"}) == 12.0
    assert parse_retry_after({"retry-after": " 0 "}) == 0.0
    assert parse_retry_after({"Retry-After": "-5"}) is None  # not delay-seconds: no hint, our backoff applies
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({"Retry-After": "inf"}) is None
    assert parse_retry_after({}) is None
    now = time.time()
    assert parse_retry_after({"Retry-After": formatdate(now + 30, usegmt=True)}, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after({"x-ms-retry-after-ms": "1500", "Retry-After": "9"}) == 1.5


def test_redaction_in_messages() -> None:
    key = "k3y-value-abcdef"
    assert redact(f"Bearer {key} rejected", [key]) == "Bearer ********** rejected"
    assert key not in excerpt(("x" * 500 + key).encode(), [key])
    assert len(excerpt(b"y" * 1000)) == 200
    err = error_for_status(401, json.dumps({"echo": f"Authorization: Bearer {key}"}), {}, what="ep", secrets=[key])
    assert key not in str(err) and err.retryable is False
