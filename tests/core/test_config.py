"""Configuration: TOML, env references, errors naming the key, embedded defaults."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from hotcrm_ai.config import Settings, StoreSettings, load_settings
from hotcrm_ai.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hotcrm-ai.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    # loaded settings keep state in the default store file; Settings() built in code stays per-process
    assert settings == attrs.evolve(Settings(), store=StoreSettings(url="default"))
    assert Settings().store.url.reveal() == "memory"
    assert settings.cache.backend == "memory" and settings.monitor.sinks == ("memory",)


def test_full_file_with_secret_references(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[cache]
backend = "redis"
url = {env = "HOTCRM_AI_REDIS_URL"}
default_ttl_s = 60

[monitor]
sinks = ["memory", "jsonl"]
[monitor.health]
error_rate_unhealthy = 20.0
[monitor.sink_options.jsonl]
path = "events.jsonl"

[providers.openai]
credentials = { api_key = { env = "OPENAI_API_KEY" } }
config = { model = "gpt-4o-mini", temperature = 0 }

[[models]]
id = "sentiment-analysis-llm"
name = "Sentiment (LLM)"
type = "nlp"
provider = "openai"
features = [{ name = "text", dtype = "string" }]
""",
    )
    s = load_settings(path, env={})
    assert s.source == str(path)
    assert s.cache.options == {"url": {"env": "HOTCRM_AI_REDIS_URL"}}
    assert s.monitor.health.error_rate_unhealthy == 20.0 and s.monitor.health.error_rate_degraded == 5.0
    assert s.providers["openai"].credentials["api_key"].env == "OPENAI_API_KEY"
    assert s.providers["openai"].config["temperature"] == 0
    assert s.models[0].features[0].dtype == "string"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cache]\ndefault_ttl_s = 'soon'\n", "default_ttl_s"),
        ("[monitor]\nsinks = 'memory'\nbogus = 1\n", "bogus"),
        ("[prediction]\nretries = 1.5\n", "retries"),
        ("[nonsense]\nx = 1\n", "unknown section 'nonsense'"),
        ("[[models]]\nid = 'm'\nname = 'M'\ntype = 'sorcery'\nprovider = 'x'\n", "type"),
        ("[[models]]\nname = 'M'\ntype = 'nlp'\nprovider = 'x'\n", "id"),
        ("[providers.openai]\ncredentials = { api_key = 42 }\n", "credentials"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text), env={})


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(env={"HOTCRM_AI_CONFIG": str(tmp_path / "nope.toml")})


def test_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(
        env={
            "HOTCRM_AI_CACHE_BACKEND": "redis",
            "HOTCRM_AI_REDIS_URL": "redis://x",
            "HOTCRM_AI_DATABASE_URL": "sqlite:///x.db",
            "HOTCRM_AI_REGISTRY_PATH": "r.json",
        }
    )
    assert s.cache.backend == "redis"
    assert s.cache.options["url"] == {"env": "HOTCRM_AI_REDIS_URL"}  # a reference: the URL may hold a password
    assert s.reporting.database_url is not None
    assert s.reporting.database_url.reveal() == "sqlite:///x.db" and s.registry.path == "r.json"


def test_server_table_is_kept_for_the_server_distribution() -> None:
    from hotcrm_ai.config import settings_from_dict

    table = {"max_rows": 10, "api_keys": [{"key": {"env": "K"}, "tenant": "acme"}]}
    assert settings_from_dict({"server": table}).server == table
    with pytest.raises(ConfigError, match=r"\[server\]"):
        settings_from_dict({"server": 3})
