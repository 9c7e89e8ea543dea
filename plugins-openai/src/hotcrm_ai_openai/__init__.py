"""hotcrm-ai-openai: the OpenAI provider (and the LLM query translator). The SDK loads on first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotcrm_ai import hookimpl


@hookimpl
def register_providers(register: Callable[[Any], None]) -> None:
    from hotcrm_ai_openai.plugin import provider_spec

    register(provider_spec())


@hookimpl
def register_query_translators(register: Callable[[Any], None]) -> None:
    from hotcrm_ai_openai.translator import translator_spec

    register(translator_spec())
