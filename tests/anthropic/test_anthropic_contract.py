"""The core's provider contract suite, run against the Anthropic provider (the real SDK against the
Messages API stand-in)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.anthropic_standin import MESSAGES, AnthropicStandIn

from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.testing import ProviderContract
from hotcrm_ai.types import ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_anthropic.plugin import provider_spec

SECRET = "sk-ant-contract-PLANTED-0000111122223333"  # the wrong key: the stand-in echoes it in its 401
GOOD = "sk-ant-contract-good-9999888877776666"
MODEL = ModelConfig(id="sentiment-analysis-llm", name="Sentiment (LLM)", type="nlp", provider="anthropic")


@pytest.fixture(scope="module")
def server() -> Iterator[AnthropicStandIn]:
    with AnthropicStandIn(GOOD) as s:
        yield s


def _provider(server: AnthropicStandIn, key: str) -> BaseMLProvider:
    return provider_spec().factory(
        ProviderConfig(provider="anthropic", endpoint=server.base_url, credentials={"api_key": key})
    )


class TestAnthropicContract(ProviderContract):
    @pytest.fixture
    def planted_secret(self) -> str:
        return SECRET

    @pytest.fixture
    def provider(self, server: AnthropicStandIn) -> Iterator[BaseMLProvider]:
        server.reset()
        p = _provider(server, GOOD)
        yield p
        p.close()

    @pytest.fixture
    def unauthorized_provider(self, server: AnthropicStandIn) -> BaseMLProvider:
        return _provider(server, SECRET)

    @pytest.fixture
    def model(self) -> ModelConfig:
        return MODEL

    @pytest.fixture
    def inputs(self) -> list[PredictionInput]:
        texts = ("I love this product", "This is terrible and broken", "The invoice is attached")
        return [PredictionInput(features={"text": t}) for t in texts]

    @pytest.fixture
    def slow_model(self, server: AnthropicStandIn) -> tuple[BaseMLProvider, ModelConfig]:
        server.reset()
        server.delay_next(MESSAGES, 2.0)
        fast = ModelConfig(id="sentiment-analysis-fast", name="t", type="nlp", provider="anthropic", timeout_s=0.3)
        return _provider(server, GOOD), fast
