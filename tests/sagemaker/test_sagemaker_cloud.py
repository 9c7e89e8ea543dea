"""The provider driven through AICloud (registry, prediction service, cache, monitor) against the stand-in."""

from __future__ import annotations

import itertools

import pytest
from support.sagemaker_fixtures import aws_env, lead_model, lead_rows, provider_config, standin  # noqa: F401
from support.sagemaker_standin import LEAD_MODEL

import hotcrm_ai_sagemaker
from hotcrm_ai import AICloud
from hotcrm_ai.config import PredictionSettings, Settings
from hotcrm_ai.errors import HotCRMAIError, ProviderModelError, ProviderTimeoutError
from hotcrm_ai_sagemaker.provider import SageMakerProvider

_ids = itertools.count(1)


@pytest.fixture
def endpoints(standin):  # noqa: F811
    """Private endpoints for this test: (scoring, slow)."""
    n = next(_ids)
    scoring, slow = f"cloud-{n}", f"cloud-slow-{n}"
    standin.add_endpoint(scoring)
    standin.add_endpoint(slow, delay_s=2.0)
    return scoring, slow


@pytest.fixture
def ai(standin, endpoints):  # noqa: F811
    scoring, slow = endpoints
    models = (
        lead_model("lead-scoring-sm", endpoint=scoring),
        lead_model("lead-batch-sm", endpoint=scoring, parameters={"batch_format": "instances"}),
        lead_model("lead-csv-batch-sm", endpoint=scoring, parameters={"batch_format": "csv"}),
        lead_model("revenue-sm", endpoint="revenue", type="regression", features=()),
        lead_model("lead-slow-sm", endpoint=slow, timeout_s=0.3),
    )
    settings = Settings(
        providers={"aws-sagemaker": provider_config(standin.url)},
        models=models,
        prediction=PredictionSettings(retries=0, backoff_base_s=0.0),
    )
    cloud = AICloud(settings, plugins=[hotcrm_ai_sagemaker], load_entrypoints=False)
    yield cloud
    cloud.close()


def test_the_plugin_registers_through_the_hook(ai) -> None:
    assert "aws-sagemaker" in ai.plugins.providers
    provider = ai.provider_for("lead-scoring-sm")
    assert isinstance(provider, SageMakerProvider)
    assert provider is ai.provider_for("lead-batch-sm")  # one instance per provider config


def test_real_time_predictions_depend_on_the_input(ai, standin, endpoints) -> None:  # noqa: F811
    rows = lead_rows(12)[::3]
    results = [ai.predict("lead-scoring-sm", r, context={"tenant": "acme"}) for r in rows]
    assert [r.prediction for r in results] == pytest.approx([float(p) for p in LEAD_MODEL.predict(rows)])
    assert len({round(r.prediction, 9) for r in results}) == len(rows)
    assert all(r.model_id == "lead-scoring-sm" and not r.cached and not r.degraded for r in results)
    assert all(
        r.metadata["provider"] == "aws-sagemaker" and r.metadata["invoked_variant"] == "AllTraffic" for r in results
    )
    assert len(standin.invocations(endpoints[0])) == len(rows)
    again = ai.predict("lead-scoring-sm", rows[0], context={"tenant": "acme"})
    assert again.cached is True and again.prediction == results[0].prediction
    assert len(standin.invocations(endpoints[0])) == len(rows)  # served from the cache, no call


@pytest.mark.parametrize("model_id", ["lead-batch-sm", "lead-csv-batch-sm"])
def test_batch_is_one_invocation(ai, standin, endpoints, model_id) -> None:  # noqa: F811
    rows = lead_rows(20)
    before = len(standin.invocations(endpoints[0]))
    results = ai.batch_predict(model_id, rows, use_cache=False)
    calls = standin.invocations(endpoints[0])[before:]
    assert len(calls) == 1 and calls[0].rows == 20
    assert [r.prediction for r in results] == pytest.approx([float(p) for p in LEAD_MODEL.predict(rows)])
    assert all(r.ok for r in results)


def test_prediction_zero_survives_the_service_and_the_cache(ai) -> None:
    first = ai.predict("revenue-sm", {"a": 2, "b": 4})
    assert first.prediction == 0.0 and first.prediction is not None and not first.cached
    second = ai.predict("revenue-sm", {"a": 2, "b": 4})
    assert second.cached is True and second.prediction == 0.0


def test_model_error_surfaces_typed_with_the_container_message(ai, standin, endpoints) -> None:  # noqa: F811
    standin.fail_next(endpoints[0], "model_error", message="ValueError: could not convert 'n/a' to float")
    with pytest.raises(HotCRMAIError) as info:
        ai.predict("lead-scoring-sm", lead_rows(2)[1], use_cache=False)
    err = info.value
    cause = err if isinstance(err, ProviderModelError) else getattr(err, "cause", None) or err.__cause__
    assert isinstance(cause, ProviderModelError) and cause.retryable is False
    assert "could not convert 'n/a' to float" in str(err)
    stats = ai.stats("lead-scoring-sm")
    assert stats.failures == 1 and stats.successes == 0
    # a later call works: the fault was one-off and nothing was cached from it
    assert ai.predict("lead-scoring-sm", lead_rows(2)[1], use_cache=False).ok


def test_timeouts_are_honoured(ai) -> None:
    with pytest.raises(HotCRMAIError) as info:
        ai.predict("lead-slow-sm", lead_rows(1)[0])
    err = info.value
    cause = err if isinstance(err, ProviderTimeoutError) else getattr(err, "cause", None) or err.__cause__
    assert isinstance(cause, ProviderTimeoutError) and cause.retryable is True


def test_health_from_the_endpoint_status(ai, standin, endpoints) -> None:  # noqa: F811
    scoring = endpoints[0]
    ai.predict("lead-scoring-sm", lead_rows(1)[0], use_cache=False)
    provider = ai.provider_for("lead-scoring-sm")
    assert provider.health_check(ai.registry.get("lead-scoring-sm")).healthy is True
    assert ai.provider_health("lead-scoring-sm").details["endpoints"][scoring] == "InService"
    standin.set_status(scoring, "Creating")
    report = provider.health_check(ai.registry.get("lead-scoring-sm"))
    assert report.healthy is False and report.error == f"endpoint {scoring} is Creating"
    assert ai.provider_health("lead-scoring-sm").healthy is False
    standin.set_status(scoring, "Failed", "CapacityError: no ml.m5.large capacity")
    failed = ai.provider_health("lead-scoring-sm")
    assert failed.healthy is False and "CapacityError" in failed.error
    standin.set_status(scoring, "InService")
    assert ai.provider_health("lead-scoring-sm").healthy is True
