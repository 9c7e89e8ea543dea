"""Registration of the ``openai`` provider: a descriptor whose factory builds ``OpenAIProvider``.

Registration runs at every start of every program using hotcrm-ai, so this module imports nothing but
the spec class; the provider (``openai_provider``), its helpers and the ``openai`` SDK (about 1.2 s)
load when the factory is first called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hotcrm_ai.descriptors import ProviderSpec

if TYPE_CHECKING:
    from hotcrm_ai.types import ProviderConfig
    from hotcrm_ai_openai.openai_provider import OpenAIProvider

NAME = "openai"


def build(config: ProviderConfig) -> OpenAIProvider:
    """The factory: ``OpenAIProvider(config)``; ``ConfigError`` naming the key when the config is wrong."""
    from hotcrm_ai_openai.openai_provider import OpenAIProvider

    return OpenAIProvider(config)


def provider_spec() -> ProviderSpec:
    return ProviderSpec(
        name=NAME,
        factory=build,
        description="OpenAI (or any OpenAI-compatible server): structured chat answers, embeddings, generation",
    )


def __getattr__(name: str) -> Any:  # ``from hotcrm_ai_openai.provider import OpenAIProvider`` stays lazy
    if name == "OpenAIProvider":
        from hotcrm_ai_openai.openai_provider import OpenAIProvider

        return OpenAIProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
