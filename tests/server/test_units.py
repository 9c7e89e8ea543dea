"""The server's pure parts without a network: settings, keys, model references, tensor decoding
(JSON, nested, numeric matrices, gRPC typed contents), binary bodies."""

from __future__ import annotations

import json
import struct

import pytest

from hotcrm_ai import AICloud
from hotcrm_ai.errors import ConfigError, ValidationError
from hotcrm_ai_plugins.models.examples import FORECAST, RECOMMENDATION
from hotcrm_ai_server.auth import KeyRing
from hotcrm_ai_server.binary import decode_inputs, split_body
from hotcrm_ai_server.errors import Forbidden, Unauthenticated
from hotcrm_ai_server.grpc_service import decode_request, encode_response
from hotcrm_ai_server.modelref import ModelRef, parse_model_ref
from hotcrm_ai_server.proto import grpc_predict_v2_pb2 as pb
from hotcrm_ai_server.settings import server_settings
from hotcrm_ai_server.tensors import Tensor, tensors_to_rows


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"api_keys": [{"key": "literal", "tenant": "a"}]}, "api_keys[0].key"),
        ({"api_keys": [{"key": {"env": "K"}, "tenant": ""}]}, "api_keys[0].tenant"),
        ({"api_keys": [{"key": {"env": "K"}, "tenant": "a", "models": "x"}]}, "api_keys[0].models"),
        ({"api_keys": [{"key": {"env": "K"}, "tenant": "a", "role": "x"}]}, "[server.api_keys[0]] unknown key 'role'"),
        ({"max_body_bytes": -1}, "max_body_bytes"),
        ({"max_rows": 1.5}, "max_rows"),
        ({"port": 1}, "[server] unknown key 'port'"),
    ],
)
def test_server_settings_errors_name_the_key(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        server_settings(table)


def test_keyring_resolves_tenants_and_refuses_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K_ACME", "k-acme-123")
    monkeypatch.setenv("K_GLOBEX", "k-globex-456")
    settings = server_settings(
        {
            "api_keys": [
                {"key": {"env": "K_ACME"}, "tenant": "acme"},
                {"key": {"env": "K_GLOBEX"}, "tenant": "globex", "models": ["lead-scoring-v1"]},
            ]
        }
    )
    ring = KeyRing(settings.api_keys)
    assert ring.authenticate("k-acme-123").tenant == "acme"
    globex = ring.authenticate("k-globex-456")
    assert globex.tenant == "globex"
    globex.check_model("lead-scoring-v1")
    with pytest.raises(Forbidden, match="churn"):
        globex.check_model("churn-prediction-v1")
    for bad in (None, "", "k-acme-12", "k-acme-1234"):
        with pytest.raises(Unauthenticated) as info:
            ring.authenticate(bad)
        assert "k-acme" not in info.value.message


def test_keyring_needs_its_env_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("K_MISSING", raising=False)
    settings = server_settings({"api_keys": [{"key": {"env": "K_MISSING"}, "tenant": "acme"}]})
    with pytest.raises(ConfigError, match="K_MISSING"):
        KeyRing(settings.api_keys)


def test_model_references() -> None:
    assert parse_model_ref("lead-scoring-v1") == ModelRef("lead-scoring-v1")
    assert parse_model_ref("lead-scoring-v1", "") == ModelRef("lead-scoring-v1")
    assert parse_model_ref("lead-scoring-v1", "1.0.0") == ModelRef("lead-scoring-v1", "1.0.0")
    assert parse_model_ref("lead-scoring@champion") == ModelRef("lead-scoring", None, "champion")


@pytest.fixture(scope="module")
def cloud() -> AICloud:
    with AICloud() as ai:
        yield ai


def test_array_features_as_json_bytes_or_numeric_matrix(cloud: AICloud) -> None:
    forecast = cloud.registry.get("revenue-forecast-v1")
    history = FORECAST["history"]
    as_matrix = [
        Tensor("history", "FP64", (2, len(history)), history + history),
        Tensor("horizon", "INT64", (2,), [6, 3]),
    ]
    rows = tensors_to_rows(forecast, as_matrix, max_rows=10)
    assert rows == [{"history": history, "horizon": 6}, {"history": history, "horizon": 3}]
    recommend = cloud.registry.get("product-recommendation-v1")
    as_json = [Tensor("products", "BYTES", (1, 1), [json.dumps(RECOMMENDATION["products"]).encode()])]
    assert tensors_to_rows(recommend, as_json, max_rows=10) == [{"products": RECOMMENDATION["products"]}]


def test_tensor_errors_are_all_reported(cloud: AICloud) -> None:
    churn = cloud.registry.get("churn-prediction-v1")
    tensors = [
        Tensor("tenure", "FP64", (2,), [1.0, 2.0]),
        Tensor("partner", "BYTES", (3,), [b"Yes"] * 3),
        Tensor("contract", "BYTES", (2, 2), [b"a"] * 4),
        Tensor("nope", "BOOL", (2,), [True, False]),
    ]
    with pytest.raises(ValidationError) as info:
        tensors_to_rows(churn, tensors, max_rows=10)
    fields = {e.field for e in info.value.errors}
    assert {"inputs.tenure.datatype", "inputs.contract.shape", "inputs.nope", "inputs", "inputs.dependents"} <= fields


def test_row_limit(cloud: AICloud) -> None:
    sentiment = cloud.registry.get("sentiment-analysis-v1")
    with pytest.raises(ValidationError, match="at most 2 rows"):
        tensors_to_rows(sentiment, [Tensor("text", "BYTES", (3,), ["a", "b", "c"])], max_rows=2)


def test_json_data_may_be_nested_and_binary_sizes_are_checked() -> None:
    doc, tail = split_body(
        json.dumps(
            {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2, 1], "data": [["a"], ["b"]]}]}
        ).encode(),
        None,
    )
    assert decode_inputs(doc, tail)[0].data == ["a", "b"]
    header = json.dumps(
        {"inputs": [{"name": "x", "datatype": "FP64", "shape": [2], "parameters": {"binary_data_size": 16}}]}
    ).encode()
    body = header + struct.pack("<2d", 1.5, 2.5)
    doc, tail = split_body(body, str(len(header)))
    assert decode_inputs(doc, tail)[0].data == [1.5, 2.5]
    doc, tail = split_body(header + b"\x00" * 8, str(len(header)))
    with pytest.raises(ValidationError, match="binary_data_size"):
        decode_inputs(doc, tail)
    with pytest.raises(ValidationError, match="Inference-Header-Content-Length"):
        split_body(body, "999999")


def test_grpc_typed_contents_decode_like_raw() -> None:
    req = pb.ModelInferRequest(model_name="m", id="r1")
    req.parameters["use_cache"].bool_param = False
    req.parameters["subject"].string_param = "lead-1"
    t = req.inputs.add(name="age", datatype="INT64", shape=[2])
    t.contents.int64_contents.extend([30, 40])
    t = req.inputs.add(name="job", datatype="BYTES", shape=[2])
    t.contents.bytes_contents.extend([b"admin.", b"services"])
    decoded = decode_request(req)
    assert decoded.parameters == {"use_cache": False, "subject": "lead-1"}
    assert [(x.name, x.data) for x in decoded.inputs] == [("age", [30, 40]), ("job", [b"admin.", b"services"])]
    bad = pb.ModelInferRequest(model_name="m")
    bad.inputs.add(name="age", datatype="INT64", shape=[3]).contents.int64_contents.extend([1])
    with pytest.raises(ValidationError, match=r"inputs\.age\.contents"):
        decode_request(bad)


def test_grpc_response_uses_raw_contents() -> None:
    from hotcrm_ai_server.dataplane import InferResponse

    resp = encode_response(
        InferResponse(
            model_name="m",
            model_version="1",
            id="r",
            parameters={"cached": True},
            outputs=(Tensor("label", "BYTES", (2,), ["hot", "cold"]), Tensor("score", "FP64", (2,), [1.0, 2.0])),
        )
    )
    assert [o.name for o in resp.outputs] == ["label", "score"]
    assert resp.raw_output_contents[0] == struct.pack("<I", 3) + b"hot" + struct.pack("<I", 4) + b"cold"
    assert struct.unpack("<2d", resp.raw_output_contents[1]) == (1.0, 2.0)
    assert resp.parameters["cached"].bool_param is True


def test_readiness_is_false_until_plugins_and_models_are_loaded() -> None:
    from hotcrm_ai_server.auth import ANONYMOUS
    from hotcrm_ai_server.errors import Unavailable
    from hotcrm_ai_server.settings import ServerSettings
    from hotcrm_ai_server.state import ServerState

    state = ServerState(AICloud, ServerSettings(), KeyRing(()))
    assert not state.ready
    with pytest.raises(Unavailable, match="starting"):
        state.plane()
    state.load()
    try:
        assert state.ready
        assert state.plane().model_ready(ANONYMOUS, "lead-scoring-v1", None)
        state.drain()
        assert not state.ready
        assert not state.plane().model_ready(ANONYMOUS, "lead-scoring-v1", None)
    finally:
        state.close()
