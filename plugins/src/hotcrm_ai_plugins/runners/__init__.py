"""In-process model runners served by the ``custom`` provider.

A runner turns a batch of feature rows into ``PredictionOutput`` objects in ONE vectorised call; the
provider's ``predict`` is a batch of one. Built-in runners are named here; a user's own runner is
published by an installed package in the ``hotcrm_ai.runners`` entry-point group and named in
``ModelConfig.parameters['runner']`` (see ``docs/models/README.md``). Configuration is data: it can only
pick among installed runners by name, never name a module to import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import LinearModel
    from hotcrm_ai.types import PredictionOutput

RUNNER_GROUP = "hotcrm_ai.runners"

BUILTIN_RUNNERS: dict[str, str] = {
    "lead_scoring": "hotcrm_ai_plugins.runners.tabular:LeadScoringRunner",
    "churn": "hotcrm_ai_plugins.runners.tabular:ChurnRunner",
    "sentiment": "hotcrm_ai_plugins.runners.sentiment:SentimentRunner",
    "forecast": "hotcrm_ai_plugins.runners.forecast:ForecastRunner",
    "recommendation": "hotcrm_ai_plugins.runners.recommend:RecommendationRunner",
}


@runtime_checkable
class Runner(Protocol):
    """What the custom provider needs from an in-process model.

    Constructed as ``Runner(artifact_dir: Path, parameters: Mapping)`` once per provider instance and
    model (then cached). ``predict_batch`` must validate its rows itself and raise
    ``hotcrm_ai.errors.ValidationError`` naming the field (prefixed ``rows[i].`` in batches).
    """

    def predict_batch(self, rows: Sequence[Mapping[str, Any]]) -> list[PredictionOutput]: ...

    def describe(self) -> dict[str, Any]:
        """A few facts for health checks (artifact names, sizes, vocabulary size...)."""


def linear_model_of(runner: Any) -> LinearModel | None:
    """The runner's ``LinearModel`` when it has one (lead, churn), else None."""
    method = getattr(runner, "linear_model", None)
    return method() if callable(method) else None


def installed_runners() -> dict[str, metadata.EntryPoint]:
    """Every runner a configuration may name: the built-ins, then those installed packages publish
    (a built-in name cannot be taken over by a package)."""
    found = {ep.name: ep for ep in metadata.entry_points(group=RUNNER_GROUP)}
    found.update({name: metadata.EntryPoint(name, target, RUNNER_GROUP) for name, target in BUILTIN_RUNNERS.items()})
    return found


def default_artifact_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "models" / "artifacts"
