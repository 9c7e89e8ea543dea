"""An example hotcrm-ai plugin: a provider and a model, registered through the entry point.

The provider scores a deal's win probability with a fixed logistic model. Registration is cheap:
the hooks only build descriptors; the provider object is made on first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hotcrm_ai import (
    BaseMLProvider,
    FeatureSpec,
    HealthReport,
    ModelConfig,
    PredictionInput,
    PredictionOutput,
    ProviderConfig,
    ProviderSpec,
    hookimpl,
)

STAGE_WEIGHT = {"prospecting": -1.5, "qualification": -0.8, "proposal": 0.2, "negotiation": 1.1}


class ExampleLogitProvider(BaseMLProvider):
    """Win probability = sigmoid(stage weight + 0.08 * activities - 0.1 * log10(amount))."""

    name = "example-logit"

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.calls = 0

    def validate(self) -> bool:
        return True

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        self.calls += 1
        f = inp.features
        z = STAGE_WEIGHT[f["stage"]] + 0.08 * f["activities"] - 0.1 * math.log10(max(f["amount"], 1.0))
        p = 1.0 / (1.0 + math.exp(-z))
        return PredictionOutput(
            prediction={"win_probability": round(p, 6)},
            confidence=round(abs(p - 0.5) * 200, 3),
            metadata={"provider": self.name},
        )

    def health_check(self) -> HealthReport:
        return HealthReport(healthy=True, latency_ms=0.0)


@hookimpl
def register_providers(register: Callable[[Any], None]) -> None:
    register(
        ProviderSpec(name="example-logit", factory=ExampleLogitProvider, description="Example logistic deal scorer")
    )


@hookimpl
def register_models(register: Callable[[Any], None]) -> None:
    register(
        ModelConfig(
            id="deal-win-example-v1",
            name="Deal Win (example)",
            type="classification",
            provider="example-logit",
            description="Example plugin model: win probability of an open deal",
            features=(
                FeatureSpec(name="stage", dtype="string", choices=tuple(STAGE_WEIGHT)),
                FeatureSpec(name="amount", dtype="number", minimum=0),
                FeatureSpec(name="activities", dtype="integer", minimum=0),
            ),
            explain_output="win_probability",
            tags=("example",),
        )
    )


@hookimpl
def register_commands(cli: Any) -> None:
    import click

    @cli.command("example-stages")
    def example_stages() -> None:
        """List the deal stages the example model knows (added by the example plugin)."""
        for stage, weight in STAGE_WEIGHT.items():
            click.echo(f"{stage}\t{weight:+.1f}")
