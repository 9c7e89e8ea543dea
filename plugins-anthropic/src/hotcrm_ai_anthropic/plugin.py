"""Registers the ``anthropic`` provider: a descriptor whose factory builds ``AnthropicProvider``.

Registration runs at every start of every program using hotcrm-ai, so this module imports nothing but
the spec class (the declared options load with ``provider_spec``, which commands such as
``hotcrm-ai --help`` never call); the provider module and the ``anthropic`` SDK load when the
factory is first called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hotcrm_ai import hookimpl
from hotcrm_ai.descriptors import ProviderSpec

if TYPE_CHECKING:
    from hotcrm_ai.types import ProviderConfig
    from hotcrm_ai_anthropic.provider import AnthropicProvider

NAME = "anthropic"


def build(config: ProviderConfig) -> AnthropicProvider:
    """The factory: ``AnthropicProvider(config)``; ``ConfigError`` naming the key when the config is wrong."""
    from hotcrm_ai_anthropic.provider import AnthropicProvider

    return AnthropicProvider(config)


def provider_spec() -> ProviderSpec:
    from hotcrm_ai_anthropic.options import AnthropicConfig, AnthropicModelOptions

    return ProviderSpec(
        name=NAME,
        factory=build,
        description="Anthropic Messages API: structured answers through a forced tool call, generation",
        options=AnthropicConfig,
        model_options=AnthropicModelOptions,
    )


@hookimpl
def register_providers(register: Callable[[ProviderSpec], None]) -> None:
    register(provider_spec())
