"""Beyond the protocol, under the same keys: /v2/models/{model}/explain, /v1/ask, /metrics and
/openapi.json."""

from __future__ import annotations

import json

import httpx
import pytest
from support.server import ServerProcess

from hotcrm_ai import AICloud
from hotcrm_ai.converter import unstructure
from hotcrm_ai_plugins.models.examples import LEAD_HOT, LEAD_WARM


def _tensors(cloud: AICloud, model_id: str, rows: list[dict]) -> list[dict]:
    model = cloud.registry.get(model_id)
    dt = {"string": "BYTES", "integer": "INT64", "number": "FP64"}
    return [
        {
            "name": n,
            "datatype": dt[model.feature(n).dtype],
            "shape": [len(rows)],  # type: ignore[union-attr]
            "data": [r[n] for r in rows],
        }
        for n in rows[0]
    ]


@pytest.fixture(scope="module")
def api(server: ServerProcess, acme_key: str) -> httpx.Client:
    with httpx.Client(
        base_url=f"http://{server.url}", headers={"Authorization": f"Bearer {acme_key}"}, timeout=120
    ) as c:
        yield c


def test_explain_adds_up_and_matches_in_process(api: httpx.Client, cloud: AICloud) -> None:
    rows = [LEAD_WARM, LEAD_HOT]
    r = api.post(
        "/v2/models/lead-scoring-v1/explain", json={"id": "x1", "inputs": _tensors(cloud, "lead-scoring-v1", rows)}
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["id"] == "x1" and len(doc["explanations"]) == 2
    for row, got in zip(rows, doc["explanations"], strict=True):
        expected = cloud.explain("lead-scoring-v1", row)
        total = got["base_value"] + sum(c["contribution"] for c in got["contributions"])
        assert total == pytest.approx(got["output_value"], abs=1e-6)
        assert got["output_value"] == pytest.approx(expected.output_value, abs=1e-9)
        assert got["text"] == expected.text
        assert {c["feature"] for c in got["contributions"]} == {c.feature for c in expected.contributions}


def test_explain_needs_a_key_and_names_bad_fields(server: ServerProcess, api: httpx.Client, cloud: AICloud) -> None:
    body = {"inputs": _tensors(cloud, "lead-scoring-v1", [LEAD_WARM])}
    assert httpx.post(f"http://{server.url}/v2/models/lead-scoring-v1/explain", json=body).status_code == 401
    body["inputs"] = [t for t in body["inputs"] if t["name"] != "age"]
    r = api.post("/v2/models/lead-scoring-v1/explain", json=body)
    assert r.status_code == 400 and "inputs.age" in r.json()["error"]


def test_ask_matches_the_cli_json(api: httpx.Client, cloud: AICloud) -> None:
    question = "revenue by region last quarter"
    r = api.post("/v1/ask", json={"question": question, "now": "2024-07-15"})
    assert r.status_code == 200, r.text
    expected = json.loads(json.dumps(unstructure(cloud.ask(question, now="2024-07-15")), default=str))
    assert r.json() == expected
    assert r.json()["rows"]


def test_ask_rejects_bad_requests(api: httpx.Client) -> None:
    r = api.post("/v1/ask", json={"question": "", "limit": 0})
    assert r.status_code == 400
    assert "question" in r.json()["error"] and "limit" in r.json()["error"]


def test_metrics_are_prometheus_text_with_bounded_labels(api: httpx.Client, cloud: AICloud) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    api.post(
        "/v2/models/sentiment-analysis-v1/infer",
        json={"inputs": [{"name": "text", "datatype": "BYTES", "shape": [3], "data": ["good", "bad", "fine"]}]},
    )
    api.get("/v2/models/no-such-model-123")
    r = api.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    assert "hotcrm_ai_server_requests" in families  # the parser strips _total from counter families
    rows = [
        s
        for s in families["hotcrm_ai_server_inference_rows"].samples
        if s.name.endswith("_total") and s.labels["model"] == "sentiment-analysis-v1"
    ]
    assert rows and rows[0].value >= 3
    routes = {s.labels["route"] for s in families["hotcrm_ai_server_requests"].samples}
    assert "/v2/models/{model}/infer" in routes
    assert not any("no-such-model-123" in r for r in routes)
    assert "hotcrm_ai_server_request_duration_seconds" in families
    assert "no-such-model-123" not in r.text


def test_openapi_describes_every_rest_endpoint(api: httpx.Client, server: ServerProcess) -> None:
    doc = api.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    expected = {
        "/v2",
        "/v2/health/live",
        "/v2/health/ready",
        "/v2/models/{model}",
        "/v2/models/{model}/ready",
        "/v2/models/{model}/infer",
        "/v2/models/{model}/explain",
        "/v2/models/{model}/versions/{version}",
        "/v2/models/{model}/versions/{version}/ready",
        "/v2/models/{model}/versions/{version}/infer",
        "/v2/models/{model}/versions/{version}/explain",
        "/v1/ask",
        "/metrics",
        "/openapi.json",
    }
    assert set(doc["paths"]) == expected
    assert httpx.get(f"http://{server.url}/openapi.json").status_code == 401


def test_unknown_route_and_method_use_the_error_shape(api: httpx.Client) -> None:
    r = api.get("/v3/nothing")
    assert r.status_code == 404 and "error" in r.json()
    r = api.get("/v2/models/lead-scoring-v1/infer")
    assert r.status_code == 405 and "error" in r.json()
