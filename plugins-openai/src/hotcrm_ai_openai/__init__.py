"""hotcrm-ai-openai: the OpenAI provider. The SDK loads on first use. (The ``llm`` query translator is
in the core and talks to any registered model through ``complete_structured``.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotcrm_ai import hookimpl


@hookimpl
def register_providers(register: Callable[[Any], None]) -> None:
    from hotcrm_ai_openai.plugin import provider_spec

    register(provider_spec())
