"""payloads.py on its own: body encoding, the 6 MB split, and the reply mapping rules."""

from __future__ import annotations

import json

import pytest
from support.sagemaker_fixtures import lead_model

from hotcrm_ai.errors import ProviderResponseError, ValidationError
from hotcrm_ai_sagemaker import payloads
from hotcrm_ai_sagemaker.settings import MAX_PAYLOAD_BYTES


def spec(**parameters):
    return payloads.request_spec(lead_model(parameters=parameters))


def regression_spec(**parameters):
    model = lead_model("revenue", type="regression", features=(), parameters=parameters)
    return model, payloads.request_spec(model)


# ------------------------------------------------------------------------------ request side


def test_defaults_are_json_with_endpoint_from_model_id() -> None:
    s = spec()
    assert (s.endpoint_name, s.content_type, s.accept, s.batch_format) == (
        "lead-scoring",
        "application/json",
        "application/json",
        None,
    )
    assert payloads.request_spec(lead_model(endpoint="prod-ep")).endpoint_name == "prod-ep"


def test_csv_batch_format_implies_csv() -> None:
    s = spec(batch_format="csv")
    assert s.content_type == s.accept == "text/csv"
    assert spec(batch_format="json").batch_format == "instances"  # accepted spelling


def test_json_row_is_compact_utf8() -> None:
    body = payloads.encode_json_row({"name": "Zoë", "n": 1})
    assert body == '{"name":"Zoë","n":1}'.encode()


def test_csv_cells() -> None:
    model = lead_model(features=(), parameters={"content_type": "csv", "csv_columns": ["a", "b", "c", "d", "e"]})
    s = payloads.request_spec(model)
    line = payloads.encode_csv_row(model, s, {"a": True, "b": 0.1, "c": 'he said "hi", then', "d": None, "e": 7})
    assert line == b'1,0.1,"he said ""hi"", then",,7\n'


def test_csv_nested_value_names_the_field() -> None:
    model = lead_model(features=(), parameters={"content_type": "csv", "csv_columns": ["a"]})
    with pytest.raises(ValidationError, match=r"features\.a: expected a number, string, boolean or null"):
        payloads.encode_csv_row(model, payloads.request_spec(model), {"a": [1, 2]})


def test_instances_body_is_valid_json() -> None:
    s = spec(batch_format="instances")
    rows = [{"x": i} for i in range(3)]
    body = payloads.join_batch(s, [payloads.encode_json_row(r) for r in rows])
    assert json.loads(body) == {"instances": rows}


def test_chunks_respect_the_limit_exactly() -> None:
    s = spec(batch_format="instances")
    encoded = [payloads.encode_json_row({"v": "x" * 80}) for _ in range(50)]  # 88 bytes each
    limit = 16 + 88 * 5 + 4  # overhead + five rows + four commas: exactly five rows per body
    chunks = payloads.chunk_batch(s, encoded, limit)
    assert [len(c) for c in chunks] == [5] * 10
    assert all(len(payloads.join_batch(s, [encoded[i] for i in c])) <= limit for c in chunks)
    assert [i for c in chunks for i in c] == list(range(50))
    assert [len(c) for c in payloads.chunk_batch(s, encoded, limit - 1)] == [4] * 12 + [2]


def test_csv_chunks_count_the_newlines() -> None:
    s = spec(batch_format="csv")
    encoded = [b"1,2,3\n"] * 10  # 6 bytes each
    assert [len(c) for c in payloads.chunk_batch(s, encoded, 18)] == [3, 3, 3, 1]


def test_default_limit_is_sagemakers_6_mib() -> None:
    s = spec(batch_format="csv")
    row = b"0" * (1024 * 1024 - 1) + b"\n"  # 1 MiB lines
    chunks = payloads.chunk_batch(s, [row] * 13, MAX_PAYLOAD_BYTES)
    assert [len(c) for c in chunks] == [6, 6, 1]


def test_row_larger_than_the_limit_is_named() -> None:
    s = spec(batch_format="instances")
    with pytest.raises(ValidationError, match=r"rows\[2\]: expected a row of at most 84 bytes"):
        payloads.chunk_batch(s, [b"{}", b"{}", b"x" * 200], 100)


# ------------------------------------------------------------------------------ reply side


@pytest.mark.parametrize(
    ("body", "prediction"),
    [
        ({"predictions": [0]}, 0),
        ({"predictions": [0.0, 0.9]}, 0.0),
        ({"predictions": [False]}, False),
        ({"predictions": [""]}, ""),
        ({"predictions": [None]}, None),
        ({"predictions": 0}, 0),
        ({"label": "churn", "score": 3.2}, {"label": "churn", "score": 3.2}),
        ([0], 0),
        (0, 0),
        ("won", "won"),
    ],
)
def test_single_mapping_keeps_falsy_predictions(body, prediction) -> None:
    model, s = regression_spec()
    mapped = payloads.map_single(body, model, s, endpoint="e")
    assert mapped.prediction == prediction and type(mapped.prediction) is type(prediction)


def test_empty_predictions_is_an_error_not_a_guess() -> None:
    model, s = regression_spec()
    with pytest.raises(ProviderResponseError, match="predictions: expected at least one value"):
        payloads.map_single({"predictions": []}, model, s, endpoint="e")


@pytest.mark.parametrize(
    ("confidence", "scale", "expected"),
    [
        (0.93, "auto", 93.0),
        (1, "auto", 100.0),
        (0, "auto", 0.0),
        (87, "auto", 87.0),
        (0.5, "percent", 0.5),
        (40, "percent", 40.0),
    ],
)
def test_body_confidence_scaling(confidence, scale, expected) -> None:
    model, s = regression_spec(confidence_scale=scale)
    mapped = payloads.map_single({"predictions": [1], "confidence": confidence}, model, s, endpoint="e")
    assert mapped.confidence == pytest.approx(expected) and mapped.source == "body"


@pytest.mark.parametrize("confidence", [150, -0.1, "high", True, None])
def test_bad_body_confidence_is_a_response_error(confidence) -> None:
    model, s = regression_spec()
    body = {"predictions": [1], "confidence": confidence}
    if confidence is None:
        assert payloads.map_single(body, model, s, endpoint="e").source == "none"
        return
    with pytest.raises(ProviderResponseError, match="confidence"):
        payloads.map_single(body, model, s, endpoint="e")


def test_confidence_field_can_be_renamed() -> None:
    model, s = regression_spec(confidence_field="certainty")
    mapped = payloads.map_single({"predictions": [3.5], "certainty": 0.7}, model, s, endpoint="e")
    assert mapped.confidence == pytest.approx(70.0)


def test_derived_confidence_rules() -> None:
    clf = lead_model()
    s = payloads.request_spec(clf)
    assert payloads.probability_confidence(0.2, clf, s) == pytest.approx(80.0)
    assert payloads.probability_confidence(1, clf, s) is None  # an int label is not a probability
    assert payloads.probability_confidence([0.1, 0.7, 0.2], clf, s) == pytest.approx(70.0)
    assert payloads.probability_confidence([0.5, 0.7], clf, s) is None  # does not sum to 1
    assert payloads.probability_confidence({"probabilities": [0.3, 0.7]}, clf, s) == pytest.approx(70.0)
    assert payloads.probability_confidence({"score": 0.9, "predicted_label": 1}, clf, s) == pytest.approx(90.0)
    assert payloads.probability_confidence({"score": 0.9}, clf, s) is None
    off = payloads.request_spec(lead_model(parameters={"prediction_is_probability": False}))
    assert payloads.probability_confidence(0.2, clf, off) is None
    reg, rs = regression_spec()
    assert payloads.probability_confidence(0.2, reg, rs) is None
    _, forced = regression_spec(prediction_is_probability=True)
    assert payloads.probability_confidence(0.2, reg, forced) == pytest.approx(80.0)


def test_batch_mapping_requires_one_answer_per_row() -> None:
    model, s = regression_spec()
    ok = payloads.map_batch({"predictions": [0, 1.5, 2], "confidence": [0.1, 0.2, 0.3]}, 3, model, s, endpoint="e")
    assert [(m.prediction, m.confidence) for m in ok] == [
        (0, pytest.approx(10)),
        (1.5, pytest.approx(20)),
        (2, pytest.approx(30)),
    ]
    assert [m.prediction for m in payloads.map_batch([4, 5], 2, model, s, endpoint="e")] == [4, 5]
    for body in ({"predictions": [1, 2]}, [1, 2, 3, 4], {"result": [1, 2, 3]}, 7):
        with pytest.raises(ProviderResponseError, match="batch reply"):
            payloads.map_batch(body, 3, model, s, endpoint="e")
    with pytest.raises(ProviderResponseError, match="confidence: expected a list of 3"):
        payloads.map_batch({"predictions": [1, 2, 3], "confidence": 0.9}, 3, model, s, endpoint="e")


def test_decode_json_rejects_nan_and_non_json() -> None:
    assert payloads.decode(b'{"predictions": [1]}', "application/json", endpoint="e") == {"predictions": [1]}
    with pytest.raises(ProviderResponseError, match="not valid JSON"):
        payloads.decode(b'{"predictions": [NaN]}', "application/json", endpoint="e")
    with pytest.raises(ProviderResponseError, match="not UTF-8"):
        payloads.decode(b"\xff\xfe", "application/json", endpoint="e")


def test_decode_csv_lines() -> None:
    assert payloads.decode(b"0.25\n1\nwon\n\n", "text/csv; charset=utf-8", endpoint="e") == [0.25, 1, "won"]
    assert payloads.decode(b"0.1,0.9\n", "text/csv", endpoint="e") == [[0.1, 0.9]]


def test_decode_json_lines() -> None:
    body = b'{"predictions": [0.1]}\n{"predictions": [0.9]}\n'
    assert payloads.decode(body, "application/jsonlines", endpoint="e") == [
        {"predictions": [0.1]},
        {"predictions": [0.9]},
    ]
    model, s = regression_spec()
    rows = payloads.decode(body, "application/jsonlines", endpoint="e")
    mapped = payloads.map_batch(rows, 2, model, s, endpoint="e")
    assert [m.prediction for m in mapped] == [0.1, 0.9]
