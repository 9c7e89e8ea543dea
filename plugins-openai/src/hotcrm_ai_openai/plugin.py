"""Registration of the ``openai`` provider: a descriptor whose factory builds ``OpenAIProvider``.

Registration runs at every start of every program using hotcrm-ai, so this module imports nothing but
the spec class and the declared options; the provider (``provider``), its helpers and the ``openai``
SDK (about 1.2 s) load when the factory is first called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotcrm_ai.descriptors import ProviderSpec

if TYPE_CHECKING:
    from hotcrm_ai.types import ProviderConfig
    from hotcrm_ai_openai.provider import OpenAIProvider

NAME = "openai"


def build(config: ProviderConfig) -> OpenAIProvider:
    """The factory: ``OpenAIProvider(config)``; ``ConfigError`` naming the key when the config is wrong."""
    from hotcrm_ai_openai.provider import OpenAIProvider

    return OpenAIProvider(config)


def provider_spec() -> ProviderSpec:
    from hotcrm_ai_openai.options import OpenAIConfig, OpenAIModelOptions

    return ProviderSpec(
        name=NAME,
        factory=build,
        options=OpenAIConfig,
        model_options=OpenAIModelOptions,
        description="OpenAI (or any OpenAI-compatible server): structured chat answers, embeddings, generation",
    )
