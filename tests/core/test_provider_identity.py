"""Provider identity: one instance (and one breaker) per distinct whole provider configuration.

The provider here is a third-party one, registered through a plugin's ``register_providers`` hook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.providers import LogitProvider, Plugin, logit_model, score

from hotcrm_ai import AICloud, ProviderConfig
from hotcrm_ai.config import Settings, settings_from_dict
from hotcrm_ai.errors import ConfigError, RegistryError
from hotcrm_ai.registry import ModelRegistry
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


class EndpointProvider(KeyedProvider):
    """Remembers the endpoint it was built for (read when built, as real providers do)."""

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.url = config.endpoint_value()


def test_an_endpoint_as_an_env_reference_from_the_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {
        "providers": {"third-party": {"endpoint": {"env": "THIRD_URL"}}},
        "models": [
            {"id": "env-v1", "name": "e", "type": "classification", "provider": "third-party"},
            {
                "id": "other-v1",
                "name": "o",
                "type": "classification",
                "provider": "third-party",
                "provider_config": {"provider": "third-party", "endpoint": {"env": "OTHER_URL"}},
            },
        ],
    }
    settings = settings_from_dict(doc)
    config = settings.providers["third-party"]
    assert config.endpoint == Secret(env="THIRD_URL")
    monkeypatch.setenv("THIRD_URL", "https://scorer.example/score?code=planted-token-1")
    monkeypatch.setenv("OTHER_URL", "https://scorer.example/score?code=planted-token-2")
    assert config.endpoint_value() == "https://scorer.example/score?code=planted-token-1"  # read now
    plugin = Plugin({"third-party": EndpointProvider})
    with AICloud(settings, plugins=[plugin], load_entrypoints=False, env={}) as ai:
        env, other = ai.provider_for("env-v1"), ai.provider_for("other-v1")
        assert env.url.endswith("planted-token-1") and other.url.endswith("planted-token-2")  # type: ignore[attr-defined]
        shown = f"{config!r} {env!r} {other!r} {ai.registry.get('other-v1')!r}"
    assert "THIRD_URL" in shown and "OTHER_URL" in shown and "planted" not in shown
    monkeypatch.delenv("THIRD_URL")
    with pytest.raises(ConfigError, match="environment variable THIRD_URL is not set") as info:
        config.endpoint_value()
    assert "planted" not in str(info.value)


def test_an_endpoint_reference_takes_part_in_the_identity_by_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    by_ref = ProviderConfig(provider="p", endpoint={"env": "EP_A"})
    monkeypatch.setenv("EP_A", "http://one")
    first = by_ref.identity()
    monkeypatch.setenv("EP_A", "http://two")  # rotating the value is not another configuration
    assert by_ref.identity() == first == ProviderConfig(provider="p", endpoint=Secret(env="EP_A")).identity()
    others = {
        ProviderConfig(provider="p", endpoint={"env": "EP_B"}).identity(),
        ProviderConfig(provider="p", endpoint="http://two").identity(),
        ProviderConfig(provider="p").identity(),
    }
    assert len(others | {first}) == 4


@pytest.mark.parametrize("bad", [5, {"env": 3}, {"env": "X", "default": "y"}, ["http://x"]])
def test_an_endpoint_of_another_type_names_the_key(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"\[providers\.third-party\]: endpoint: expected a string or \{env"):
        settings_from_dict({"providers": {"third-party": {"endpoint": bad}}})


def test_the_registry_file_keeps_an_endpoint_reference_and_refuses_a_literal_secret(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    registry = ModelRegistry(str(path))
    registry.register(model("ref-v1", endpoint={"env": "THIRD_URL"}))
    reloaded = ModelRegistry(str(path)).get("ref-v1").provider_config
    assert reloaded is not None and reloaded.endpoint == Secret(env="THIRD_URL")
    assert "THIRD_URL" in path.read_text()
    with pytest.raises(RegistryError, match=r"provider_config\.endpoint hold literal secrets"):
        registry.register(model("lit-v1", endpoint=Secret("https://x/score?code=planted")))
    assert "planted" not in path.read_text()
