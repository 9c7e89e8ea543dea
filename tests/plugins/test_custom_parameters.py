"""The custom provider's model ``parameters``: each runner declares them, and every ``[[models]]``
entry it serves is checked when ``AICloud`` starts (one policy: unknown runner or key with the
closest valid name, wrong type naming the key), not at the first prediction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from support.models import ScaledEchoOptions

import hotcrm_ai_plugins
from hotcrm_ai import AICloud, Settings
from hotcrm_ai.config import settings_from_dict
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.types import ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_plugins.custom import CustomProvider, model_runner_options, provider_spec
from hotcrm_ai_plugins.models import default_models
from hotcrm_ai_plugins.models.examples import EXAMPLES
from hotcrm_ai_plugins.runners.forecast_models import METHODS
from hotcrm_ai_plugins.runners.options import FORECAST_METHODS, ForecastOptions, LeadScoringOptions


def _model(**parameters: Any) -> ModelConfig:
    return ModelConfig(id="m", name="m", type="regression", provider="custom", parameters=parameters)


def _start(*models: ModelConfig) -> AICloud:
    return AICloud(Settings(models=models), plugins=[hotcrm_ai_plugins], load_entrypoints=False)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"runnr": "forecast"},
            "[models.m.parameters] unknown key 'runnr'; did you mean `runner`? (known: artifact, artifact_dir, runner)",
        ),
        (
            {"runner": "forcast"},
            "[models.m] parameters.runner: unknown 'forcast'; did you mean `forecast`? (known: churn, forecast, "
            "lead_scoring, recommendation, sentiment) (a package adds one under the 'hotcrm_ai.runners' "
            "entry-point group)",
        ),
        (
            {"runner": "forecast", "methd": "ets"},
            "[models.m.parameters] unknown key 'methd'; did you mean `method`? (known: artifact, artifact_dir, "
            "method, runner)",
        ),
        (
            {"runner": "lead_scoring", "artefact": "lead_scoring.json"},
            "[models.m.parameters] unknown key 'artefact'; did you mean `artifact`? (known: artifact, artifact_dir, "
            "runner)",
        ),
        ({"runner": "forecast", "method": 3}, "Invalid [models.m.parameters]: method: expected a string, got int"),
        ({"runner": "churn", "artifact": ["churn.json"]}, "Invalid [models.m.parameters]: artifact: expected a string"),
        (
            {"runner": "forecast", "method": "ses+magic"},
            "Invalid [models.m.parameters]: method: expected one of auto, naive,",
        ),
        ({"runner": 7}, "[models.m] parameters.runner: expected the name of an installed runner"),
        ({}, "[models.m] parameters.runner: expected the name of an installed runner"),
    ],
)
def test_a_bad_custom_model_stops_the_start(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _start(_model(**parameters))
    assert str(info.value).startswith(message), str(info.value)


def test_the_same_check_for_a_config_file_entry() -> None:
    doc = {
        "models": [
            {
                "id": "fc",
                "name": "Forecast",
                "type": "forecasting",
                "provider": "custom",
                "parameters": {"runner": "forecast", "mehtod": "ets"},
            }
        ]
    }
    with pytest.raises(ConfigError, match=r"\[models\.fc\.parameters\] unknown key 'mehtod'; did you mean `method`\?"):
        AICloud(settings_from_dict(doc), plugins=[hotcrm_ai_plugins], load_entrypoints=False)


def test_the_five_default_models_and_a_fixed_method_keep_working() -> None:
    forecast = next(m for m in default_models() if m.id == "revenue-forecast-v1")
    fixed = attrs.evolve(forecast, id="forecast-ets", parameters={**forecast.parameters, "method": "ets"})
    with _start(fixed) as ai:
        assert {m.id for m in ai.registry.list()} >= set(EXAMPLES) | {"forecast-ets"}
        for model_id, row in EXAMPLES.items():
            assert ai.predict(model_id, row, use_cache=False).ok
        out = ai.predict("forecast-ets", EXAMPLES["revenue-forecast-v1"], use_cache=False)
        assert out.ok and out.metadata["method"] == "ets"


def test_the_runner_is_built_on_its_structured_options() -> None:
    lead = next(m for m in default_models() if m.id == "lead-scoring-v1")
    options, declared = model_runner_options(lead)
    assert declared and options == LeadScoringOptions(runner="lead_scoring", artifact="lead_scoring.json")
    forecast = attrs.evolve(_model(runner="forecast", method="ses+ets"), type="forecasting")
    assert model_runner_options(forecast) == (ForecastOptions(method="ses+ets"), True)
    assert provider_spec().model_options_for is not None
    assert CustomProvider(ProviderConfig("custom")).runner(forecast).method == "ses+ets"


def test_the_forecast_methods_declared_are_the_runners() -> None:
    assert tuple(METHODS) == FORECAST_METHODS


@pytest.fixture
def runners_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed distribution publishing two runners: one declaring its options, one not."""
    dist = tmp_path / "echo_runners-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-runners\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[hotcrm_ai.runners]\n"
        "scaled = support.models:ScaledEchoRunner\n"
        "echo = support.models:EchoLengthRunner\n"
        "broken = support.no_such_module:Runner\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def test_an_installed_runner_declares_its_options(runners_installed: None) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'scael'; did you mean `scale`\?"):
        _start(_model(runner="scaled", scael=2))
    with pytest.raises(ConfigError, match=r"\[models\.m\.parameters\]: scale: expected a number, got str"):
        _start(_model(runner="scaled", scale="2"))
    with pytest.raises(ConfigError, match=r"parameters\.runner: unknown 'scaeld'; did you mean `scaled`\?"):
        _start(_model(runner="scaeld"))
    with pytest.raises(ConfigError, match=r"parameters\.runner: cannot import runner 'broken'"):
        _start(_model(runner="broken"))
    with _start(_model(runner="scaled", scale=3)) as ai:
        assert ai.predict("m", {"text": "abcd"}, use_cache=False).prediction == {"value": 12.0}
        runner = ai.provider_for("m").runner(ai.registry.get("m"))
        assert runner.scale == 3.0
        assert model_runner_options(ai.registry.get("m")) == (ScaledEchoOptions(runner="scaled", scale=3.0), True)


def test_a_runner_declaring_nothing_keeps_its_own_keys_but_not_bad_shared_ones(runners_installed: None) -> None:
    with _start(_model(runner="echo", scale=2)) as ai:
        assert ai.predict("m", {"text": "abc"}, use_cache=False).prediction == {"value": 6.0}
    with pytest.raises(ConfigError, match=r"\[models\.m\.parameters\]: artifact: expected a string, got int"):
        _start(_model(runner="echo", artifact=3))


def test_a_direct_provider_call_gets_the_same_error() -> None:
    bad = attrs.evolve(_model(runner="forecast", methd="ets"), type="forecasting")
    with pytest.raises(ConfigError, match=r"unknown key 'methd'; did you mean `method`\?"):
        CustomProvider(ProviderConfig("custom")).predict(bad, PredictionInput({"history": [1.0, 2.0], "horizon": 1}))


def test_models_differing_only_in_a_runner_option_get_their_own_runners() -> None:
    p = CustomProvider(ProviderConfig("custom"))
    auto = attrs.evolve(_model(runner="forecast"), type="forecasting")
    ets = attrs.evolve(_model(runner="forecast", method="ets"), id="m2", type="forecasting")
    assert p.runner(auto).method == "auto" and p.runner(ets).method == "ets"
