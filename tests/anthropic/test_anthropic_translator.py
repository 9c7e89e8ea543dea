"""The core's ``llm`` translator on a model served by the Anthropic provider: the real SDK against the
Messages API stand-in, the shared translator cases (the same AST validation as through OpenAI), and
what is Anthropic-specific: the AST schema as the forced tool's input schema, and the catalogue's long
system prompt marked with ``cache_control`` so later questions read it from the prompt cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.anthropic_standin import MESSAGES, AnthropicStandIn
from support.llm_translator_cases import GOOD, MODEL_ID, NOW, LLMTranslatorCases, Wire, answer
from support.reporting import make_demo_sqlite

import hotcrm_ai_anthropic.plugin
from hotcrm_ai import AICloud, Settings
from hotcrm_ai.config import ReportingSettings
from hotcrm_ai.errors import ReportingError
from hotcrm_ai.types import ModelConfig, ProviderConfig

KEY = "sk-ant-translator-0123456789abcdef"


class AnthropicWire(Wire):
    def __init__(self, server: AnthropicStandIn) -> None:
        self.server = server

    def script(self, fn: Any) -> None:
        self.server.on_message(fn)

    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.server.requests_to(MESSAGES)]

    def system_text(self, body: dict[str, Any]) -> str:
        return " ".join(block["text"] for block in body["system"])

    def user_text(self, body: dict[str, Any]) -> str:
        return str(body["messages"][-1]["content"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_sqlite(tmp_path_factory.mktemp("llm-translator-anthropic"))


@pytest.fixture(scope="module")
def server() -> Iterator[AnthropicStandIn]:
    with AnthropicStandIn(KEY) as s:
        yield s


def make_ai(server: AnthropicStandIn, demo: Path, key: str = KEY) -> AICloud:
    model = ModelConfig(
        id=MODEL_ID, name="Report translator", type="nlp", provider="anthropic", parameters={"max_tokens": 2048}
    )
    settings = Settings(
        providers={
            "anthropic": ProviderConfig(
                provider="anthropic",
                endpoint=server.base_url,
                credentials={"api_key": key},
                config={"prices": {"claude-haiku-4-5": {"input": 0.001, "output": 0.005}}},
            )
        },
        models=(model,),
        reporting=ReportingSettings(
            database_url=f"sqlite:///{demo}", translator="llm", options={"llm_model": MODEL_ID}
        ),
    )
    return AICloud(settings, plugins=[hotcrm_ai_anthropic.plugin], load_entrypoints=False, env={})


@pytest.fixture
def ai(server: AnthropicStandIn, demo: Path) -> Iterator[AICloud]:
    server.reset()
    with make_ai(server, demo) as instance:
        yield instance


@pytest.fixture
def wire(server: AnthropicStandIn) -> Wire:
    return AnthropicWire(server)


class TestTranslatorThroughAnthropic(LLMTranslatorCases):
    pass


def test_the_ast_schema_is_the_forced_tools_input_schema(ai: AICloud, server: AnthropicStandIn) -> None:
    from hotcrm_ai.reporting.ast import query_json_schema

    server.on_message(lambda body: answer(GOOD))
    assert ai.reporting.ask("Revenue by industry in EMEA in 2025", now=NOW).understood
    body = server.requests_to(MESSAGES)[-1].body
    (tool,) = body["tools"]
    assert body["tool_choice"] == {"type": "tool", "name": tool["name"]}
    sent = tool["input_schema"]["properties"]["query"]["anyOf"][0]
    assert set(sent["properties"]) == set(query_json_schema()["properties"])


def test_the_catalogue_prompt_is_cached_and_cache_tokens_show_in_usage(ai: AICloud, server: AnthropicStandIn) -> None:
    server.on_message(lambda body: answer(GOOD))
    for question in ("Revenue by industry in EMEA in 2025", "And revenue by industry in EMEA, again"):
        assert ai.reporting.ask(question, now=NOW).understood
    first, second = (r.body for r in server.requests_to(MESSAGES))
    assert first["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert first["system"] == second["system"]  # the question and today's date are not in it
    usage = ai.stats(MODEL_ID).usage
    assert usage["cache_creation_input_tokens"] > 1024  # the first call wrote the catalogue to the cache
    assert usage["cache_read_input_tokens"] == usage["cache_creation_input_tokens"]  # the second read it back
    assert usage["cost_usd"] > 0


def test_provider_errors_are_typed_and_never_show_the_key(server: AnthropicStandIn, demo: Path) -> None:
    server.reset()
    with make_ai(server, demo, key="sk-ant-wrong-abcdef0123456789") as ai:
        with pytest.raises(ReportingError) as info:
            ai.reporting.ask("revenue", now=NOW)
    assert "401" in str(info.value) and "abcdef0123456789" not in str(info.value)
    assert len(server.requests_to(MESSAGES)) == 1
