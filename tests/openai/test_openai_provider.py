"""The OpenAI provider with the real SDK on the wire, against the local stand-in server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from support.openai_standin import CHAT, EMBEDDINGS, MODELS, OpenAIStandIn, embed_text

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
from hotcrm_ai.secrets import Secret
from hotcrm_ai.types import ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_openai.plugin import provider_spec
from hotcrm_ai_openai.provider import OpenAIProvider

KEY = "sk-planted-SECRET-0123456789abcdefXYZ"


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(api_key=KEY, model_aliases={"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}) as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh(server: OpenAIStandIn) -> None:
    server.reset()


def make(server: OpenAIStandIn, key: str | Secret = KEY, **config: Any) -> OpenAIProvider:
    provider = provider_spec().factory(
        ProviderConfig(
            provider="openai",
            endpoint=server.base_url,
            credentials={"api_key": key},
            config={"model": "gpt-4o-mini", **config},
        )
    )
    assert isinstance(provider, OpenAIProvider)
    return provider


@pytest.fixture
def provider(server: OpenAIStandIn) -> Iterator[OpenAIProvider]:
    p = make(server)
    yield p
    p.close()


SENTIMENT = ModelConfig(id="sentiment-analysis-llm", name="Sentiment (LLM)", type="nlp", provider="openai")
LEAD = ModelConfig(id="lead-scoring-llm", name="Lead scoring (LLM)", type="classification", provider="openai")
EMBED = ModelConfig(id="crm-embeddings", name="Embeddings", type="embedding", provider="openai")
HOT_LEAD = {
    "company_size": 2000,
    "industry": "software",
    "engagement_score": 92,
    "job_title": "VP of Sales",
    "budget": 250000,
}
COLD_LEAD = {"company_size": 3, "industry": "retail", "engagement_score": 5, "job_title": "Intern", "budget": 0}


def inp(**features: Any) -> PredictionInput:
    return PredictionInput(features=features)


# -- structured answers ------------------------------------------------------------------------------


def test_sentiment_is_a_structured_answer_that_depends_on_the_text(
    provider: OpenAIProvider, server: OpenAIStandIn
) -> None:
    happy = provider.predict(SENTIMENT, inp(text="Great product, I love the fast support!"))
    angry = provider.predict(SENTIMENT, inp(text="Terrible service, slow and broken. I want a refund."))
    assert happy.prediction["sentiment"] == "positive" and 0.5 < happy.prediction["score"] <= 1
    assert angry.prediction["sentiment"] == "negative" and 0 <= angry.prediction["score"] < 0.5
    # no confidence in a sentiment answer: it comes from the label tokens' log-probabilities
    assert happy.metadata["confidence_source"] == "logprobs"
    assert happy.metadata["confidence_detail"] == "field:sentiment"
    assert 0 < happy.confidence < 100
    body = server.requests_to(CHAT)[0].body
    assert body["response_format"]["type"] == "json_schema"
    sent_schema = body["response_format"]["json_schema"]["schema"]
    assert sent_schema["properties"]["sentiment"]["enum"] == ["positive", "negative", "neutral"]
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["logprobs"] is True
    assert body["messages"][-1] == {"role": "user", "content": "Great product, I love the fast support!"}
    assert body["messages"][0]["role"] == "system" and "sentiment" in body["messages"][0]["content"]


def test_lead_scoring_answer_carries_its_own_confidence(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    hot = provider.predict(LEAD, inp(**HOT_LEAD))
    cold = provider.predict(LEAD, inp(**COLD_LEAD))
    assert set(hot.prediction) == {"score", "confidence"}
    assert hot.prediction["score"] > cold.prediction["score"]
    assert hot.confidence == hot.prediction["confidence"]
    assert hot.metadata["confidence_source"] == "answer"
    body = server.requests_to(CHAT)[0].body
    assert "logprobs" not in body  # the answer has a confidence: no need to pay for logprobs
    assert '"engagement_score": 92' in body["messages"][-1]["content"]  # features, pretty-printed JSON


def test_custom_prompt_and_declared_output(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    model = ModelConfig(
        id="churn-llm",
        name="Churn (LLM)",
        type="classification",
        provider="openai",
        output={
            "risk": {"type": "string", "enum": ["low", "high"]},
            "probability": {"type": "number", "minimum": 0, "maximum": 1},
        },
        parameters={
            "system_prompt": "You judge churn risk.",
            "user_template": "Account {account}: {features}",
            "temperature": 0,
            "prediction_field": "risk",
            "logprobs": False,
        },
    )
    out = provider.predict(model, inp(account="Acme", nps=9))
    assert out.prediction in ("low", "high")
    assert out.metadata["confidence_source"] == "none" and out.confidence == 0
    body = server.requests_to(CHAT)[0].body
    assert body["temperature"] == 0  # zero is sent as zero
    assert body["messages"][0] == {"role": "system", "content": "You judge churn risk."}
    assert body["messages"][1]["content"].startswith("Account Acme: {")
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["risk", "probability"]
    with pytest.raises(ValidationError, match=r"features\.account"):
        provider.predict(model, inp(nps=9))


def test_json_object_mode_for_servers_without_structured_outputs(server: OpenAIStandIn) -> None:
    provider = make(server, response_format="json_object")
    out = provider.predict(SENTIMENT, inp(text="awful, I hate it"))
    assert out.prediction["sentiment"] == "negative"
    body = server.requests_to(CHAT)[0].body
    assert body["response_format"] == {"type": "json_object"}
    assert "JSON schema" in body["messages"][0]["content"]


def test_optional_fields_are_sent_non_strict_but_validated(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    model = ModelConfig(
        id="opt-llm",
        name="o",
        type="nlp",
        provider="openai",
        output={
            "type": "object",
            "properties": {"label": {"type": "string"}, "note": {"type": "string"}},
            "required": ["label"],
        },
    )
    out = provider.predict(model, inp(text="fine"))
    assert "label" in out.prediction
    assert server.requests_to(CHAT)[0].body["response_format"]["json_schema"]["strict"] is False


# -- malformed replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        '{"sentiment": "ecstatic", "score": 0.9}',
        '{"sentiment": "positive", "score": 7}',
        "Sure! It is positive.",
        '{"sentiment": "positive"}',
        '{"sentiment": "positive", "score": 0.9, "extra": true}',
    ],
)
def test_malformed_answer_is_asked_again_once_then_refused(
    provider: OpenAIProvider, server: OpenAIStandIn, content: str
) -> None:
    server.reply_next(CHAT, content, times=2)
    with pytest.raises(ProviderResponseError) as info:
        provider.predict(SENTIMENT, inp(text="good"))
    assert info.value.retryable is False  # already retried here; the service must not multiply attempts
    assert info.value.details["attempts"] == 2
    assert info.value.details["usage"]["total_tokens"] > 0  # the failed calls were billed: say so
    assert len(server.requests_to(CHAT)) == 2


def test_one_malformed_answer_then_a_good_one_succeeds(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    server.reply_next(CHAT, '{"sentiment": 3}')
    out = provider.predict(SENTIMENT, inp(text="I love it"))
    assert out.prediction["sentiment"] == "positive"
    assert out.metadata["attempts"] == 2
    assert len(server.requests_to(CHAT)) == 2


def test_malformed_retries_can_be_turned_off(server: OpenAIStandIn) -> None:
    provider = make(server, malformed_retries=0)
    server.reply_next(CHAT, "nope")
    with pytest.raises(ProviderResponseError):
        provider.predict(SENTIMENT, inp(text="good"))
    assert len(server.requests_to(CHAT)) == 1


def test_truncated_answer_is_refused_with_the_reason(server: OpenAIStandIn) -> None:
    provider = make(server, max_tokens=5, malformed_retries=0)
    with pytest.raises(ProviderResponseError, match="max_tokens"):
        provider.predict(SENTIMENT, inp(text="good"))
    assert server.requests_to(CHAT)[0].body["max_tokens"] == 5


def test_max_completion_tokens_parameter(server: OpenAIStandIn) -> None:
    provider = make(server, max_tokens_param="max_completion_tokens", max_tokens=300)
    provider.predict(SENTIMENT, inp(text="good"))
    body = server.requests_to(CHAT)[0].body
    assert body["max_completion_tokens"] == 300 and "max_tokens" not in body


def test_refusal_is_a_model_error(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    server.on_chat(
        lambda body: {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": None, "refusal": "I can't help with that."},
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
        }
    )
    with pytest.raises(ProviderModelError, match="refused"):
        provider.predict(SENTIMENT, inp(text="good"))


# -- usage and cost ------------------------------------------------------------------------------------


def test_usage_and_cost_from_the_served_snapshot(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    out = provider.predict(SENTIMENT, inp(text="great"))
    usage = out.metadata["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    # the stand-in reports the dated snapshot, as the API does; priced as gpt-4o-mini
    assert out.metadata["model"] == "gpt-4o-mini-2024-07-18"
    expected = (usage["prompt_tokens"] * 0.00015 + usage["completion_tokens"] * 0.0006) / 1000
    assert usage["cost_usd"] == pytest.approx(expected)
    assert out.metadata["request_id"].startswith("req_")


def test_configured_prices_override_and_unknown_models_get_no_cost(server: OpenAIStandIn) -> None:
    priced = make(server, prices={"gpt-4o-mini": {"input": 1.0, "output": 2.0}})
    usage = priced.predict(SENTIMENT, inp(text="great")).metadata["usage"]
    assert usage["cost_usd"] == pytest.approx((usage["prompt_tokens"] * 1.0 + usage["completion_tokens"] * 2.0) / 1000)
    server.models.append("local-llama")
    try:
        unpriced = make(server, model="local-llama")
        usage = unpriced.predict(SENTIMENT, inp(text="great")).metadata["usage"]
        assert "cost_usd" not in usage and usage["total_tokens"] > 0
    finally:
        server.models.remove("local-llama")


# -- embeddings ----------------------------------------------------------------------------------------


def test_embeddings_batch_is_one_request(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    texts = [f"customer {i} asked about pricing and renewal" for i in range(50)]
    outs = provider.batch_predict(EMBED, [inp(text=t) for t in texts])
    assert len(server.requests_to(EMBEDDINGS)) == 1
    request = server.requests_to(EMBEDDINGS)[0].body
    assert request["input"] == texts and request["model"] == "text-embedding-3-small"
    assert [o.prediction for o in outs] == [pytest.approx(embed_text(t, 64), abs=1e-6) for t in texts]
    total = sum(o.metadata["usage"]["prompt_tokens"] for o in outs)
    assert total == sum(len(t.split()) for t in texts)  # the stand-in bills a token per word; shared out exactly
    assert all(o.metadata["confidence_source"] == "none" and o.metadata["batch_size"] == 50 for o in outs)
    assert sum(o.metadata["usage"]["cost_usd"] for o in outs) == pytest.approx(total * 0.00002 / 1000)


def test_embeddings_split_by_api_limits(server: OpenAIStandIn) -> None:
    provider = make(server, embedding_batch_size=3, embedding_max_tokens_per_request=10_000)
    outs = provider.batch_predict(EMBED, [inp(text=f"text {i}") for i in range(7)])
    sizes = [len(r.body["input"]) for r in server.requests_to(EMBEDDINGS)]
    assert sizes == [3, 3, 1]
    assert [o.prediction for o in outs] == [pytest.approx(embed_text(f"text {i}", 64), abs=1e-6) for i in range(7)]
    server.reset()
    by_tokens = make(server, embedding_max_tokens_per_request=20)
    by_tokens.batch_predict(EMBED, [inp(text="x" * 15) for _ in range(3)])
    assert [len(r.body["input"]) for r in server.requests_to(EMBEDDINGS)] == [1, 1, 1]


def test_embedding_dimensions_and_single_predict(server: OpenAIStandIn) -> None:
    model = ModelConfig(
        id="emb-small",
        name="e",
        type="embedding",
        provider="openai",
        parameters={"dimensions": 16, "input_field": "body"},
    )
    out = make(server).predict(model, inp(body="hello there"))
    assert len(out.prediction) == 16 and out.metadata["dimensions"] == 16
    assert server.requests_to(EMBEDDINGS)[0].body["dimensions"] == 16


@pytest.mark.parametrize("rows", [[{"text": ""}], [{"text": "ok"}, {"text": 5}], [{"other": "x"}]])
def test_embedding_input_errors_name_the_row(provider: OpenAIProvider, server: OpenAIStandIn, rows: list[dict]) -> None:
    with pytest.raises(ValidationError, match=r"features\.text"):
        provider.batch_predict(EMBED, [PredictionInput(features=r) for r in rows])
    assert server.requests_to(EMBEDDINGS) == []


def test_chat_batch_runs_concurrently_in_order(server: OpenAIStandIn) -> None:
    provider = make(server, max_concurrency=4)
    texts = ["love it", "hate it", "it is a chair", "great stuff", "awful"] * 2
    outs = provider.batch_predict(SENTIMENT, [inp(text=t) for t in texts])
    assert [o.prediction["sentiment"] for o in outs] == ["positive", "negative", "neutral", "positive", "negative"] * 2
    assert len(server.requests_to(CHAT)) == len(texts)
    assert provider.batches_natively(EMBED) and not provider.batches_natively(SENTIMENT)


def test_generation_returns_text(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    model = ModelConfig(
        id="email-writer",
        name="w",
        type="generation",
        provider="openai",
        parameters={"system_prompt": "Write short emails.", "logprobs": True},
    )
    out = provider.predict(model, inp(prompt="Thank the customer for a great meeting"))
    assert isinstance(out.prediction, str) and "great meeting" in out.prediction
    assert out.metadata["confidence_source"] == "logprobs" and out.metadata["confidence_detail"] == "mean_token"
    body = server.requests_to(CHAT)[0].body
    assert "response_format" not in body and body["messages"][0]["content"] == "Write short emails."


# -- errors --------------------------------------------------------------------------------------------


def _all_text(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), repr(vars(exc)), repr(exc.__cause__), repr(exc.__context__)])


def test_invalid_key_is_an_auth_error_without_the_key(server: OpenAIStandIn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "sk-wrong-PLANTED-key-9876543210zyxw"
    provider = make(server, key=wrong)
    with pytest.raises(ProviderAuthError) as info:
        provider.predict(SENTIMENT, inp(text="good"))
    assert info.value.retryable is False and info.value.status == 401
    assert "Incorrect API key provided" in str(info.value)  # the server's reason is kept...
    assert wrong not in _all_text(info.value)  # ...the key it echoed is not
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert server.requests_to(CHAT)[0].bearer == wrong  # it really went on the wire
    report = provider.health_check()
    assert not report.healthy and "401" in (report.error or "") and wrong not in repr(report)
    assert wrong not in caplog.text and wrong not in repr(provider) and wrong not in repr(provider.options)


def test_missing_key_is_an_auth_error_before_any_request(
    server: OpenAIStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTCRM_TEST_OPENAI_KEY", raising=False)
    provider = make(server, key=Secret(env="HOTCRM_TEST_OPENAI_KEY"))
    assert provider.validate() is False
    with pytest.raises(ProviderAuthError, match="HOTCRM_TEST_OPENAI_KEY is not set"):
        provider.predict(SENTIMENT, inp(text="good"))
    assert server.requests == []
    monkeypatch.setenv("HOTCRM_TEST_OPENAI_KEY", KEY)  # rotation/late setting needs no rebuild
    assert provider.validate() is True
    assert provider.predict(SENTIMENT, inp(text="good")).prediction["sentiment"] == "positive"


def test_validate_checks_shape_without_printing(server: OpenAIStandIn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert make(server).validate() is True
    bad = "sk-has space-in-it-1234567890"
    assert make(server, key=bad).validate() is False
    assert bad not in caplog.text and "spaces" in caplog.text
    official = provider_spec().factory(ProviderConfig(provider="openai", credentials={"api_key": "not-a-key"}))
    assert official.validate() is False  # api.openai.com wants sk-...
    compatible = make(server, key="EMPTY-local-key")
    assert compatible.validate() is True  # other servers take any well-formed token


def test_rate_limit_carries_retry_after(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    server.rate_limit_next(CHAT, retry_after=7)
    with pytest.raises(ProviderRateLimitError) as info:
        provider.predict(SENTIMENT, inp(text="good"))
    assert info.value.retryable is True and info.value.retry_after == 7.0 and info.value.status == 429
    server.rate_limit_next(CHAT, retry_after=250, header="retry-after-ms")
    with pytest.raises(ProviderRateLimitError) as info:
        provider.predict(SENTIMENT, inp(text="good"))
    assert info.value.retry_after == 0.25
    assert len(server.requests_to(CHAT)) == 2  # the SDK's own retries are off


def test_quota_exhausted_is_not_retryable(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    server.fail_next(
        CHAT,
        429,
        body={
            "error": {
                "message": "You exceeded your current quota",
                "type": "insufficient_quota",
                "code": "insufficient_quota",
            }
        },
    )
    with pytest.raises(ProviderRateLimitError) as info:
        provider.predict(SENTIMENT, inp(text="good"))
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (500, ProviderServerError, True),
        (503, ProviderServerError, True),
        (403, ProviderAuthError, False),
        (400, ProviderRequestError, False),
        (422, ProviderRequestError, False),
        (408, ProviderTimeoutError, True),
    ],
)
def test_status_codes_map_to_typed_errors(
    provider: OpenAIProvider, server: OpenAIStandIn, status: int, error: type[ProviderError], retryable: bool
) -> None:
    server.fail_next(CHAT, status)
    with pytest.raises(error) as info:
        provider.predict(SENTIMENT, inp(text="good"))
    assert info.value.retryable is retryable and info.value.status == status
    assert info.value.provider == "openai" and f"HTTP {status}" in str(info.value)
    assert len(server.requests_to(CHAT)) == 1


def test_unknown_model_is_a_request_error(server: OpenAIStandIn) -> None:
    with pytest.raises(ProviderRequestError, match="model_not_found"):
        make(server, model="gpt-99").predict(SENTIMENT, inp(text="good"))


def test_slow_reply_times_out(server: OpenAIStandIn) -> None:
    provider = make(server, timeout=0.3)
    server.delay_next(CHAT, 1.5)
    with pytest.raises(ProviderTimeoutError) as info:
        provider.predict(SENTIMENT, inp(text="good"))
    assert info.value.retryable is True  # the error itself proves the 0.3 s limit fired before the 1.5 s reply
    model = ModelConfig(id="sentiment-fast", name="s", type="nlp", provider="openai", timeout_s=0.3)
    server.delay_next(CHAT, 1.5)
    with pytest.raises(ProviderTimeoutError):
        make(server).predict(model, inp(text="good"))  # the model's timeout_s wins over the provider's 60 s


def test_connection_refused_is_a_connection_error() -> None:
    with OpenAIStandIn(api_key=KEY) as gone:
        url = gone.base_url
    provider = provider_spec().factory(ProviderConfig(provider="openai", endpoint=url, credentials={"api_key": KEY}))
    with pytest.raises(ProviderConnectionError) as info:
        provider.predict(SENTIMENT, inp(text="good"))
    assert info.value.retryable is True
    report = provider.health_check()
    assert report.healthy is False and report.details["error_type"] == "ProviderConnectionError"


def test_health_check_lists_models(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    report = provider.health_check()
    assert report.healthy and report.latency_ms is not None and report.latency_ms > 0
    assert report.details["models"] == len(server.models) and report.details["model_available"] is True
    assert [r.path for r in server.requests] == [MODELS]
    server.fail_next(MODELS, 500)
    assert provider.health_check().healthy is False


def test_bad_config_is_reported_when_built(server: OpenAIStandIn) -> None:
    with pytest.raises(ConfigError, match=r"providers\.openai\.config\]: temperature"):
        make(server, temperature=-1)
    with pytest.raises(ConfigError, match="max_concurrency"):
        make(server, max_concurrency=0)
    with pytest.raises(ConfigError, match=r"credentials\] unknown key 'token'"):
        provider_spec().factory(ProviderConfig(provider="openai", credentials={"token": "x"}))
    no_schema = ModelConfig(id="free-llm", name="f", type="nlp", provider="openai", output={"x": "decimal"})
    with pytest.raises(ConfigError, match=r"model free-llm: output\.x"):
        make(server).predict(no_schema, inp(text="a"))


# -- awkward input ---------------------------------------------------------------------------------------


def test_unicode_text_round_trips(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    text = "Great 👍 — très bien, 素晴らしい service \u202e and a zero-width\u200bjoiner"
    out = provider.predict(SENTIMENT, inp(text=text))
    assert out.prediction["sentiment"] == "positive"
    assert server.requests_to(CHAT)[0].body["messages"][-1]["content"] == text
    vec = provider.predict(EMBED, inp(text=text)).prediction
    assert vec == pytest.approx(embed_text(text, 64), abs=1e-6)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_features_never_reach_the_wire(provider: OpenAIProvider, server: OpenAIStandIn, bad: float) -> None:
    with pytest.raises(ValidationError, match="features"):
        provider.predict(LEAD, inp(**{**HOT_LEAD, "budget": bad}))
    assert server.requests == []


def test_empty_or_missing_prompt_text_is_a_validation_error(provider: OpenAIProvider, server: OpenAIStandIn) -> None:
    with pytest.raises(ValidationError, match=r"features\.text"):
        provider.predict(SENTIMENT, inp(other="x"))
    with pytest.raises(ValidationError, match="non-empty text"):
        provider.predict(SENTIMENT, inp(text="   "))
    assert server.requests == []


def test_huge_texts_are_split_into_requests_within_the_token_budget(server: OpenAIStandIn) -> None:
    provider = make(server, embedding_max_tokens_per_request=100_000)
    texts = ["word " * 12_000 + str(i) for i in range(5)]  # 60,005 bytes each: one per request
    outs = provider.batch_predict(EMBED, [inp(text=t) for t in texts])
    assert [len(r.body["input"]) for r in server.requests_to(EMBEDDINGS)] == [1, 1, 1, 1, 1]
    assert [o.metadata["batch_requests"] for o in outs] == [5] * 5


@pytest.mark.parametrize(
    "key", ["sk-abc\nPLANTED-rest", "sk-ключ-PLANTED-rest", "sk-with space-PLANTED", "sk-" + "x" * 2000]
)
def test_malformed_keys_are_refused_before_the_wire_without_quoting_them(server: OpenAIStandIn, key: str) -> None:
    provider = make(server, key=key)
    assert provider.validate() is False
    with pytest.raises(ProviderAuthError, match="malformed") as info:
        provider.predict(SENTIMENT, inp(text="good"))
    assert "PLANTED" not in _all_text(info.value) and "x" * 50 not in _all_text(info.value)
    assert server.requests == []


def test_organization_project_and_seed_are_sent(server: OpenAIStandIn) -> None:
    provider = make(server, organization="org-crm", project="proj_sales", seed=42)
    provider.predict(SENTIMENT, inp(text="good"))
    request = server.requests_to(CHAT)[0]
    assert request.headers["openai-organization"] == "org-crm"
    assert request.headers["openai-project"] == "proj_sales"
    assert request.body["seed"] == 42
