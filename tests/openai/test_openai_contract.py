"""The core's provider contract suite, run against the OpenAI provider for a chat model and an
embedding model (the real SDK against the stand-in server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.openai_standin import CHAT, EMBEDDINGS, OpenAIStandIn

from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.testing import ProviderContract
from hotcrm_ai.types import ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_openai.plugin import provider_spec

SECRET = "sk-contract-PLANTED-0000111122223333aaaa"  # the wrong key: the server echoes it in its 401 message
GOOD = "sk-contract-good-key-9999888877776666"


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(api_key=GOOD) as s:
        yield s


def _provider(server: OpenAIStandIn, key: str) -> BaseMLProvider:
    return provider_spec().factory(
        ProviderConfig(
            provider="openai", endpoint=server.base_url, credentials={"api_key": key}, config={"model": "gpt-4o-mini"}
        )
    )


class _Fixtures:
    model_config: ModelConfig
    texts: tuple[str, ...]
    path: str

    @pytest.fixture
    def planted_secret(self) -> str:
        return SECRET

    @pytest.fixture
    def provider(self, server: OpenAIStandIn) -> Iterator[BaseMLProvider]:
        server.reset()
        p = _provider(server, GOOD)
        yield p
        p.close()

    @pytest.fixture
    def unauthorized_provider(self, server: OpenAIStandIn) -> BaseMLProvider:
        # the stand-in echoes the presented key in its 401 message: the provider must redact it
        return _provider(server, SECRET)

    @pytest.fixture
    def model(self) -> ModelConfig:
        return self.model_config

    @pytest.fixture
    def inputs(self) -> list[PredictionInput]:
        return [PredictionInput(features={"text": t}) for t in self.texts]

    @pytest.fixture
    def slow_model(self, server: OpenAIStandIn) -> tuple[BaseMLProvider, ModelConfig]:
        server.reset()
        server.delay_next(self.path, 2.0)
        fast = ModelConfig(
            id=f"{self.model_config.id}-fast",
            name="t",
            type=self.model_config.type,
            provider="openai",
            parameters=self.model_config.parameters,
            timeout_s=0.3,
        )
        return _provider(server, GOOD), fast


class TestOpenAIChatContract(_Fixtures, ProviderContract):
    model_config = ModelConfig(id="sentiment-analysis-llm", name="Sentiment (LLM)", type="nlp", provider="openai")
    texts = ("I love this product", "This is terrible and broken", "The invoice is attached")
    path = CHAT


class TestOpenAIEmbeddingContract(_Fixtures, ProviderContract):
    model_config = ModelConfig(id="crm-embeddings", name="Embeddings", type="embedding", provider="openai")
    texts = ("renewal pricing question", "password reset does not work", "invoice address change")
    path = EMBEDDINGS
