"""What a model served by the ``custom`` provider may put in its ``parameters``, per runner.

Each runner declares a frozen attrs class (its ``Options``); the provider picks the class by
``parameters.runner`` and structures the parameters through ``hotcrm_ai.options`` (one policy: an
unknown key names the closest valid one, a wrong type names the key), when ``AICloud`` starts and
before a runner is built. The built-in classes live here, apart from the runners, so that checking
a configuration imports no numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, TypeVar

import attrs

from hotcrm_ai.options import OptionError, non_empty, parse_options

T = TypeVar("T")

#: The single forecasting methods (``forecast_models.METHODS``), named here so checking needs no numpy.
FORECAST_METHODS = ("naive", "snaive", "naive2", "ses", "ets", "ets_log", "ets_robust", "theta", "theta3", "arima")


def artifact_name(inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A file name inside the artifact folder: no absolute path, no ``..`` (a data file must not
    point the runner at any other file). The provider checks the resolved path again when it loads."""
    path = PurePath(value)
    if path.is_absolute() or ".." in path.parts or value.startswith(("/", "\\")):
        raise OptionError(attribute.name, "a file name inside the artifact folder", value)


def _artifact(default: str) -> Any:
    return attrs.field(default=default, validator=artifact_name)


def _dir() -> Any:
    return attrs.field(default=None, validator=non_empty)


@attrs.frozen
class RunnerOptions:
    """The keys every runner shares: ``runner`` (its installed name), ``artifact`` (the file it reads
    in the artifact folder; empty when it reads none) and ``artifact_dir`` (that folder, when not the
    provider's). A runner that declares no options of its own is checked against these alone."""

    runner: str = attrs.field(validator=non_empty)
    artifact: str = _artifact("")
    artifact_dir: str | None = _dir()


@attrs.frozen
class LeadScoringOptions:
    """``lead_scoring``: the logistic model's JSON artifact."""

    runner: str = "lead_scoring"
    artifact: str = _artifact("lead_scoring.json")
    artifact_dir: str | None = _dir()


@attrs.frozen
class ChurnOptions:
    """``churn``: the logistic model's JSON artifact."""

    runner: str = "churn"
    artifact: str = _artifact("churn.json")
    artifact_dir: str | None = _dir()


@attrs.frozen
class SentimentOptions:
    """``sentiment``: the gzipped lexicon artifact."""

    runner: str = "sentiment"
    artifact: str = _artifact("sentiment.json.gz")
    artifact_dir: str | None = _dir()


@attrs.frozen
class RecommendationOptions:
    """``recommendation``: the item-neighbour arrays (``.npz``)."""

    runner: str = "recommendation"
    artifact: str = _artifact("recommendation.npz")
    artifact_dir: str | None = _dir()


def forecast_method(inst: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    """``auto`` (selection by validation), one method, or a combination such as ``ses+ets``."""
    if value != "auto" and not all(part in FORECAST_METHODS for part in value.split("+")):
        raise OptionError(
            attribute.name, f"one of auto, {', '.join(FORECAST_METHODS)} or a combination such as 'ses+ets'", value
        )


@attrs.frozen
class ForecastOptions:
    """``forecast``: no artifact (it fits on the history sent with each request); ``method`` fixes the
    method instead of selecting one per series."""

    runner: str = "forecast"
    artifact: str = _artifact("")
    artifact_dir: str | None = _dir()
    method: str = attrs.field(default="auto", validator=forecast_method)


#: The built-in runners' declared options, by runner name (the runners point to the same classes).
BUILTIN_OPTIONS: dict[str, type] = {
    "lead_scoring": LeadScoringOptions,
    "churn": ChurnOptions,
    "sentiment": SentimentOptions,
    "forecast": ForecastOptions,
    "recommendation": RecommendationOptions,
}


def runner_options(cls: type[T], parameters: Mapping[str, Any] | T) -> T:
    """``parameters`` as ``cls``: already structured (the provider's path), or a plain mapping (a
    runner built directly, as training and benchmarks do) structured under the same policy."""
    if isinstance(parameters, cls):
        return parameters
    return parse_options(cls, parameters, section=f"runner {cls.__name__}")  # type: ignore[arg-type]
