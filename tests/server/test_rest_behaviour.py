"""REST behaviour beyond the happy path: statuses of models not served, size limits, request
parameters, tenants never sharing cache entries, the access log, and the loopback rule."""

from __future__ import annotations

import json
import math
import subprocess

import httpx
import pytest
from support.server import ServerProcess, free_port, hotcrm_ai_command

from hotcrm_ai import AICloud
from hotcrm_ai_plugins.models.examples import EXAMPLES, LEAD_WARM


def _tensors(model_id: str, cloud: AICloud, row: dict) -> list[dict]:
    model = cloud.registry.get(model_id)
    dt = {"string": "BYTES", "integer": "INT64", "number": "FP64", "boolean": "BOOL"}
    out = []
    for name, value in row.items():
        spec = model.feature(name)
        assert spec is not None
        if spec.dtype in dt:
            out.append({"name": name, "datatype": dt[spec.dtype], "shape": [1], "data": [value]})
        else:
            out.append({"name": name, "datatype": "BYTES", "shape": [1], "data": [json.dumps(value)]})
    return out


@pytest.fixture(scope="module")
def api(server: ServerProcess, acme_key: str) -> httpx.Client:
    with httpx.Client(base_url=f"http://{server.url}", headers={"X-API-Key": acme_key}, timeout=60) as c:
        yield c


def test_models_not_served_are_409_and_not_ready(api: httpx.Client, cloud: AICloud) -> None:
    body = {"inputs": _tensors("sentiment-analysis-v1", cloud, EXAMPLES["sentiment-analysis-v1"])}
    r = api.post("/v2/models/sentiment-testing/infer", json=body)
    assert r.status_code == 409 and "testing" in r.json()["error"]
    r = api.post("/v2/models/sentiment-analysis-v1/versions/0.9.0/infer", json=body)
    assert r.status_code == 409 and "0.9.0" in r.json()["error"]
    assert api.get("/v2/models/sentiment-testing/ready").status_code == 503
    assert api.get("/v2/models/sentiment-analysis-v1/versions/0.9.0/ready").status_code == 503
    meta = api.get("/v2/models/sentiment-analysis-v1").json()
    assert meta["versions"] == ["0.9.0", "1.0.0"]


def test_body_over_the_limit_is_413(api: httpx.Client) -> None:
    big = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["x" * 2_100_000]}]}
    r = api.post("/v2/models/sentiment-analysis-v1/infer", json=big)
    assert r.status_code == 413 and "limit" in r.json()["error"]


def test_malformed_bodies_are_400(api: httpx.Client) -> None:
    for content in (b"not json", b"[1, 2]", b'{"inputs": 3}', b'{"inputs": [{"name": "text"}]}'):
        r = api.post("/v2/models/sentiment-analysis-v1/infer", content=content)
        assert r.status_code == 400, content
        assert r.json()["error"]
    r = api.post(
        "/v2/models/sentiment-analysis-v1/infer",
        json={
            "inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["ok"]}],
            "parameters": {"use_cache": "yes"},
        },
    )
    assert r.status_code == 400 and "parameters.use_cache" in r.json()["error"]
    for datatype in ([], {}, ["BYTES"]):  # unhashable: found by schemathesis as a 500 (TypeError)
        r = api.post(
            "/v2/models/sentiment-analysis-v1/infer",
            json={"inputs": [{"name": "text", "datatype": datatype, "shape": [1], "data": ["ok"]}]},
        )
        assert r.status_code == 400 and "inputs[0].datatype" in r.json()["error"], datatype


def test_explain_parameter_adds_explanations_that_add_up(api: httpx.Client, cloud: AICloud) -> None:
    body = {
        "inputs": _tensors("churn-prediction-v1", cloud, EXAMPLES["churn-prediction-v1"]),
        "parameters": {"explain": True, "use_cache": False},
    }
    r = api.post("/v2/models/churn-prediction-v1/infer", json=body)
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o for o in r.json()["outputs"]}
    explanation = json.loads(outputs["explanation"]["data"][0])
    total = explanation["base_value"] + sum(c["contribution"] for c in explanation["contributions"])
    assert total == pytest.approx(explanation["output_value"], abs=1e-6)
    served = outputs["probability"]["data"][0]
    if explanation["output_kind"] == "log-odds":  # the linear explainer explains the logit
        served = math.log(served / (1 - served))
    else:
        assert explanation["output_kind"] == "probability"
    assert explanation["output_value"] == pytest.approx(served, abs=1e-5)


def test_two_tenants_never_share_cache_entries(
    server: ServerProcess, cloud: AICloud, acme_key: str, globex_key: str
) -> None:
    row = dict(LEAD_WARM, age=41, campaign=3)  # a row no other test sends
    body = {"inputs": _tensors("lead-scoring-v1", cloud, row), "parameters": {"subject": "lead-7"}}

    def cached(key: str) -> bool:
        r = httpx.post(
            f"http://{server.url}/v2/models/lead-scoring-v1/infer",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        return bool(r.json()["parameters"]["cached"])

    assert cached(acme_key) is False
    assert cached(acme_key) is True
    assert cached(globex_key) is False  # same row, other tenant: its own entry
    assert cached(globex_key) is True
    # a tenant named in the body is ignored: the key decides
    body["parameters"]["tenant"] = "acme"
    body["inputs"][0]["data"] = [42]
    assert cached(globex_key) is False
    assert cached(acme_key) is False


def test_access_log_has_no_keys_or_features(
    api: httpx.Client, server: ServerProcess, acme_key: str, cloud: AICloud
) -> None:
    marker = "zanzibar-quokka-marmalade"
    r = api.post(
        "/v2/models/sentiment-analysis-v1/infer",
        json={"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [marker]}]},
    )
    assert r.status_code == 200
    api.get("/v2", headers={"X-API-Key": "wrong-" + acme_key})
    log = server.log()
    assert '"POST /v2/models/sentiment-analysis-v1/infer" 200' in log
    assert "tenant=acme" in log
    assert marker not in log
    assert acme_key not in log and acme_key[5:] not in log


def test_no_keys_binds_loopback_only_unless_insecure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "hotcrm-ai.toml"
    config.write_text("")
    cmd = [
        *hotcrm_ai_command(),
        "serve",
        "--config",
        str(config),
        "--host",
        "0.0.0.0",
        "--port",
        str(free_port()),
        "--grpc-port",
        "0",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--insecure" in done.stderr and "loopback" in done.stderr


def test_unknown_key_in_server_table_is_a_config_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "hotcrm-ai.toml"
    config.write_text('[server]\napi_keys = [{ key = "plain-text-key", tenant = "acme" }]\n')
    done = subprocess.run(
        [*hotcrm_ai_command(), "serve", "--config", str(config), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "api_keys[0].key" in done.stderr and "plain-text-key" not in done.stderr


def test_gzip_bodies_are_read_and_bounded(api: httpx.Client) -> None:
    import gzip

    body = json.dumps({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["lovely"]}]})
    r = api.post(
        "/v2/models/sentiment-analysis-v1/infer",
        content=gzip.compress(body.encode()),
        headers={"Content-Encoding": "gzip"},
    )
    assert r.status_code == 200, r.text
    bomb = gzip.compress(
        json.dumps(
            {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["a" * 3_000_000]}]}
        ).encode()
    )
    assert len(bomb) < 100_000
    r = api.post("/v2/models/sentiment-analysis-v1/infer", content=bomb, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 413
    r = api.post("/v2/models/sentiment-analysis-v1/infer", content=b"not gzip", headers={"Content-Encoding": "gzip"})
    assert r.status_code == 400 and "gzip" in r.json()["error"]
