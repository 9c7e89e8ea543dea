"""The documented examples in docs/providers/anthropic.md work as written: the provider's TOML block, and
the translator's ``[reporting]`` block on a model served by Anthropic."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from support.anthropic_standin import MESSAGES, AnthropicStandIn
from support.llm_translator_cases import GOOD, answer
from support.reporting import make_demo_sqlite

import hotcrm_ai_anthropic.plugin
from hotcrm_ai import AICloud
from hotcrm_ai.config import load_settings, settings_from_dict

DOCS = Path(__file__).resolve().parents[2] / "docs" / "providers" / "anthropic.md"
KEY = "sk-ant-docs-0123456789abcdef"


def _blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def test_the_documented_provider_example_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "hotcrm-ai.toml"
    config.write_text(_blocks()[0], encoding="utf-8")
    with AnthropicStandIn(KEY) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        settings = load_settings(config, env={})
        with AICloud(settings, plugins=[hotcrm_ai_anthropic.plugin], load_entrypoints=False, env={}) as ai:
            result = ai.predict("sentiment-analysis-llm", {"text": "Thanks, the onboarding was great"})
            assert result.prediction["sentiment"] == "positive" and result.metadata["usage"]["cost_usd"] > 0
        (request,) = server.requests_to(MESSAGES)
    assert request.key == KEY  # {env = "ANTHROPIC_API_KEY"} resolved at request time
    assert request.body["temperature"] == 0 and request.body["max_tokens"] == 512
    assert request.body["model"] == "claude-haiku-4-5"


def test_the_documented_translator_example_works(tmp_path: Path) -> None:
    demo = make_demo_sqlite(tmp_path)
    with AnthropicStandIn(KEY) as server:
        doc = tomllib.loads(_blocks()[1])
        doc["reporting"]["database_url"] = f"sqlite:///{demo}"
        doc["providers"] = {"anthropic": {"endpoint": server.base_url, "credentials": {"api_key": KEY}}}
        settings = settings_from_dict(doc)
        server.on_message(lambda body: answer(GOOD))
        with AICloud(settings, plugins=[hotcrm_ai_anthropic.plugin], load_entrypoints=False, env={}) as ai:
            result = ai.ask("Revenue by industry in EMEA in 2025", now="2026-11-25")
        assert result.understood and result.rows and result.translator == "llm"
        (request,) = server.requests_to(MESSAGES)
    assert request.body["max_tokens"] == 2048 and request.body["system"][0]["cache_control"]["type"] == "ephemeral"
