"""Shared helpers for the models tests: the shipped models, a provider, and a user-defined runner."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from hotcrm_ai.types import ModelConfig, PredictionInput, PredictionOutput, ProviderConfig
from hotcrm_ai_plugins.custom import CustomProvider
from hotcrm_ai_plugins.models import ARTIFACTS, default_models

# ../shared/data beside the checkout (as in CI and on developers' machines); HOTCRM_AI_DATA overrides
DATA = Path(os.environ.get("HOTCRM_AI_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data")


def models() -> dict[str, ModelConfig]:
    return {m.id: m for m in default_models()}


def provider() -> CustomProvider:
    return CustomProvider(ProviderConfig("custom"))


def metrics_json() -> dict[str, Any]:
    return json.loads((ARTIFACTS / "metrics.json").read_text())


def predict(p: CustomProvider, model: ModelConfig, features: Mapping[str, Any]) -> PredictionOutput:
    return p.predict(model, PredictionInput(dict(features)))


def batch(p: CustomProvider, model: ModelConfig, rows: Sequence[Mapping[str, Any]]) -> list[PredictionOutput]:
    return p.batch_predict(model, [PredictionInput(dict(r)) for r in rows])


class EchoLengthRunner:
    """A user's own in-process model: scores the length of ``text`` (used through 'module:Class')."""

    def __init__(self, artifact_dir: Path, parameters: Mapping[str, Any]) -> None:
        self.scale = float(parameters.get("scale", 1.0))
        self.calls = 0

    def predict_batch(self, rows: Sequence[Mapping[str, Any]]) -> list[PredictionOutput]:
        self.calls += 1
        return [
            PredictionOutput(
                prediction={"value": len(r["text"]) * self.scale}, confidence=min(100.0, float(len(r["text"])))
            )
            for r in rows
        ]

    def describe(self) -> dict[str, Any]:
        return {"scale": self.scale}


@attrs.frozen
class ScaledEchoOptions:
    """What ``ScaledEchoRunner`` reads from a model's ``parameters``."""

    runner: str
    artifact: str = ""
    artifact_dir: str | None = None
    scale: float = 1.0


class ScaledEchoRunner(EchoLengthRunner):
    """A user's runner that declares its parameters: it is built on the structured options."""

    Options = ScaledEchoOptions

    def __init__(self, artifact_dir: Path, parameters: ScaledEchoOptions) -> None:
        assert isinstance(parameters, ScaledEchoOptions), type(parameters)
        self.scale = parameters.scale
        self.calls = 0
