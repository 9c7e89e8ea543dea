"""The unmodified ``tritonclient.http`` against a real ``hotcrm-ai serve``: health, metadata, inference
on each of the five models (answers equal to in-process ``AICloud.predict``), versions, errors, keys."""

from __future__ import annotations

import pytest
import tritonclient.http as http
from support.oip import make_inputs, predictions
from support.server import ServerProcess
from tritonclient.utils import InferenceServerException

from hotcrm_ai import AICloud
from hotcrm_ai_plugins.models.examples import CHURN_HIGH, CHURN_LOW, EXAMPLES, LEAD_HOT, LEAD_WARM

MODELS = sorted(EXAMPLES)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> http.InferenceServerClient:
    return http.InferenceServerClient(url=server.url, connection_timeout=30, network_timeout=60)


def output_names(client: http.InferenceServerClient, model: str, key: str) -> list[str]:
    return [o["name"] for o in client.get_model_metadata(model, headers=auth(key))["outputs"]]


def test_health_and_server_metadata(client: http.InferenceServerClient, acme_key: str) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    meta = client.get_server_metadata(headers=auth(acme_key))
    assert meta["name"] == "hotcrm-ai"
    assert "binary_tensor_data" in meta["extensions"]


@pytest.mark.parametrize("model_id", MODELS)
def test_model_metadata_lists_every_feature(
    client: http.InferenceServerClient, cloud: AICloud, acme_key: str, model_id: str
) -> None:
    model = cloud.registry.get(model_id)
    meta = client.get_model_metadata(model_id, headers=auth(acme_key))
    assert meta["name"] == model_id and meta["versions"][-1] == model.version
    assert [i["name"] for i in meta["inputs"]] == [f.name for f in model.features]
    expected_outputs = [*cloud.predict(model_id, EXAMPLES[model_id], use_cache=False).prediction, "confidence"]
    assert [o["name"] for o in meta["outputs"]] == expected_outputs
    assert client.is_model_ready(model_id, headers=auth(acme_key))
    assert client.is_model_ready(model_id, model.version, headers=auth(acme_key))


@pytest.mark.parametrize("model_id", MODELS)
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_infer_equals_in_process_predict(
    client: http.InferenceServerClient, cloud: AICloud, acme_key: str, model_id: str, binary: bool
) -> None:
    model = cloud.registry.get(model_id)
    row = EXAMPLES[model_id]
    outputs = (
        None
        if binary
        else [http.InferRequestedOutput(n, binary_data=False) for n in output_names(client, model_id, acme_key)]
    )
    result = client.infer(
        model_id,
        make_inputs(http, model, [row], binary=binary),
        outputs=outputs,
        headers=auth(acme_key),
        parameters={"use_cache": False},
    )
    expected = cloud.predict(model_id, row, use_cache=False)
    names = [o["name"] for o in result.get_response()["outputs"]]
    got = predictions(result, names)[0]
    assert got.pop("confidence") == expected.confidence
    assert got == expected.prediction
    response = result.get_response()
    assert response["model_version"] == model.version
    assert response["parameters"]["cached"] is False and response["parameters"]["degraded"] is False


@pytest.mark.parametrize(
    ("model_id", "rows"),
    [
        ("lead-scoring-v1", [LEAD_WARM, LEAD_HOT, LEAD_WARM]),
        ("churn-prediction-v1", [CHURN_HIGH, CHURN_LOW]),
    ],
)
def test_batch_infer_equals_in_process_batch(
    client: http.InferenceServerClient, cloud: AICloud, acme_key: str, model_id: str, rows: list[dict]
) -> None:
    model = cloud.registry.get(model_id)
    result = client.infer(
        model_id, make_inputs(http, model, rows), headers=auth(acme_key), parameters={"use_cache": False}
    )
    names = [o["name"] for o in result.get_response()["outputs"]]
    got = predictions(result, names)
    expected = cloud.batch_predict(model_id, rows, use_cache=False)
    assert [g.pop("confidence") for g in got] == [e.confidence for e in expected]
    assert got == [e.prediction for e in expected]


def test_versioned_infer_and_unknown_version(client: http.InferenceServerClient, cloud: AICloud, acme_key: str) -> None:
    model = cloud.registry.get("sentiment-analysis-v1")
    row = EXAMPLES[model.id]
    result = client.infer(
        model.id, make_inputs(http, model, [row]), model_version=model.version, headers=auth(acme_key)
    )
    assert result.as_numpy("sentiment")[0].decode() == cloud.predict(model.id, row).prediction["sentiment"]
    with pytest.raises(InferenceServerException) as info:
        client.infer(model.id, make_inputs(http, model, [row]), model_version="9.9.9", headers=auth(acme_key))
    assert info.value.status() == "404" and "9.9.9" in info.value.message()


def test_errors_have_protocol_status(
    client: http.InferenceServerClient, cloud: AICloud, acme_key: str, globex_key: str
) -> None:
    lead = cloud.registry.get("lead-scoring-v1")
    row = EXAMPLES[lead.id]
    cases = [
        (lambda: client.infer("no-such-model", make_inputs(http, lead, [row]), headers=auth(acme_key)), "404"),
        (lambda: client.infer(lead.id, make_inputs(http, lead, [row])), "401"),
        (lambda: client.infer(lead.id, make_inputs(http, lead, [row]), headers=auth("wrong-" + acme_key)), "401"),
        (lambda: client.get_model_metadata("churn-prediction-v1", headers=auth(globex_key)), "403"),
        (lambda: client.get_server_metadata(), "401"),
    ]
    for call, status in cases:
        with pytest.raises(InferenceServerException) as info:
            call()
        assert info.value.status() == status, info.value.message()
    assert "churn-prediction-v1" in _error(
        lambda: client.get_model_metadata("churn-prediction-v1", headers=auth(globex_key))
    )


def _error(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InferenceServerException) as info:
        call()
    return str(info.value.message())


def test_bad_rows_are_400_naming_every_row_and_field(
    client: http.InferenceServerClient, cloud: AICloud, acme_key: str
) -> None:
    lead = cloud.registry.get("lead-scoring-v1")
    rows = [dict(LEAD_WARM), dict(LEAD_HOT, age=-5), dict(LEAD_WARM, month="smarch")]
    with pytest.raises(InferenceServerException) as info:
        client.infer(lead.id, make_inputs(http, lead, rows), headers=auth(acme_key))
    message = info.value.message()
    assert info.value.status() == "400"
    assert "rows[1]" in message and "age" in message
    assert "rows[2]" in message and "month" in message
    assert "rows[0]" not in message


def test_bad_tensors_are_400_naming_each_tensor(
    client: http.InferenceServerClient, cloud: AICloud, acme_key: str
) -> None:
    import numpy as np

    lead = cloud.registry.get("lead-scoring-v1")
    inputs = [i for i in make_inputs(http, lead, [LEAD_WARM]) if i.name() != "age"]
    wrong = http.InferInput("campaign", [1], "BYTES")  # replaces the INT64 one below
    wrong.set_data_from_numpy(np.array([b"1"], dtype=np.object_))
    inputs = [i for i in inputs if i.name() != "campaign"] + [wrong]
    extra = http.InferInput("shoe_size", [1], "FP64")
    extra.set_data_from_numpy(np.array([42.0]))
    with pytest.raises(InferenceServerException) as info:
        client.infer(lead.id, [*inputs, extra], headers=auth(acme_key))
    message = info.value.message()
    assert info.value.status() == "400"
    for field in ("inputs.age", "inputs.campaign.datatype", "inputs.shoe_size"):
        assert field in message, message
