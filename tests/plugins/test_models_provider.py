"""The custom provider: contract, caching, user runners, health, numpy-only serving."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support.models import models, predict, provider

from hotcrm_ai.descriptors import ProviderSpec
from hotcrm_ai.errors import ConfigError, ProviderModelError, ValidationError
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.types import ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_plugins.custom import CustomProvider, provider_spec
from hotcrm_ai_plugins.models.examples import EXAMPLES


def test_spec_and_contract() -> None:
    spec = provider_spec()
    assert isinstance(spec, ProviderSpec) and spec.name == "custom"
    p = spec.factory(ProviderConfig("custom"))
    assert isinstance(p, BaseMLProvider) and p.native_batch is True and p.name == "custom"
    assert p.validate() is True


def test_every_model_predicts_its_example() -> None:
    p, ms = provider(), models()
    for model_id, features in EXAMPLES.items():
        out = predict(p, ms[model_id], features)
        assert 0 <= out.confidence <= 100
        assert out.prediction


def test_runners_are_built_once_per_provider_instance() -> None:
    p, m = provider(), models()["lead-scoring-v1"]
    assert p.runner(m) is p.runner(m)
    assert provider().runner(m) is not p.runner(m)


def test_health_check_loads_and_reports() -> None:
    report = provider().health_check()
    assert report.healthy and report.error is None
    assert set(report.details) == set(EXAMPLES)
    assert report.details["sentiment-analysis-v1"]["word_terms"] > 1000


def test_health_and_validate_on_a_missing_artifact_folder(tmp_path) -> None:
    p = CustomProvider(ProviderConfig("custom", config={"artifact_dir": str(tmp_path)}))
    assert p.validate() is False
    report = p.health_check()
    assert report.healthy is False and report.error


def test_missing_artifact_is_a_typed_error(tmp_path) -> None:
    m = models()["lead-scoring-v1"]
    broken = ModelConfig(
        id="x",
        name="x",
        type="classification",
        provider="custom",
        parameters={"runner": "lead_scoring", "artifact": "gone.json", "artifact_dir": str(tmp_path)},
    )
    with pytest.raises(ProviderModelError, match=r"gone\.json"):
        provider().predict(broken, PredictionInput(dict(m.background[0])))


@pytest.mark.parametrize(
    "runner", [None, "nope", "no.such.module:Runner", "support.models:EchoLengthRunner", "runpy:run_path"]
)
def test_a_runner_that_is_not_installed_is_a_config_error(runner) -> None:
    params = {} if runner is None else {"runner": runner}
    m = ModelConfig(id="x", name="x", type="regression", provider="custom", parameters=params)
    with pytest.raises(ConfigError, match=r"parameters\.runner"):
        provider().predict(m, PredictionInput({"text": "a"}))


@pytest.fixture
def echo_runner_installed(tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An installed distribution (a dist-info folder on sys.path) publishing a runner entry point."""
    dist = tmp_path / "echo_runner-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-runner\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[hotcrm_ai.runners]\necho = support.models:EchoLengthRunner\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "echo"


def test_user_runner_through_an_entry_point(echo_runner_installed: str) -> None:
    m = ModelConfig(
        id="mine",
        name="Mine",
        type="regression",
        provider="custom",
        parameters={"runner": echo_runner_installed, "scale": 2},
    )
    p = provider()
    outs = p.batch_predict(m, [PredictionInput({"text": "abc"}), PredictionInput({"text": "hello"})])
    assert [o.prediction["value"] for o in outs] == [6.0, 10.0]
    assert p.runner(m).calls == 1  # one vectorised call for the batch
    assert p.linear_model(m) is None


@pytest.mark.parametrize("artifact", ["../../etc/passwd", "/etc/passwd", "..", "sub/../../x.json", 3])
def test_an_artifact_outside_the_artifact_folder_is_refused(artifact: str, tmp_path) -> None:
    m = ModelConfig(
        id="x",
        name="x",
        type="classification",
        provider="custom",
        parameters={"runner": "lead_scoring", "artifact": artifact, "artifact_dir": str(tmp_path)},
    )
    with pytest.raises(ConfigError, match=r"\[models\.x\.parameters\]: artifact: expected"):
        provider().predict(m, PredictionInput({"age": 1}))


def test_batch_rejects_non_inputs() -> None:
    with pytest.raises(ValidationError, match="inputs"):
        provider().batch_predict(models()["lead-scoring-v1"], [{"age": 1}])  # type: ignore[list-item]


def test_serving_needs_only_numpy_and_vader() -> None:
    code = """
import json, sys
from hotcrm_ai.types import PredictionInput, ProviderConfig
from hotcrm_ai_plugins.custom import CustomProvider
from hotcrm_ai_plugins.models import default_models
from hotcrm_ai_plugins.models.examples import EXAMPLES
p = CustomProvider(ProviderConfig('custom'))
for m in default_models():
    p.predict(m, PredictionInput(EXAMPLES[m.id]))
    p.linear_model(m)
print(json.dumps(sorted(k for k in ('sklearn', 'scipy', 'pandas', 'statsmodels') if k in sys.modules)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_bad_runner_parameters_or_corrupt_artifact_are_typed_errors(tmp_path) -> None:
    """Review regression: a runner constructor's ValueError (bad parameters, corrupt JSON) leaked untyped.
    A bad parameter is refused by the runner's declared options, before the runner is built."""
    bad_method = ModelConfig(
        id="f", name="f", type="forecasting", provider="custom", parameters={"runner": "forecast", "method": "nope"}
    )
    with pytest.raises(ConfigError, match=r"\[models\.f\.parameters\]: method: expected one of auto"):
        provider().predict(bad_method, PredictionInput({"history": [1.0, 2.0], "horizon": 1}))
    (tmp_path / "corrupt.json").write_text("{not json", encoding="utf-8")
    params = {"runner": "lead_scoring", "artifact": "corrupt.json", "artifact_dir": str(tmp_path)}
    corrupt = ModelConfig(id="c", name="c", type="classification", provider="custom", parameters=params)
    with pytest.raises(ProviderModelError, match=r"cannot build runner"):
        provider().predict(corrupt, PredictionInput(dict(EXAMPLES["lead-scoring-v1"])))
