"""A provider's declared options are what the core reads of it after start: ``concurrency()`` takes
``max_concurrency`` from them (structured and checked), never from the raw ``config`` table."""

from __future__ import annotations

import threading
from collections.abc import Callable

import attrs
import pytest
from support.providers import LogitProvider, logit_model

from hotcrm_ai import (
    AICloud,
    BaseMLProvider,
    ModelConfig,
    PredictionInput,
    PredictionOutput,
    ProviderConfig,
    ProviderSpec,
    hookimpl,
)
from hotcrm_ai.config import settings_from_dict
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.options import at_least, parse_options

ROW = {"x1": 1.0, "x2": 2.0, "x3": 3.0}


@attrs.frozen
class PacedOptions:
    max_concurrency: int | None = attrs.field(default=None, validator=at_least(1))
    delay_s: float = 0.05


class _Paced(LogitProvider):
    """Slow single calls without a batch of its own (the base class's pool), counting calls in flight."""

    native_batch = False
    batch_predict = BaseMLProvider.batch_predict

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.in_flight = self.peak = 0
        self._count = threading.Lock()

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        with self._count:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            return super().predict(model, inp)
        finally:
            with self._count:
                self.in_flight -= 1


class PacedProvider(_Paced):
    name = "paced"

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.options = parse_options(PacedOptions, config.config, section="providers.paced.config")
        self.delay_s = self.options.delay_s


class Undeclared(_Paced):
    """Declares no options: its raw ``config`` is not the core's to read."""

    name = "undeclared"


class Specs:
    __name__ = "paced-plugin"

    def __init__(self, provider: str) -> None:
        self.provider = provider

    @hookimpl
    def register_providers(self, register: Callable[[ProviderSpec], None]) -> None:
        register(ProviderSpec("paced", PacedProvider, options=PacedOptions))
        register(ProviderSpec("undeclared", Undeclared))

    @hookimpl
    def register_models(self, register: Callable[[ModelConfig], None]) -> None:
        register(logit_model("m", provider=self.provider))


def _cloud(provider: str, config: dict[str, object]) -> AICloud:
    settings = settings_from_dict({"providers": {provider: {"config": config}}})
    return AICloud(settings, plugins=[Specs(provider)], load_entrypoints=False, env={})


def _peak(ai: AICloud, rows: int) -> tuple[int, int]:
    model = ai.registry.get("m")
    provider = ai.provider_for(model)
    answers = provider.batch_predict(model, [PredictionInput(features=ROW)] * rows)
    assert len(answers) == rows and answers[0].prediction == answers[-1].prediction
    return provider.concurrency(), provider.peak  # type: ignore[attr-defined]


def test_concurrency_comes_from_the_declared_options() -> None:
    with _cloud("paced", {"max_concurrency": 3, "delay_s": 0.05}) as ai:
        assert _peak(ai, 12) == (3, 3)
    with _cloud("paced", {"delay_s": 0.02}) as ai:  # declared but not set: the class default
        assert _peak(ai, 12)[0] == PacedProvider.default_concurrency


def test_a_bad_max_concurrency_stops_the_start_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"max_concurrency: expected an integer >= 1, got 0"):
        _cloud("paced", {"max_concurrency": 0})
    with pytest.raises(ConfigError, match=r"max_concurrency: expected an integer, got str"):
        _cloud("paced", {"max_concurrency": "3"})
    with pytest.raises(ConfigError, match=r"unknown key 'max_concurency'; did you mean `max_concurrency`\?"):
        _cloud("paced", {"max_concurency": 3})


def test_a_provider_declaring_no_options_gets_the_default_whatever_its_raw_config_says() -> None:
    with _cloud("undeclared", {"max_concurrency": 2}) as ai:
        model = ai.registry.get("m")
        provider = ai.provider_for(model)
        assert provider.config.config == {"max_concurrency": 2}
        assert provider.concurrency() == Undeclared.default_concurrency == 8
