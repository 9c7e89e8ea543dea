"""Provider identity: one instance (and one breaker) per distinct whole provider configuration.

The provider here is a third-party one, registered through a plugin's ``register_providers`` hook.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.providers import LogitProvider, Plugin, logit_model, score

from hotcrm_ai import AICloud, ProviderConfig
from hotcrm_ai.config import Settings
from hotcrm_ai.secrets import Secret

ROW = {"x1": 1.0, "x2": 2.0, "x3": 3.0}


class KeyedProvider(LogitProvider):
    """Answers with its own bias and remembers which key it was built with (to prove which served)."""

    name = "third-party"

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        secret = config.credentials.get("api_key")
        self.key = secret.reveal() if secret is not None else None


def cloud(*models: Any) -> tuple[AICloud, Plugin]:
    plugin = Plugin({"third-party": KeyedProvider}, models)
    return AICloud(Settings(), plugins=[plugin], load_entrypoints=False), plugin


def model(model_id: str, **config: Any) -> Any:
    config_ = ProviderConfig(provider="third-party", **config)
    return logit_model(model_id, provider="third-party", provider_config=config_)


def test_models_differing_only_in_key_get_their_own_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THIRD_KEY_B", "key-bbbb")
    ai, plugin = cloud(
        model("a-v1", credentials={"api_key": "key-aaaa"}),
        model("b-v1", credentials={"api_key": {"env": "THIRD_KEY_B"}}),
        model("c-v1", credentials={"api_key": "key-cccc"}),
    )
    providers = {m: ai.provider_for(m) for m in ("a-v1", "b-v1", "c-v1")}
    assert {m: p.key for m, p in providers.items()} == {"a-v1": "key-aaaa", "b-v1": "key-bbbb", "c-v1": "key-cccc"}  # type: ignore[attr-defined]
    assert len(plugin.instances) == 3 and len(ai.providers.breakers()) == 3
    for m in providers:
        ai.predict(m, ROW, use_cache=False)
    assert [p.calls for p in providers.values()] == [1, 1, 1]  # type: ignore[attr-defined]


def test_models_differing_only_in_a_config_value_get_their_own_settings() -> None:
    ai, plugin = cloud(model("low-v1", config={"bias": -1.0}), model("high-v1", config={"bias": 2.0}))
    low = ai.predict("low-v1", ROW).prediction["probability"]
    high = ai.predict("high-v1", ROW).prediction["probability"]
    assert low == pytest.approx(score([ROW], -1.0)[0]) and high == pytest.approx(score([ROW], 2.0)[0])
    assert len(plugin.instances) == 2


def test_equal_configs_share_one_instance_and_breaker() -> None:
    ai, plugin = cloud(
        model("a-v1", credentials={"api_key": "key-same"}, config={"bias": 1.0, "nested": {"a": 1, "b": [1, 2]}}),
        model("b-v1", credentials={"api_key": "key-same"}, config={"nested": {"b": [1, 2], "a": 1}, "bias": 1.0}),
    )
    assert ai.provider_for("a-v1") is ai.provider_for("b-v1")
    assert len(plugin.instances) == 1 and len(ai.providers.breakers()) == 1


def test_identity_is_by_value_and_never_shows_a_secret() -> None:
    a = ProviderConfig(provider="p", endpoint="http://x", credentials={"k": Secret("topsecret-1")}, config={"m": 1})
    b = ProviderConfig(provider="p", endpoint="http://x", credentials={"k": Secret("topsecret-1")}, config={"m": 1})
    assert a.identity() == b.identity()
    assert "topsecret" not in a.identity()
    changed = [
        ProviderConfig(provider="p", endpoint="http://y", credentials={"k": Secret("topsecret-1")}, config={"m": 1}),
        ProviderConfig(provider="p", endpoint="http://x", credentials={"k": Secret("topsecret-2")}, config={"m": 1}),
        ProviderConfig(provider="p", endpoint="http://x", credentials={"k": Secret(env="K")}, config={"m": 1}),
        ProviderConfig(provider="p", endpoint="http://x", credentials={"k": Secret("topsecret-1")}, config={"m": 2}),
        ProviderConfig(provider="q", endpoint="http://x", credentials={"k": Secret("topsecret-1")}, config={"m": 1}),
    ]
    assert len({c.identity() for c in changed} | {a.identity()}) == 6
