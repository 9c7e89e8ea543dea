"""Two OpenAI models on the default endpoint, differing only in key or only in a config value, are
served by their own clients with their own settings (the real SDK against the stand-in)."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest
from support.openai_standin import CHAT, OpenAIStandIn

import hotcrm_ai_openai
from hotcrm_ai import AICloud, Settings
from hotcrm_ai.errors import PredictionError
from hotcrm_ai.types import FeatureSpec, ModelConfig, ProviderConfig

GOOD = "sk-identity-GOOD-0123456789abcdef"
WRONG = "sk-identity-WRONG-0123456789abcdef"
TEXT = {"text": "Excellent support, thank you"}


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(api_key=GOOD) as s:
        yield s


def model(model_id: str, server: OpenAIStandIn, key: str, chat_model: str = "gpt-4o-mini") -> ModelConfig:
    return ModelConfig(
        id=model_id,
        name=model_id,
        type="nlp",
        provider="openai",
        features=(FeatureSpec(name="text", dtype="string"),),
        cache_ttl_s=0,
        provider_config=ProviderConfig(
            provider="openai", endpoint=server.base_url, credentials={"api_key": key}, config={"model": chat_model}
        ),
    )


def cloud(*models: ModelConfig) -> AICloud:
    settings = Settings(models=models)
    return AICloud(settings, plugins=[hotcrm_ai_openai], load_entrypoints=False, env={})


def test_a_model_with_a_wrong_key_is_not_served_by_the_good_keys_client(server: OpenAIStandIn) -> None:
    server.reset()
    with cloud(model("good-v1", server, GOOD), model("wrong-v1", server, WRONG)) as ai:
        assert ai.predict("good-v1", TEXT).ok
        with pytest.raises(PredictionError, match="ProviderAuthError"):
            ai.predict("wrong-v1", TEXT)
        assert ai.predict("good-v1", TEXT).ok
        chats = [r for r in server.requests if r.path == CHAT]
        assert [r.bearer for r in chats] == [GOOD, WRONG, GOOD]
        assert ai.provider_for("good-v1") is not ai.provider_for("wrong-v1")


def test_models_differing_in_a_config_value_call_their_own_model(server: OpenAIStandIn) -> None:
    server.reset()
    mini, full = model("mini-v1", server, GOOD, "gpt-4o-mini"), model("full-v1", server, GOOD, "gpt-4")
    twin = attrs.evolve(mini, id="twin-v1", name="twin-v1")
    with cloud(mini, full, twin) as ai:
        assert ai.predict("mini-v1", TEXT).ok and ai.predict("full-v1", TEXT).ok
        chats = [r for r in server.requests if r.path == CHAT]
        assert [r.body["model"] for r in chats] == ["gpt-4o-mini", "gpt-4"]
        assert ai.provider_for("mini-v1") is not ai.provider_for("full-v1")
        assert ai.provider_for("mini-v1") is ai.provider_for("twin-v1")  # equal configs share one client
