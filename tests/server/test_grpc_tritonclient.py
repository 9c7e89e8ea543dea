"""The unmodified ``tritonclient.grpc`` against a real ``hotcrm-ai serve``: the protocol's
GRPCInferenceService with the same answers and errors (as gRPC status codes) as REST."""

from __future__ import annotations

import pytest
import tritonclient.grpc as grpcclient
from support.oip import make_inputs, predictions
from support.server import ServerProcess
from tritonclient.utils import InferenceServerException

from hotcrm_ai import AICloud
from hotcrm_ai_plugins.models.examples import CHURN_HIGH, CHURN_LOW, EXAMPLES, LEAD_HOT

MODELS = sorted(EXAMPLES)


def auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> grpcclient.InferenceServerClient:
    c = grpcclient.InferenceServerClient(url=server.grpc_url)
    yield c
    c.close()


def test_health_and_metadata(client: grpcclient.InferenceServerClient, acme_key: str, cloud: AICloud) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    meta = client.get_server_metadata(headers=auth(acme_key), as_json=True)
    assert meta["name"] == "hotcrm-ai"
    model = cloud.registry.get("lead-scoring-v1")
    meta = client.get_model_metadata(model.id, headers=auth(acme_key), as_json=True)
    assert [i["name"] for i in meta["inputs"]] == [f.name for f in model.features]
    assert meta["outputs"][-1]["name"] == "confidence"
    assert client.is_model_ready(model.id, headers=auth(acme_key))
    assert not client.is_model_ready("sentiment-testing", headers=auth(acme_key))


@pytest.mark.parametrize("model_id", MODELS)
def test_infer_equals_in_process_predict(
    client: grpcclient.InferenceServerClient, cloud: AICloud, acme_key: str, model_id: str
) -> None:
    model = cloud.registry.get(model_id)
    row = EXAMPLES[model_id]
    result = client.infer(
        model_id, make_inputs(grpcclient, model, [row]), headers=auth(acme_key), parameters={"use_cache": False}
    )
    response = result.get_response(as_json=True)
    names = [o["name"] for o in response["outputs"]]
    got = predictions(result, names)[0]
    expected = cloud.predict(model_id, row, use_cache=False)
    assert got.pop("confidence") == expected.confidence
    assert got == expected.prediction
    assert response["model_version"] == model.version


def test_batch_and_version(client: grpcclient.InferenceServerClient, cloud: AICloud, acme_key: str) -> None:
    model = cloud.registry.get("churn-prediction-v1")
    rows = [CHURN_HIGH, CHURN_LOW, CHURN_HIGH]
    result = client.infer(
        model.id,
        make_inputs(grpcclient, model, rows),
        model_version=model.version,
        headers=auth(acme_key),
        parameters={"use_cache": False},
    )
    got = predictions(result, ["risk", "probability", "confidence"])
    expected = cloud.batch_predict(model.id, rows, use_cache=False)
    assert got == [{**e.prediction, "confidence": e.confidence} for e in expected]


def test_errors_are_grpc_status_codes(
    client: grpcclient.InferenceServerClient, cloud: AICloud, acme_key: str, globex_key: str
) -> None:
    lead = cloud.registry.get("lead-scoring-v1")
    good = make_inputs(grpcclient, lead, [LEAD_HOT])
    bad = make_inputs(grpcclient, lead, [dict(LEAD_HOT, age=-3)])
    cases = [
        (lambda: client.infer("no-such-model", good, headers=auth(acme_key)), "StatusCode.NOT_FOUND", "no-such-model"),
        (lambda: client.infer(lead.id, good), "StatusCode.UNAUTHENTICATED", "API key"),
        (lambda: client.infer(lead.id, good, headers=auth("x" + acme_key)), "StatusCode.UNAUTHENTICATED", "invalid"),
        (
            lambda: client.infer("churn-prediction-v1", good, headers=auth(globex_key)),
            "StatusCode.PERMISSION_DENIED",
            "churn-prediction-v1",
        ),
        (lambda: client.infer(lead.id, bad, headers=auth(acme_key)), "StatusCode.INVALID_ARGUMENT", "age"),
        (
            lambda: client.infer(lead.id, good, model_version="9.9.9", headers=auth(acme_key)),
            "StatusCode.NOT_FOUND",
            "9.9.9",
        ),
        (
            lambda: client.infer(
                "sentiment-testing",
                make_inputs(
                    grpcclient, cloud.registry.get("sentiment-analysis-v1"), [EXAMPLES["sentiment-analysis-v1"]]
                ),
                headers=auth(acme_key),
            ),
            "StatusCode.FAILED_PRECONDITION",
            "testing",
        ),
    ]
    for call, status, text in cases:
        with pytest.raises(InferenceServerException) as info:
            call()
        assert info.value.status() == status, info.value.message()
        assert text in info.value.message()
