"""The OpenAI provider driven through ``AICloud``: the real plugin module, the real prediction service,
monitor and cache, and the real SDK on the wire to the stand-in server."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.openai_standin import CHAT, EMBEDDINGS, OpenAIStandIn, embed_text

import hotcrm_ai_openai
from hotcrm_ai import AICloud, Settings
from hotcrm_ai.config import load_settings
from hotcrm_ai.errors import PredictionError, ProviderAuthError, ProviderResponseError
from hotcrm_ai.types import FeatureSpec, ModelConfig, ProviderConfig

KEY = "sk-cloud-PLANTED-secret-abcdef0123456789"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "providers" / "openai.md"

SENTIMENT = ModelConfig(
    id="sentiment-analysis-llm",
    name="Sentiment (LLM)",
    type="nlp",
    provider="openai",
    features=(FeatureSpec(name="text", dtype="string", max_length=20_000),),
)
LEAD = ModelConfig(
    id="lead-scoring-llm",
    name="Lead scoring (LLM)",
    type="classification",
    provider="openai",
    features=(
        FeatureSpec(name="company_size", dtype="number", minimum=0),
        FeatureSpec(name="industry", dtype="string"),
        FeatureSpec(name="engagement_score", dtype="number", minimum=0, maximum=100),
        FeatureSpec(name="job_title", dtype="string"),
        FeatureSpec(name="budget", dtype="number", minimum=0),
    ),
)
EMBED = ModelConfig(
    id="crm-embeddings",
    name="Embeddings",
    type="embedding",
    provider="openai",
    features=(FeatureSpec(name="text", dtype="string"),),
)


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(api_key=KEY) as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh(server: OpenAIStandIn) -> None:
    server.reset()


def cloud(server: OpenAIStandIn, key: str = KEY, **config: Any) -> AICloud:
    settings = Settings(
        providers={
            "openai": ProviderConfig(
                provider="openai",
                endpoint=server.base_url,
                credentials={"api_key": key},
                config={"model": "gpt-4o-mini", **config},
            )
        },
        models=(SENTIMENT, LEAD, EMBED),
    )
    return AICloud(settings, plugins=[hotcrm_ai_openai], load_entrypoints=False, env={})


@pytest.fixture
def ai(server: OpenAIStandIn) -> Iterator[AICloud]:
    with cloud(server) as instance:
        yield instance


def test_plugin_registers_the_openai_provider(ai: AICloud) -> None:
    assert "openai" in ai.plugins.providers
    assert type(ai.provider_for("sentiment-analysis-llm")).__name__ == "OpenAIProvider"


def test_structured_sentiment_and_lead_scoring(ai: AICloud, server: OpenAIStandIn) -> None:
    good = ai.predict("sentiment-analysis-llm", {"text": "Excellent support, thank you, I love it"})
    bad = ai.predict("sentiment-analysis-llm", {"text": "Awful experience, the product is broken"})
    assert good.ok and good.prediction["sentiment"] == "positive" and good.prediction["score"] > 0.5
    assert bad.prediction["sentiment"] == "negative" and bad.prediction["score"] < 0.5
    assert good.metadata["confidence_source"] == "logprobs" and good.confidence > 0
    hot = ai.predict(
        "lead-scoring-llm",
        {
            "company_size": 5000,
            "industry": "saas",
            "engagement_score": 88,
            "job_title": "Chief Revenue Officer",
            "budget": 500000,
        },
    )
    cold = ai.predict(
        "lead-scoring-llm",
        {"company_size": 2, "industry": "retail", "engagement_score": 3, "job_title": "Student", "budget": 0},
    )
    assert 0 <= cold.prediction["score"] < hot.prediction["score"] <= 100
    assert hot.confidence == hot.prediction["confidence"] and hot.metadata["confidence_source"] == "answer"
    assert len(server.requests_to(CHAT)) == 4
    again = ai.predict("sentiment-analysis-llm", {"text": "Excellent support, thank you, I love it"})
    assert again.cached and again.prediction == good.prediction
    assert len(server.requests_to(CHAT)) == 4  # served from the cache


def test_usage_and_cost_in_metadata_and_summed_by_the_monitor(ai: AICloud) -> None:
    results = [
        ai.predict("sentiment-analysis-llm", {"text": f"great call number {i}"}, use_cache=False) for i in range(3)
    ]
    usages = [r.metadata["usage"] for r in results]
    for u in usages:
        assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"] > 0
        assert u["cost_usd"] == pytest.approx((u["prompt_tokens"] * 0.00015 + u["completion_tokens"] * 0.0006) / 1000)
    stats = ai.stats("sentiment-analysis-llm")
    assert stats.usage["total_tokens"] == sum(u["total_tokens"] for u in usages)
    assert stats.usage["cost_usd"] == pytest.approx(sum(u["cost_usd"] for u in usages))


def test_embeddings_in_batch_are_one_request(ai: AICloud, server: OpenAIStandIn) -> None:
    rows = [{"text": f"ticket {i}: the invoice total looks wrong"} for i in range(40)]
    results = ai.batch_predict("crm-embeddings", rows)
    assert all(r.ok for r in results) and len(results) == 40
    assert len(server.requests_to(EMBEDDINGS)) == 1
    assert len(server.requests_to(EMBEDDINGS)[0].body["input"]) == 40
    # each row got its own text's vector, in order
    assert [r.prediction for r in results] == [pytest.approx(embed_text(row["text"], 64), abs=1e-6) for row in rows]
    stats = ai.stats("crm-embeddings")
    assert stats.usage["prompt_tokens"] == sum(r.metadata["usage"]["prompt_tokens"] for r in results)


def test_a_429_is_honoured(ai: AICloud, server: OpenAIStandIn) -> None:
    server.rate_limit_next(CHAT, retry_after=1)
    result = ai.predict("sentiment-analysis-llm", {"text": "good news"})
    assert result.ok and result.prediction["sentiment"] == "positive"
    first, second = server.requests_to(CHAT)
    assert first.status == 429 and second.status == 200
    assert second.time - first.time >= 0.95  # the service waited as long as the server asked


def test_a_malformed_reply_is_refused(ai: AICloud, server: OpenAIStandIn) -> None:
    server.reply_next(CHAT, '{"sentiment": "very positive!!", "score": 2}', times=2)
    with pytest.raises(PredictionError) as info:
        ai.predict("sentiment-analysis-llm", {"text": "fine"})
    assert isinstance(info.value.cause, ProviderResponseError)
    assert "answer.sentiment" in str(info.value.cause) and "answer.score" in str(info.value.cause)
    assert len(server.requests_to(CHAT)) == 2  # asked again once, and the service did not multiply that
    stats = ai.stats("sentiment-analysis-llm")
    assert stats.failures == 1 and stats.successes == 0
    # nothing was cached: the next call asks the model again and gets a real answer
    assert ai.predict("sentiment-analysis-llm", {"text": "fine"}).prediction["sentiment"] in ("positive", "neutral")


def test_an_invalid_key_is_reported_without_leaking_it(server: OpenAIStandIn, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "sk-WRONG-planted-key-5555444433332222"
    with cloud(server, key=wrong) as ai:
        with pytest.raises(PredictionError) as info:
            ai.predict("sentiment-analysis-llm", {"text": "hello"})
        cause = info.value.cause
        assert isinstance(cause, ProviderAuthError) and cause.retryable is False
        assert "401" in str(info.value)
        assert len(server.requests_to(CHAT)) == 1  # auth errors are not retried
        events = ai.monitor.recent_errors("sentiment-analysis-llm")
        assert events and events[0].error_type in ("ProviderAuthError", "PredictionError")
        health = ai.provider_health("sentiment-analysis-llm")
        texts = [
            str(info.value),
            repr(info.value),
            str(cause),
            repr(vars(cause)),
            repr(events),
            repr(health),
            repr(ai.provider_for("sentiment-analysis-llm")),
            caplog.text,
        ]
    assert server.requests_to(CHAT)[0].bearer == wrong
    assert all(wrong not in t for t in texts)


def test_the_documented_toml_example_works(
    server: OpenAIStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = re.search(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert block is not None
    config = tmp_path / "hotcrm-ai.toml"
    config.write_text(block.group(1), encoding="utf-8")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    settings = load_settings(config, env={})
    with AICloud(settings, plugins=[hotcrm_ai_openai], load_entrypoints=False, env={}) as ai:
        result = ai.predict("sentiment-analysis-llm", {"text": "Thanks, the onboarding was great"})
    assert result.prediction["sentiment"] == "positive"
    body = server.requests_to(CHAT)[0].body
    assert body["temperature"] == 0 and body["max_tokens"] == 300 and body["model"] == "gpt-4o-mini"
    assert server.requests_to(CHAT)[0].bearer == KEY  # {env = "OPENAI_API_KEY"} was resolved at request time


def test_batch_of_chat_rows_all_served(ai: AICloud, server: OpenAIStandIn) -> None:
    texts = ["love it", "hate it", "a table", "excellent", "terrible"]
    results = ai.batch_predict("sentiment-analysis-llm", [{"text": t} for t in texts])
    assert [r.prediction["sentiment"] for r in results] == ["positive", "negative", "neutral", "positive", "negative"]
    assert len(server.requests_to(CHAT)) == 5


def test_timeouts_are_retryable_and_recorded(server: OpenAIStandIn) -> None:
    with cloud(server, timeout=0.3) as ai:
        server.delay_next(CHAT, 1.0)
        result = ai.predict("sentiment-analysis-llm", {"text": "good"})
        assert result.ok  # the first request timed out (0.3 s < 1 s), the service retried it
        assert [r.status for r in server.requests_to(CHAT)][-1] == 200
        assert len(server.requests_to(CHAT)) == 2


def test_endpoint_as_an_env_reference_is_read_at_use_and_never_printed(
    server: OpenAIStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "hotcrm-ai.toml"
    config.write_text(
        '[providers.openai]\nendpoint = { env = "MY_OPENAI_ENDPOINT" }\n'
        'credentials = { api_key = { env = "MY_OPENAI_KEY" } }\nconfig = { model = "gpt-4o-mini" }\n\n'
        '[[models]]\nid = "sentiment-analysis-llm"\nname = "Sentiment"\ntype = "nlp"\nprovider = "openai"\n'
        'features = [{ name = "text", dtype = "string" }]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MY_OPENAI_KEY", KEY)
    settings = load_settings(config, env={})
    assert settings.providers["openai"].endpoint.env == "MY_OPENAI_ENDPOINT"  # type: ignore[union-attr]
    monkeypatch.setenv("MY_OPENAI_ENDPOINT", server.base_url)
    identity = settings.providers["openai"].identity()
    with AICloud(settings, plugins=[hotcrm_ai_openai], load_entrypoints=False, env={}) as ai:
        result = ai.predict("sentiment-analysis-llm", {"text": "Thanks, the onboarding was great"})
    assert result.ok and result.prediction["sentiment"] == "positive"
    assert len(server.requests_to(CHAT)) == 1  # the variable's URL was the one called
    shown = f"{settings.providers['openai']!r} {ai.registry.get('sentiment-analysis-llm')!r}"
    assert "MY_OPENAI_ENDPOINT" in shown and server.base_url not in shown
    monkeypatch.setenv("MY_OPENAI_ENDPOINT", server.base_url + "/other")
    assert settings.providers["openai"].identity() == identity  # by reference, like a credential
    monkeypatch.delenv("MY_OPENAI_ENDPOINT")
    with AICloud(settings, plugins=[hotcrm_ai_openai], load_entrypoints=False, env={}) as ai:
        with pytest.raises(PredictionError, match="environment variable MY_OPENAI_ENDPOINT is not set"):
            ai.predict("sentiment-analysis-llm", {"text": "good"})
