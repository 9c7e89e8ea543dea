"""hotcrm-ai-sagemaker: the provider plugin. The SDK is imported by the factory, on first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotcrm_ai import hookimpl


@hookimpl
def register_providers(register: Callable[[Any], None]) -> None:
    from hotcrm_ai_sagemaker.provider import provider_spec

    register(provider_spec())
