"""The azure-ml provider on the direct path (scoring URI + key) against the local scoring stand-in."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import pytest
from support.azureml_standin import GREEN, LEAD_FEATURES, Fault, ScoringStandin

from hotcrm_ai.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderModelError,
    ProviderRateLimitError,
    ProviderRequestError,
    ProviderResponseError,
    ProviderServerError,
    ProviderTimeoutError,
    ValidationError,
)
from hotcrm_ai.types import FeatureSpec, ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_azureml.provider import AzureMLProvider, provider_spec

KEY_ENV = "HOTCRM_TEST_AZML_KEY"
ROWS = [
    {"engagement": 0.9, "visits": 12, "budget_k": 80.0, "referral": True},
    {"engagement": 0.1, "visits": 1, "budget_k": 5.0, "referral": False},
    {"engagement": 0.5, "visits": 4, "budget_k": 30.0, "referral": False},
]


@pytest.fixture
def scoring() -> Iterator[ScoringStandin]:
    with ScoringStandin() as server:
        yield server


@pytest.fixture
def key(scoring: ScoringStandin, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, scoring.keys[0])
    return scoring.keys[0]


def make_model(**parameters: Any) -> ModelConfig:
    timeout = parameters.pop("timeout_s", 30.0)
    return ModelConfig(
        id="lead-azure",
        name="Lead scoring on Azure ML",
        type="classification",
        provider="azure-ml",
        features=tuple(FeatureSpec(n, dtype="boolean" if n == "referral" else "number") for n in LEAD_FEATURES),
        parameters=parameters,
        timeout_s=timeout,
    )


def make_provider(scoring: ScoringStandin, **config: Any) -> AzureMLProvider:
    creds = config.pop("credentials", {"api_key": {"env": KEY_ENV}})
    endpoint = config.pop("endpoint", scoring.scoring_uri)
    return AzureMLProvider(ProviderConfig(provider="azure-ml", endpoint=endpoint, credentials=creds, config=config))


def test_spec_names_the_provider() -> None:
    spec = provider_spec()
    assert spec.name == "azure-ml"
    assert spec.factory(ProviderConfig(provider="azure-ml")).native_batch is True


def test_scores_come_from_the_model_and_depend_on_input(scoring: ScoringStandin, key: str) -> None:
    provider = make_provider(scoring)
    outs = [provider.predict(make_model(), PredictionInput(r)) for r in ROWS]
    expected = scoring.scores(ROWS)
    assert [o.prediction for o in outs] == pytest.approx(expected)
    assert len({round(o.prediction, 6) for o in outs}) == 3
    assert [o.confidence for o in outs] == pytest.approx([max(p, 1 - p) * 100 for p in expected])
    meta = outs[0].metadata
    assert meta["provider"] == "azure-ml" and meta["model_id"] == "lead-azure" and meta["path"] == "direct"
    assert meta["endpoint"] == scoring.scoring_uri and meta["deployment"] == "blue" and meta["latency_ms"] > 0
    body = scoring.scoring_requests()[0].json()
    assert body == {"data": [ROWS[0]], "method": "predict"}  # the original's shape
    assert scoring.scoring_requests()[0].authorization == f"Bearer {key}"
    assert scoring.scoring_requests()[0].deployment is None  # nothing pinned


def test_mlflow_payload_per_model(scoring: ScoringStandin, key: str) -> None:
    provider = make_provider(scoring)
    out = provider.batch_predict(make_model(payload_format="mlflow"), [PredictionInput(r) for r in ROWS])
    assert [o.prediction for o in out] == pytest.approx(scoring.scores(ROWS))
    assert all(o.metadata["confidence_source"] == "default" and o.confidence == 0.0 for o in out)
    body = scoring.scoring_requests()[0].json()
    assert body["input_data"]["columns"] == list(LEAD_FEATURES)
    assert body["input_data"]["data"][1] == [ROWS[1][c] for c in LEAD_FEATURES]


def test_batch_is_one_request_in_order(scoring: ScoringStandin, key: str) -> None:
    rows = [{"engagement": i / 50, "visits": i % 7, "budget_k": float(i), "referral": i % 2 == 0} for i in range(50)]
    out = make_provider(scoring).batch_predict(make_model(), [PredictionInput(r) for r in rows])
    assert len(scoring.scoring_requests()) == 1
    assert [o.prediction for o in out] == pytest.approx(scoring.scores(rows))
    assert [o.metadata["batch_index"] for o in out] == list(range(50))
    assert {o.metadata["requests"] for o in out} == {1}


def test_batch_split_under_the_size_limit(scoring: ScoringStandin, key: str) -> None:
    rows = [{"engagement": i / 40, "visits": i, "budget_k": float(i * 3), "referral": bool(i % 3)} for i in range(40)]
    limit = 700
    out = make_provider(scoring, max_request_bytes=limit).batch_predict(
        make_model(), [PredictionInput(r) for r in rows]
    )
    sent = scoring.scoring_requests()
    assert len(sent) > 1
    assert all(len(r.body) <= limit for r in sent)
    assert sum(len(r.json()["data"]) for r in sent) == 40
    assert [o.prediction for o in out] == pytest.approx(scoring.scores(rows))  # mapped back by position
    assert [o.metadata["batch_index"] for o in out] == list(range(40))


def test_batch_split_by_row_count(scoring: ScoringStandin, key: str) -> None:
    out = make_provider(scoring, max_batch_rows=2).batch_predict(
        make_model(payload_format="mlflow"), [PredictionInput(r) for r in ROWS]
    )
    assert [len(r.json()["input_data"]["data"]) for r in scoring.scoring_requests()] == [2, 1]
    assert [o.prediction for o in out] == pytest.approx(scoring.scores(ROWS))


def test_a_row_too_large_for_any_request_is_named(scoring: ScoringStandin, key: str) -> None:
    rows = [dict(ROWS[0]), {**ROWS[1], "notes": "é" * 2000}]
    with pytest.raises(ValidationError) as info:
        make_provider(scoring, max_request_bytes=1000).batch_predict(make_model(), [PredictionInput(r) for r in rows])
    assert "inputs[1]" in str(info.value) and "max_request_bytes=1000" in str(info.value)
    assert scoring.scoring_requests() == []


def test_empty_batch_makes_no_request(scoring: ScoringStandin, key: str) -> None:
    assert make_provider(scoring).batch_predict(make_model(), []) == []
    assert scoring.requests == []


def test_deployment_header_when_pinned(scoring: ScoringStandin, key: str) -> None:
    provider = make_provider(scoring)
    out = provider.predict(make_model(deployment="green"), PredictionInput(ROWS[0]))
    assert scoring.scoring_requests()[-1].deployment == "green"
    assert out.prediction == pytest.approx(float(GREEN.predict_proba([ROWS[0]])[0]))
    assert out.metadata["deployment"] == "green"
    # provider-wide default, overridden per model
    provider = make_provider(scoring, deployment="green")
    provider.predict(make_model(), PredictionInput(ROWS[0]))
    provider.predict(make_model(deployment="blue"), PredictionInput(ROWS[0]))
    assert [r.deployment for r in scoring.scoring_requests()[-2:]] == ["green", "blue"]


def test_unknown_deployment_is_a_request_error(scoring: ScoringStandin, key: str) -> None:
    with pytest.raises(ProviderRequestError) as info:
        make_provider(scoring).predict(make_model(deployment="purple"), PredictionInput(ROWS[0]))
    assert info.value.status == 404 and info.value.retryable is False
    assert "deployment purple" in str(info.value)


def test_wrong_key_is_auth_error_without_the_key(
    scoring: ScoringStandin, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-key-that-must-not-leak-42"
    monkeypatch.setenv(KEY_ENV, wrong)
    provider = make_provider(scoring)
    with pytest.raises(ProviderAuthError) as info:
        provider.predict(make_model(), PredictionInput(ROWS[0]))
    exc = info.value
    assert exc.status == 401 and exc.retryable is False
    assert wrong not in str(exc) and wrong not in repr(exc) and wrong not in repr(vars(exc))
    assert wrong not in repr(provider) and wrong not in caplog.text
    assert len(scoring.scoring_requests()) == 1  # not retried, nothing to refresh on the direct key path


def test_403_is_auth_error(scoring: ScoringStandin, key: str) -> None:
    scoring.inject(Fault(status=403, body={"message": f"forbidden for Bearer {key}"}))
    with pytest.raises(ProviderAuthError) as info:
        make_provider(scoring).predict(make_model(), PredictionInput(ROWS[0]))
    assert info.value.status == 403 and key not in str(info.value)  # even an echoing server cannot leak it


def test_missing_key_env_names_the_variable(scoring: ScoringStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    provider = make_provider(scoring)
    assert provider.validate() is False
    with pytest.raises(ProviderAuthError, match=KEY_ENV):
        provider.predict(make_model(), PredictionInput(ROWS[0]))
    assert scoring.requests == []


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_429_is_retryable_with_retry_after(scoring: ScoringStandin, key: str, form: str) -> None:
    header = "7" if form == "seconds" else formatdate(time.time() + 7, usegmt=True)
    scoring.inject(Fault(status=429, body={"message": "Too many requests"}, headers={"Retry-After": header}))
    with pytest.raises(ProviderRateLimitError) as info:
        make_provider(scoring).predict(make_model(), PredictionInput(ROWS[0]))
    assert info.value.retryable is True and info.value.status == 429
    assert info.value.retry_after is not None and 5.0 <= info.value.retry_after <= 7.0


def test_retry_after_ms_header(scoring: ScoringStandin, key: str) -> None:
    scoring.inject(Fault(status=503, body="upstream busy", headers={"retry-after-ms": "250"}))
    with pytest.raises(ProviderServerError) as info:
        make_provider(scoring).predict(make_model(), PredictionInput(ROWS[0]))
    assert info.value.retry_after == pytest.approx(0.25) and info.value.retryable is True


@pytest.mark.parametrize(
    ("status", "cls"),
    [(500, ProviderServerError), (502, ProviderServerError), (408, ProviderTimeoutError), (424, ProviderModelError)],
)
def test_status_mapping(scoring: ScoringStandin, key: str, status: int, cls: type[ProviderError]) -> None:
    scoring.inject(Fault(status=status, body={"message": "boom"}))
    with pytest.raises(cls) as info:
        make_provider(scoring).predict(make_model(), PredictionInput(ROWS[0]))
    assert info.value.status == status
    assert info.value.retryable is (status != 424)
    assert "boom" in str(info.value)


def test_model_error_from_the_container(scoring: ScoringStandin, key: str) -> None:
    with pytest.raises(ProviderModelError, match="missing feature visits"):
        make_provider(scoring).predict(make_model(), PredictionInput({"engagement": 0.4}))


def test_slow_endpoint_times_out(scoring: ScoringStandin, key: str) -> None:
    scoring.inject(Fault(delay_s=3.0))
    started = time.monotonic()
    with pytest.raises(ProviderTimeoutError) as info:
        make_provider(scoring).predict(make_model(timeout_s=0.3), PredictionInput(ROWS[0]))
    assert time.monotonic() - started < 2.5  # well before the 3 s the endpoint takes
    assert info.value.retryable is True


def test_model_timeout_wins_over_the_provider_timeout(scoring: ScoringStandin, key: str) -> None:
    """Review regression: the core's contract is that a model's timeout_s, when set, is the call's timeout
    (it used to be capped at the provider's timeout_s)."""
    scoring.inject(Fault(delay_s=0.8))
    out = make_provider(scoring, timeout_s=0.2).predict(make_model(timeout_s=5.0), PredictionInput(ROWS[0]))
    assert out.prediction is not None
    scoring.inject(Fault(delay_s=0.8))
    with pytest.raises(ProviderTimeoutError):
        make_provider(scoring, timeout_s=0.2).predict(make_model(timeout_s=None), PredictionInput(ROWS[0]))


def test_connection_refused_is_a_connection_error(key: str) -> None:
    with ScoringStandin() as gone:
        uri = gone.scoring_uri
    provider = make_provider(gone, endpoint=uri)
    with pytest.raises(ProviderConnectionError) as info:
        provider.predict(make_model(), PredictionInput(ROWS[0]))
    assert info.value.retryable is True and key not in str(info.value)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<html>gateway</html>", "expected JSON"),
        ({"output": [1]}, "keys output"),
        ({"result": [0.1, 0.2]}, "expected 1 result"),
        ({"result": [None]}, "got null"),
        ({"result": [0.3], "confidence": 250}, "confidence"),
        ({"result": [0.3], "confidence": [1, 2]}, "confidence"),
        (42, "got a int"),
    ],
)
def test_wrong_reply_shape_is_typed(scoring: ScoringStandin, key: str, body: Any, match: str) -> None:
    scoring.inject(Fault(status=200, body=body))
    with pytest.raises(ProviderResponseError, match=match) as info:
        make_provider(scoring).predict(make_model(), PredictionInput(ROWS[0]))
    assert info.value.retryable is False


@pytest.mark.parametrize("value", [0, 0.0, False, ""])
def test_falsy_predictions_are_kept(scoring: ScoringStandin, key: str, value: Any) -> None:
    """The original's ``result[0] || data`` replaced a 0 prediction with the whole reply."""
    scoring.inject(Fault(status=200, body={"result": [value]}))
    out = make_provider(scoring).predict(make_model(), PredictionInput(ROWS[0]))
    assert out.prediction == value and type(out.prediction) is type(value)


def test_reply_shapes_accepted(scoring: ScoringStandin, key: str) -> None:
    provider = make_provider(scoring)
    scoring.inject(Fault(status=200, body={"predictions": ["won", "lost"], "confidence": 70}))
    assert [
        (o.prediction, o.confidence)
        for o in provider.batch_predict(make_model(), [PredictionInput(r) for r in ROWS[:2]])
    ] == [("won", 70.0), ("lost", 70.0)]
    scoring.inject(Fault(status=200, body=json.dumps(json.dumps({"result": [{"label": "hot", "p": 0.8}]}))))
    assert provider.predict(make_model(), PredictionInput(ROWS[0])).prediction == {"label": "hot", "p": 0.8}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, object()])
def test_values_json_cannot_carry_are_named(scoring: ScoringStandin, key: str, bad: Any) -> None:
    with pytest.raises(ValidationError) as info:
        make_provider(scoring).predict(make_model(), PredictionInput({**ROWS[0], "visits": bad}))
    assert "features.visits" in str(info.value)
    with pytest.raises(ValidationError, match=r"inputs\[1\]\.features\.visits"):
        make_provider(scoring).batch_predict(
            make_model(), [PredictionInput(ROWS[0]), PredictionInput({**ROWS[1], "visits": bad})]
        )
    assert scoring.requests == []


def test_unicode_and_numpy_values_travel(scoring: ScoringStandin, key: str) -> None:
    import numpy as np

    row = {
        "engagement": np.float64(0.7),
        "visits": np.int64(3),
        "budget_k": 12.5,
        "referral": np.bool_(True),
        "company": "Müller & Söhne 株式会社 🚀",
    }
    out = make_provider(scoring).predict(make_model(), PredictionInput(row))
    sent = scoring.scoring_requests()[0].json()["data"][0]
    assert sent["company"] == "Müller & Söhne 株式会社 🚀" and sent["visits"] == 3 and sent["referral"] is True
    assert out.prediction == pytest.approx(
        scoring.scores([{**row, "engagement": 0.7, "visits": 3, "referral": True}])[0]
    )


def test_bad_payload_format_is_named(scoring: ScoringStandin, key: str) -> None:
    with pytest.raises(ConfigError, match=r"\[models\.lead-azure\.parameters\]: payload_format: expected one of data"):
        make_provider(scoring).predict(make_model(payload_format="csv"), PredictionInput(ROWS[0]))
    assert make_provider(scoring, payload_format="csv").validate() is False


def test_plain_key_in_model_parameters_is_refused(
    scoring: ScoringStandin, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match=r"parameters\]: api_key: expected \{env") as info:
        make_provider(scoring).predict(make_model(api_key=key), PredictionInput(ROWS[0]))
    assert key not in str(info.value)
    monkeypatch.setenv("HOTCRM_TEST_AZML_MODEL_KEY", scoring.keys[1])
    make_provider(scoring).predict(make_model(api_key={"env": "HOTCRM_TEST_AZML_MODEL_KEY"}), PredictionInput(ROWS[0]))
    assert scoring.scoring_requests()[-1].authorization == f"Bearer {scoring.keys[1]}"


def test_original_credentials_shape_is_accepted(scoring: ScoringStandin, key: str) -> None:
    """The original read ``credentials.apiKey`` and ``credentials.endpoint``."""
    provider = AzureMLProvider(
        ProviderConfig(provider="azure-ml", credentials={"apiKey": {"env": KEY_ENV}, "endpoint": scoring.scoring_uri})
    )
    assert provider.validate() is True
    assert provider.predict(make_model(), PredictionInput(ROWS[1])).prediction == pytest.approx(
        scoring.scores([ROWS[1]])[0]
    )


def test_model_endpoint_overrides_provider_endpoint(key: str) -> None:
    with ScoringStandin() as a, ScoringStandin(keys=(key, "other-secondary-key")) as b:
        provider = make_provider(a)
        model = ModelConfig(id="m2", name="m2", type="classification", provider="azure-ml", endpoint=b.scoring_uri)
        provider.predict(model, PredictionInput(ROWS[0]))
        assert len(b.scoring_requests()) == 1 and a.requests == []


def test_validate_names_what_is_missing(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(KEY_ENV, "secret-value-never-logged")
    cases = {
        "no endpoint": AzureMLProvider(ProviderConfig(provider="azure-ml", credentials={"api_key": {"env": KEY_ENV}})),
        "bad uri": AzureMLProvider(
            ProviderConfig(provider="azure-ml", endpoint="not a url", credentials={"api_key": {"env": KEY_ENV}})
        ),
        "no key": AzureMLProvider(
            ProviderConfig(provider="azure-ml", endpoint="https://x.inference.ml.azure.com/score")
        ),
        "by name incomplete": AzureMLProvider(
            ProviderConfig(provider="azure-ml", config={"endpoint_name": "ep", "subscription_id": "s"})
        ),
    }
    caplog.set_level(logging.DEBUG)
    problems = {name: p.problems() for name, p in cases.items()}
    assert all(p.validate() is False for p in cases.values())
    assert "no endpoint" in problems["no endpoint"][0]
    assert "scoring URI" in problems["bad uri"][0]
    assert "credentials.api_key" in problems["no key"][0]
    with pytest.raises(ConfigError, match=r"config\] unknown key 'endpont_name'; did you mean `endpoint_name`\?"):
        AzureMLProvider(
            ProviderConfig(
                provider="azure-ml",
                endpoint="https://x.inference.ml.azure.com/score",
                credentials={"api_key": {"env": KEY_ENV}},
                config={"endpont_name": "x"},
            )
        )
    assert "resource_group, workspace_name" in problems["by name incomplete"][0]
    assert "secret-value-never-logged" not in caplog.text


def test_health_liveness_and_probe(scoring: ScoringStandin, key: str) -> None:
    report = make_provider(scoring).health_check()
    assert report.healthy is True and report.latency_ms is not None and report.latency_ms > 0
    assert report.details["probe"] == "liveness" and scoring.requests[-1].path == "/"
    report = make_provider(scoring, probe={"features": ROWS[0]}).health_check()
    assert report.healthy is True and report.details["probe"] == "score"
    assert scoring.scoring_requests()[-1].json() == {"data": [ROWS[0]], "method": "predict"}
    # a probe the model rejects makes the endpoint unhealthy, reported, not raised
    report = make_provider(scoring, probe={"features": {"engagement": 1}}).health_check()
    assert report.healthy is False and "missing feature visits" in (report.error or "")


def test_health_reports_bad_key_without_raising(scoring: ScoringStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "bad-key-not-to-be-seen")
    report = make_provider(scoring).health_check()
    assert report.healthy is False and "401" in (report.error or "")
    assert "bad-key-not-to-be-seen" not in repr(report)


def test_concurrent_predictions_share_the_pool(scoring: ScoringStandin, key: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    provider = make_provider(scoring)
    rows = [{"engagement": i / 32, "visits": i, "budget_k": 1.0 * i, "referral": False} for i in range(32)]
    with ThreadPoolExecutor(8) as pool:
        outs = list(pool.map(lambda r: provider.predict(make_model(), PredictionInput(r)), rows))
    assert [o.prediction for o in outs] == pytest.approx(scoring.scores(rows))
    provider.close()


@pytest.mark.parametrize(
    ("key_name", "value", "expected"),
    [
        ("timeout_s", "30", "a number, got str"),
        ("max_request_bytes", -1, "a number > 0"),
        ("max_batch_rows", True, "a number, got bool"),
    ],
)
def test_bad_numbers_in_config_are_named(
    scoring: ScoringStandin, key: str, key_name: str, value: Any, expected: str
) -> None:
    with pytest.raises(ConfigError, match=rf"\[providers.azure-ml.config\]: {key_name}: expected {expected}"):
        make_provider(scoring, **{key_name: value})
    assert scoring.requests == []


class _RotatingCredential:
    """A TokenCredential handing out the next token of a list on each call (an AAD token being renewed)."""

    def __init__(self, *tokens: str) -> None:
        self.tokens = list(tokens)
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(self.tokens.pop(0), int(time.time()) + 3600)


def test_aad_token_from_a_credential_refreshed_on_401(scoring: ScoringStandin) -> None:
    cred = _RotatingCredential("expired-aad-token-000000", scoring.keys[1])
    provider = AzureMLProvider(
        ProviderConfig(provider="azure-ml", endpoint=scoring.scoring_uri, config={"auth": "aad"}), credential=cred
    )
    assert provider.validate() is True
    out = provider.predict(make_model(), PredictionInput(ROWS[0]))
    assert out.prediction == pytest.approx(scoring.scores([ROWS[0]])[0])
    assert cred.scopes == [("https://ml.azure.com/.default",)] * 2
    assert [r.authorization for r in scoring.scoring_requests()] == [
        "Bearer expired-aad-token-000000",
        f"Bearer {scoring.keys[1]}",
    ]
    provider.predict(make_model(), PredictionInput(ROWS[1]))  # cached until it nears expiry
    assert len(cred.scopes) == 2


def test_static_token_credential(scoring: ScoringStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTCRM_TEST_AZML_TOKEN", scoring.keys[1])
    provider = make_provider(scoring, credentials={"token": {"env": "HOTCRM_TEST_AZML_TOKEN"}})
    provider.predict(make_model(), PredictionInput(ROWS[2]))
    assert scoring.scoring_requests()[0].authorization == f"Bearer {scoring.keys[1]}"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"deploymnet": "blue"}, "[models.lead-azure.parameters] unknown key 'deploymnet'; did you mean `deployment`?"),
        (
            {"default_confidence": "high"},
            "Invalid [models.lead-azure.parameters]: default_confidence: expected a number",
        ),
        (
            {"default_confidence": 150},
            "Invalid [models.lead-azure.parameters]: default_confidence: expected a number >= 0",
        ),
        ({"api_key": "literal-key-123"}, 'Invalid [models.lead-azure.parameters]: api_key: expected {env = "NAME"}'),
    ],
)
def test_model_parameters_are_refused_when_the_cloud_starts(
    scoring: ScoringStandin, parameters: dict[str, Any], message: str
) -> None:
    import hotcrm_ai_azureml
    from hotcrm_ai import AICloud, Settings

    with pytest.raises(ConfigError) as info:
        AICloud(Settings(models=(make_model(**parameters),)), plugins=[hotcrm_ai_azureml], load_entrypoints=False)
    assert str(info.value).startswith(message)
    assert "literal-key-123" not in str(info.value)


def test_url_options_take_env_references_and_stay_out_of_reprs(
    scoring: ScoringStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTCRM_TEST_AZML_HEALTH", "https://health.example/ping?sig=planted-sas-signature")
    provider = make_provider(scoring, health_url={"env": "HOTCRM_TEST_AZML_HEALTH"})
    health_url = provider.options.health_url
    assert health_url is not None and health_url.env == "HOTCRM_TEST_AZML_HEALTH"
    assert health_url.reveal() == "https://health.example/ping?sig=planted-sas-signature"
    monkeypatch.setenv("HOTCRM_TEST_AZML_HEALTH", "https://health.example/ping?sig=rotated")
    assert health_url.reveal().endswith("sig=rotated")  # read when used: a rotation needs no restart
    assert "planted-sas-signature" not in repr(provider) and "planted-sas-signature" not in repr(provider.options)
