"""The Anthropic provider driven through ``AICloud`` (the real plugin module, prediction service,
monitor and cache) with the real SDK on the wire to the Messages API stand-in."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.anthropic_standin import MESSAGES, MODELS, AnthropicStandIn

import hotcrm_ai_anthropic.plugin
from hotcrm_ai import AICloud, Settings
from hotcrm_ai.config import PredictionSettings
from hotcrm_ai.errors import (
    ConfigError,
    PredictionError,
    ProviderAuthError,
    ProviderRequestError,
    ProviderResponseError,
    ProviderTimeoutError,
)
from hotcrm_ai.secrets import Secret
from hotcrm_ai.types import FeatureSpec, ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_anthropic.options import ProviderSettings

KEY = "sk-ant-PLANTED-cloud-secret-abcdef0123456789"
OTHER = "sk-ant-second-team-key-9876543210fedcba"

SENTIMENT = ModelConfig(
    id="sentiment-analysis-llm",
    name="Sentiment (LLM)",
    type="nlp",
    provider="anthropic",
    features=(FeatureSpec(name="text", dtype="string", max_length=20_000),),
)
LEAD = ModelConfig(
    id="lead-scoring-llm",
    name="Lead qualification (LLM)",
    type="classification",
    provider="anthropic",
    features=(
        FeatureSpec(name="company_size", dtype="number", minimum=0),
        FeatureSpec(name="engagement_score", dtype="number", minimum=0, maximum=100),
        FeatureSpec(name="job_title", dtype="string"),
        FeatureSpec(name="budget", dtype="number", minimum=0),
    ),
)
CHURN = ModelConfig(
    id="churn-risk-llm",
    name="Churn risk (LLM)",
    type="classification",
    provider="anthropic",
    output={
        "type": "object",
        "properties": {
            "risk": {"type": "string", "enum": ["high", "low"]},
            "likelihood": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["risk", "likelihood"],
    },
    parameters={"confidence_field": "likelihood", "prediction_field": "risk", "temperature": 0},
)
WRITER = ModelConfig(id="email-writer", name="Email writer", type="generation", provider="anthropic")
HOT_LEAD = {"company_size": 5000, "engagement_score": 88, "job_title": "Chief Revenue Officer", "budget": 500000}
COLD_LEAD = {"company_size": 2, "engagement_score": 3, "job_title": "Student", "budget": 0}


@pytest.fixture(scope="module")
def server() -> Iterator[AnthropicStandIn]:
    with AnthropicStandIn([KEY, OTHER]) as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh(server: AnthropicStandIn) -> None:
    server.reset()
    server.latency = 0.0


def cloud(
    server: AnthropicStandIn, key: str | Secret = KEY, models: tuple[ModelConfig, ...] = (), **config: Any
) -> AICloud:
    settings = Settings(
        providers={
            "anthropic": ProviderConfig(
                provider="anthropic", endpoint=server.base_url, credentials={"api_key": key}, config=config
            )
        },
        models=models or (SENTIMENT, LEAD, CHURN, WRITER),
        prediction=PredictionSettings(retries=2, backoff_base_s=0.01),
    )
    return AICloud(settings, plugins=[hotcrm_ai_anthropic.plugin], load_entrypoints=False, env={})


@pytest.fixture
def ai(server: AnthropicStandIn) -> Iterator[AICloud]:
    with cloud(server) as instance:
        yield instance


def _tool(body: dict[str, Any]) -> dict[str, Any]:
    (tool,) = body["tools"]
    assert body["tool_choice"] == {"type": "tool", "name": tool["name"]}
    return dict(tool)


# -- answers -------------------------------------------------------------------------------------------


def test_sentiment_is_the_stand_ins_structured_answer(ai: AICloud, server: AnthropicStandIn) -> None:
    good = ai.predict("sentiment-analysis-llm", {"text": "Excellent support, thank you, I love it"})
    bad = ai.predict("sentiment-analysis-llm", {"text": "Awful experience, the product is broken"})
    assert good.ok and good.prediction["sentiment"] == "positive" and good.prediction["score"] > 0.5
    assert bad.prediction["sentiment"] == "negative" and bad.prediction["score"] < 0.5
    # no confidence field in the sentiment schema, no token probabilities in the API: unknown, not invented
    assert good.confidence == 0.0 and good.metadata["confidence_source"] == "unknown"
    body = server.requests_to(MESSAGES)[0].body
    tool = _tool(body)
    assert tool["input_schema"]["properties"]["sentiment"]["enum"] == ["positive", "negative", "neutral"]
    assert body["messages"] == [{"role": "user", "content": "Excellent support, thank you, I love it"}]
    assert "sentiment" in body["system"] and "temperature" not in body  # the API's default unless configured


def test_lead_qualification_confidence_comes_from_the_answer(ai: AICloud) -> None:
    hot = ai.predict("lead-scoring-llm", HOT_LEAD)
    cold = ai.predict("lead-scoring-llm", COLD_LEAD)
    assert 0 <= cold.prediction["score"] < hot.prediction["score"] <= 100
    assert hot.metadata["confidence_source"] == "answer" and hot.confidence == hot.prediction["confidence"] > 0


def test_declared_output_schema_is_the_tools_input_schema(ai: AICloud, server: AnthropicStandIn) -> None:
    out = ai.predict("churn-risk-llm", {"text": "We will cancel, the service is terrible"})
    body = server.requests_to(MESSAGES)[-1].body
    assert _tool(body)["input_schema"] == CHURN.output
    assert body["temperature"] == 0  # 0 is a value, sent as 0
    assert out.prediction in ("high", "low")
    likelihood = out.metadata["confidence_detail"] == "likelihood"
    assert likelihood and out.metadata["confidence_source"] == "answer" and 0 <= out.confidence <= 100


def test_generation_returns_text(ai: AICloud, server: AnthropicStandIn) -> None:
    out = ai.predict("email-writer", {"prompt": "Thank the customer for the great feedback"})
    assert isinstance(out.prediction, str) and "great feedback" in out.prediction
    assert "tools" not in server.requests_to(MESSAGES)[-1].body


def test_schema_invalid_reply_is_asked_again_once_then_refused(ai: AICloud, server: AnthropicStandIn) -> None:
    server.reply_next(MESSAGES, {"sentiment": "very positive!!", "score": 2}, times=2)
    with pytest.raises(PredictionError) as info:
        ai.predict("sentiment-analysis-llm", {"text": "fine"})
    cause = info.value.cause
    assert isinstance(cause, ProviderResponseError) and cause.retryable is False
    assert "answer.sentiment" in str(cause) and "answer.score" in str(cause)
    assert len(server.requests_to(MESSAGES)) == 2  # asked again once; the service did not multiply that
    server.reply_next(MESSAGES, {"sentiment": "maybe"})
    out = ai.predict("sentiment-analysis-llm", {"text": "great, thanks"})
    assert out.prediction["sentiment"] == "positive" and out.metadata["attempts"] == 2


def test_a_json_text_reply_is_accepted_when_a_gateway_ignores_the_tool(ai: AICloud, server: AnthropicStandIn) -> None:
    server.reply_next(MESSAGES, '{"sentiment": "negative", "score": 0.1}')
    out = ai.predict("sentiment-analysis-llm", {"text": "meh"})
    assert out.prediction == {"sentiment": "negative", "score": 0.1}
    server.reply_next(MESSAGES, "I think it is negative.", times=2)
    with pytest.raises(PredictionError) as info:
        ai.predict("sentiment-analysis-llm", {"text": "meh, again"})
    assert isinstance(info.value.cause, ProviderResponseError) and "'answer' tool call" in str(info.value.cause)


# -- errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 529])
def test_rate_limits_and_overload_are_retried_after_the_servers_delay(
    ai: AICloud, server: AnthropicStandIn, status: int
) -> None:
    server.fail_next(MESSAGES, status, headers={"retry-after": "1"})
    result = ai.predict("sentiment-analysis-llm", {"text": "good news"})
    assert result.ok and result.prediction["sentiment"] == "positive"
    first, second = server.requests_to(MESSAGES)
    assert first.status == status and second.status == 200
    assert second.time - first.time >= 0.95  # the service waited as long as the server asked


def test_a_wrong_key_is_a_typed_error_without_the_key(
    server: AnthropicStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "sk-ant-WRONG-planted-5555444433332222"
    with cloud(server, key=wrong) as ai:
        with pytest.raises(PredictionError) as info:
            ai.predict("sentiment-analysis-llm", {"text": "hello"})
        cause = info.value.cause
        assert isinstance(cause, ProviderAuthError) and cause.retryable is False and cause.status == 401
        assert len(server.requests_to(MESSAGES)) == 1  # not retried
        health = ai.provider_health("sentiment-analysis-llm")
        assert health.healthy is False
        texts = [str(info.value), repr(info.value), str(cause), repr(vars(cause)), repr(health), caplog.text]
        texts.append(repr(ai.provider_for("sentiment-analysis-llm")))
        assert server.requests_to(MESSAGES)[0].key == wrong  # the server saw it (and echoed it)...
        assert not any("5555444433332222" in t for t in texts)  # ...we never repeat it


def test_a_bad_request_is_not_retried_and_names_the_cause(ai: AICloud, server: AnthropicStandIn) -> None:
    server.fail_next(MESSAGES, 400, message="messages.0.content: text content blocks must be non-empty")
    with pytest.raises(PredictionError) as info:
        ai.predict("sentiment-analysis-llm", {"text": "hello"})
    cause = info.value.cause
    assert isinstance(cause, ProviderRequestError) and cause.retryable is False
    assert "invalid_request_error" in str(cause) and "text content blocks must be non-empty" in str(cause)
    assert len(server.requests_to(MESSAGES)) == 1


def test_a_timeout_is_retried(server: AnthropicStandIn) -> None:
    fast = ModelConfig(id="sentiment-analysis-fast", name="s", type="nlp", provider="anthropic", timeout_s=0.3)
    with cloud(server, models=(fast,)) as ai:
        server.delay_next(MESSAGES, 1.0)
        out = ai.predict("sentiment-analysis-fast", {"text": "great"})
        assert out.ok and len(server.requests_to(MESSAGES)) == 2
        provider = ai.provider_for(fast)
        server.delay_next(MESSAGES, 1.0)
        with pytest.raises(ProviderTimeoutError) as info:
            provider.predict(fast, PredictionInput(features={"text": "great"}))
        assert info.value.retryable is True


def test_a_missing_key_is_refused_before_the_wire(server: AnthropicStandIn) -> None:
    with cloud(server, key=Secret(env="HOTCRM_AI_TEST_NO_SUCH_KEY")) as ai:
        with pytest.raises(PredictionError) as info:
            ai.predict("sentiment-analysis-llm", {"text": "hello"})
        assert isinstance(info.value.cause, ProviderAuthError)
        assert "HOTCRM_AI_TEST_NO_SUCH_KEY" in str(info.value.cause)
        assert ai.provider_for("sentiment-analysis-llm").validate() is False
    assert server.requests_to(MESSAGES) == []


# -- keys, usage, batches, health ----------------------------------------------------------------------


def test_two_models_with_different_keys_each_use_their_own(server: AnthropicStandIn) -> None:
    def own(model: ModelConfig, key: str) -> ModelConfig:
        config = ProviderConfig(provider="anthropic", endpoint=server.base_url, credentials={"api_key": key})
        return ModelConfig(id=model.id, name=model.name, type=model.type, provider="anthropic", provider_config=config)

    team_a, team_b = own(SENTIMENT, KEY), own(LEAD, OTHER)
    with cloud(server, models=(team_a, team_b)) as ai:
        ai.predict(team_a.id, {"text": "good"})
        ai.predict(team_b.id, HOT_LEAD)
        ai.predict(team_a.id, {"text": "bad"})
        assert [r.key for r in server.requests_to(MESSAGES)] == [KEY, OTHER, KEY]
        assert ai.provider_for(team_a) is not ai.provider_for(team_b)


def test_the_key_is_read_per_request(server: AnthropicStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTCRM_AI_TEST_ANTHROPIC_KEY", KEY)
    with cloud(server, key=Secret(env="HOTCRM_AI_TEST_ANTHROPIC_KEY")) as ai:
        ai.predict("sentiment-analysis-llm", {"text": "good"})
        monkeypatch.setenv("HOTCRM_AI_TEST_ANTHROPIC_KEY", OTHER)  # rotated: no restart needed
        ai.predict("sentiment-analysis-llm", {"text": "bad"})
    assert [r.key for r in server.requests_to(MESSAGES)] == [KEY, OTHER]


def test_usage_and_cost_are_in_the_metadata_and_summed_by_the_monitor(server: AnthropicStandIn) -> None:
    prices = {"claude-haiku-4-5": {"input": 0.001, "output": 0.005}}
    with cloud(server, prices=prices) as ai:
        outs = [ai.predict("sentiment-analysis-llm", {"text": t}) for t in ("good", "bad and broken")]
        for out in outs:
            usage = out.metadata["usage"]
            assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
            assert usage["cache_creation_input_tokens"] == 0 and usage["cache_read_input_tokens"] == 0
            assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
            assert usage["cost_usd"] == pytest.approx((usage["input_tokens"] + 5 * usage["output_tokens"]) / 1e6)
        summed = ai.stats("sentiment-analysis-llm").usage
        assert summed["output_tokens"] == sum(o.metadata["usage"]["output_tokens"] for o in outs)
        assert summed["cost_usd"] == pytest.approx(sum(o.metadata["usage"]["cost_usd"] for o in outs))


def test_batches_go_row_by_row_with_bounded_concurrency(server: AnthropicStandIn) -> None:
    deadline = time.monotonic() + 30
    while server.in_flight and time.monotonic() < deadline:  # earlier tests' slow replies still being sent
        time.sleep(0.05)
    server.reset()  # the stand-in is shared: count only this test's requests in flight
    server.latency = 0.05
    rows = [{"text": f"great product number {i}"} for i in range(12)]
    with cloud(server, max_concurrency=3) as ai:
        provider = ai.provider_for("sentiment-analysis-llm")
        outs = provider.batch_predict(SENTIMENT, [PredictionInput(features=r) for r in rows])
        assert [o.prediction["sentiment"] for o in outs] == ["positive"] * 12
        assert 1 < server.max_in_flight <= 3
        assert provider.batches_natively(SENTIMENT) is False
        server.reset()
        server.rate_limit_next(MESSAGES, retry_after=0)
        results = ai.batch_predict("sentiment-analysis-llm", rows, use_cache=False)
        assert all(r.ok for r in results)
        assert len(server.requests_to(MESSAGES)) == len(rows) + 1  # only the limited row was sent again


def test_health_uses_the_models_list(ai: AICloud, server: AnthropicStandIn) -> None:
    report = ai.provider_health("sentiment-analysis-llm")
    assert report.healthy and report.details["model_available"] is True and report.details["models"] == 3
    assert [r.path for r in server.requests] == [MODELS]


# -- configuration -------------------------------------------------------------------------------------


def test_unknown_option_names_the_key_and_suggests_one(server: AnthropicStandIn) -> None:
    with pytest.raises(ConfigError) as info, cloud(server, max_token=100):
        pass  # refused when the AICloud starts, through the one options policy
    assert "providers.anthropic.config] unknown key 'max_token'" in str(info.value)
    assert "did you mean `max_tokens`" in str(info.value)
    with pytest.raises(ConfigError) as info:
        ProviderSettings.from_config(ProviderConfig(provider="anthropic", config={"temperature": 1.5}))
    assert str(info.value) == (
        "Invalid [providers.anthropic.config]: temperature: expected a number >= 0 and <= 1, got 1.5"
    )
    with pytest.raises(ConfigError) as info:
        ProviderSettings.from_config(ProviderConfig(provider="anthropic", config={"prices": {"m": {"input": -1}}}))
    assert str(info.value).startswith(
        "Invalid [providers.anthropic.config]: prices['m'].input: expected a number >= 0, got -1"
    )
    with pytest.raises(ConfigError, match=r"\[providers.anthropic.credentials\] unknown key 'apikey'"):
        ProviderSettings.from_config(ProviderConfig(provider="anthropic", credentials={"apikey": "x"}))
    settings = ProviderSettings.from_config(ProviderConfig(provider="anthropic"))
    bad = ModelConfig(id="m", name="m", type="nlp", provider="anthropic", parameters={"max_tokns": 5})
    with pytest.raises(
        ConfigError, match=r"\[models.m.parameters\] unknown key 'max_tokns'; did you mean `max_tokens`"
    ):
        settings.for_model(bad)  # called directly, without AICloud: the same check


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"temprature": 0}, "[models.churn-risk-llm.parameters] unknown key 'temprature'; did you mean `temperature`?"),
        (
            {"max_tokens": "many"},
            "Invalid [models.churn-risk-llm.parameters]: max_tokens: expected an integer, got str",
        ),
        (
            {"temperature": 2},
            "Invalid [models.churn-risk-llm.parameters]: temperature: expected a number >= 0 and <= 1",
        ),
        ({"template": "lead"}, "Invalid [models.churn-risk-llm.parameters]: template: expected one of 'sentiment'"),
    ],
)
def test_model_parameters_are_refused_when_the_cloud_starts(
    server: AnthropicStandIn, parameters: dict[str, Any], message: str
) -> None:
    bad = ModelConfig(
        id="churn-risk-llm",
        name="Churn",
        type="classification",
        provider="anthropic",
        output=CHURN.output,
        parameters=parameters,
    )
    with pytest.raises(ConfigError) as info, cloud(server, models=(SENTIMENT, bad)):
        pass
    assert str(info.value).startswith(message)
    assert server.requests == []  # refused at start: nothing was sent


def test_base_url_from_endpoint_then_config_then_environment() -> None:
    env = {"ANTHROPIC_BASE_URL": "http://env.example:1"}
    cfg = {"base_url": "http://config.example:2"}

    def url(endpoint: str | None, config: dict[str, Any], environ: dict[str, str]) -> str:
        conf = ProviderConfig(provider="anthropic", endpoint=endpoint, config=config)
        return ProviderSettings.from_config(conf, env=environ).base_url

    assert url("http://endpoint.example:3/", cfg, env) == "http://endpoint.example:3"
    assert url("http://gateway.example/anthropic/v1", cfg, env) == "http://gateway.example/anthropic"
    assert url(None, cfg, env) == "http://config.example:2"
    assert url(None, {}, env) == "http://env.example:1"
    assert url(None, {}, {}) == "https://api.anthropic.com"
    expected = "expected an http(s) URL such as https://api.anthropic.com, got a value without http(s)://"
    with pytest.raises(ConfigError) as info:  # the message every HTTP provider gives (hotcrm_ai.base_url)
        url(None, {}, {"ANTHROPIC_BASE_URL": "ftp://x"})
    assert str(info.value) == f"ANTHROPIC_BASE_URL: {expected}"
    with pytest.raises(ConfigError) as info:
        url("gateway.example/v1?key=sk-in-url-1", cfg, env)
    assert str(info.value) == f"[providers.anthropic] endpoint: {expected}"
