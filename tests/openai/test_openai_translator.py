"""The core's ``llm`` translator on a model served by the OpenAI provider: the real SDK against the
local stand-in, the shared translator cases, and what is OpenAI-specific on the wire (a strict
``json_schema`` response format generated from the AST module)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.llm_translator_cases import GOOD, MODEL_ID, NOW, LLMTranslatorCases, Wire, answer
from support.openai_standin import CHAT, OpenAIStandIn
from support.reporting import make_demo_sqlite

import hotcrm_ai_openai
from hotcrm_ai import AICloud, Settings
from hotcrm_ai.config import ReportingSettings
from hotcrm_ai.errors import ConfigError, ReportingError
from hotcrm_ai.types import ModelConfig, ProviderConfig

KEY = "sk-test-llm-translator-0123456789"


class OpenAIWire(Wire):
    def __init__(self, server: OpenAIStandIn) -> None:
        self.server = server

    def script(self, fn: Any) -> None:
        self.server.on_chat(lambda body: json.dumps(fn(body)))

    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.server.requests_to(CHAT)]

    def system_text(self, body: dict[str, Any]) -> str:
        return str(body["messages"][0]["content"])

    def user_text(self, body: dict[str, Any]) -> str:
        return str(body["messages"][-1]["content"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_sqlite(tmp_path_factory.mktemp("llm-translator-openai"))


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(api_key=KEY) as s:
        yield s


def make_ai(server: OpenAIStandIn, demo: Path, key: str = KEY, **reporting: Any) -> AICloud:
    model = ModelConfig(id=MODEL_ID, name="Report translator", type="nlp", provider="openai")
    settings = Settings(
        providers={
            "openai": ProviderConfig(
                provider="openai",
                endpoint=server.base_url,
                credentials={"api_key": key},
                config={"model": "gpt-4o-mini"},
            )
        },
        models=(model,),
        reporting=ReportingSettings(
            database_url=f"sqlite:///{demo}",
            translator="llm",
            options={"llm_model": MODEL_ID, **reporting},
        ),
    )
    return AICloud(settings, plugins=[hotcrm_ai_openai], load_entrypoints=False, env={})


@pytest.fixture
def ai(server: OpenAIStandIn, demo: Path) -> Iterator[AICloud]:
    server.reset()
    with make_ai(server, demo) as instance:
        yield instance


@pytest.fixture
def wire(server: OpenAIStandIn) -> Wire:
    return OpenAIWire(server)


class TestTranslatorThroughOpenAI(LLMTranslatorCases):
    pass


def test_the_wire_carries_a_strict_schema_from_the_ast(ai: AICloud, server: OpenAIStandIn) -> None:
    from hotcrm_ai.reporting.ast import query_json_schema

    server.on_chat(lambda body: json.dumps(answer(GOOD)))
    assert ai.reporting.ask("Revenue by industry in EMEA in 2025", now=NOW).understood
    rf = server.requests_to(CHAT)[-1].body["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
    sent = rf["json_schema"]["schema"]["properties"]["query"]["anyOf"][0]
    assert set(sent["properties"]) == set(query_json_schema()["properties"])
    assert sent["properties"]["object"] == {"type": "string"}


def test_errors_are_typed_and_never_show_the_key(server: OpenAIStandIn, demo: Path) -> None:
    server.reset()
    wrong = "sk-wrong-key-abcdef0123456789"
    with make_ai(server, demo, key=wrong) as ai:
        with pytest.raises(ReportingError) as info:
            ai.reporting.ask("revenue", now=NOW)
    assert "401" in str(info.value) and "abcdef0123456789" not in str(info.value)
    with pytest.raises(ConfigError, match="'llm_base_url' is no longer read; use `llm_model`"):
        make_ai(server, demo, llm_base_url="http://x")
    with pytest.raises(ConfigError, match=r"\[reporting\]: llm_model: expected the id of a registered model"):
        make_ai(server, demo, llm_model="")


def test_cached_prompt_tokens_show_in_usage(ai: AICloud, server: OpenAIStandIn) -> None:
    def reply(body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "chatcmpl-cached",
            "object": "chat.completion",
            "created": 1700000000,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(answer(GOOD)), "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": 3000,
                "completion_tokens": 90,
                "total_tokens": 3090,
                "prompt_tokens_details": {"cached_tokens": 2816},
            },
        }

    server.on_chat(reply)
    assert ai.reporting.ask("Revenue by industry in EMEA in 2025", now=NOW).understood
    usage = ai.stats(MODEL_ID).usage
    assert usage["cached_tokens"] == 2816 and usage["prompt_tokens"] == 3000
