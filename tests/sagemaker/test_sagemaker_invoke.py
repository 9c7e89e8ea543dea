"""SageMakerProvider.predict / batch_predict: real boto3 against the stand-in, on the wire."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from support.sagemaker_fixtures import aws_env, inputs, lead_model, lead_rows, provider_config, standin  # noqa: F401
from support.sagemaker_standin import ACCESS_KEY, LEAD_FEATURES, LEAD_MODEL, REGION, REVENUE_MODEL, LinearModel

from hotcrm_ai.errors import ConfigError, ProviderResponseError, ValidationError
from hotcrm_ai.types import PredictionInput
from hotcrm_ai_sagemaker import payloads
from hotcrm_ai_sagemaker.provider import SageMakerProvider, provider_spec


@pytest.fixture
def provider(standin):  # noqa: F811
    p = SageMakerProvider(provider_config(standin.url))
    yield p
    p.close()


def expected(rows, model=LEAD_MODEL):
    return [float(v) for v in model.predict(rows)]


def test_spec_registers_the_provider_name() -> None:
    spec = provider_spec()
    assert spec.name == "aws-sagemaker"
    assert spec.description


def test_predictions_come_from_the_endpoint_model_and_depend_on_input(provider, standin) -> None:  # noqa: F811
    rows = lead_rows(5)
    outs = [provider.predict(lead_model(), PredictionInput(r)) for r in rows]
    assert [o.prediction for o in outs] == pytest.approx(expected(rows), rel=1e-12)
    assert len({round(o.prediction, 9) for o in outs}) == 5
    for out, p in zip(outs, expected(rows), strict=True):
        assert out.confidence == pytest.approx(max(p, 1 - p) * 100)
        assert out.metadata["confidence_source"] == "probability"
        assert out.metadata["invoked_variant"] == "AllTraffic"
        assert out.metadata["endpoint_name"] == "lead-scoring"
        assert out.metadata["region"] == REGION
        assert out.metadata["latency_ms"] > 0


def test_requests_are_sigv4_signed_json_with_the_feature_object(provider, standin) -> None:  # noqa: F811
    before = len(standin.requests)
    row = lead_rows(1)[0]
    provider.predict(lead_model(), PredictionInput(row))
    (req,) = standin.requests[before:]
    assert req.operation == "InvokeEndpoint" and req.path == "/endpoints/lead-scoring/invocations"
    assert req.signature_valid is True
    auth = req.headers["Authorization"]
    assert re.fullmatch(
        rf"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/\d{{8}}/{REGION}/sagemaker/aws4_request, "
        r"SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}",
        auth,
    )
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["Accept"] == "application/json"
    assert json.loads(req.body) == row


def test_endpoint_name_defaults_to_model_id_and_endpoint_overrides(provider, standin) -> None:  # noqa: F811
    row = lead_rows(2)[1]
    by_id = provider.predict(lead_model("lead-label"), PredictionInput(row))
    by_endpoint = provider.predict(lead_model("my-model", endpoint="lead-label"), PredictionInput(row))
    assert by_id.prediction == by_endpoint.prediction
    assert standin.invocations()[-1].endpoint == "lead-label"


def test_prediction_zero_is_a_prediction_not_the_whole_body(provider) -> None:
    revenue = lead_model("revenue", type="regression", features=())
    zero = provider.predict(revenue, PredictionInput({"a": 2, "b": 4}))
    assert zero.prediction == 0.0 and zero.prediction is not None
    assert zero.confidence == 0.0 and zero.metadata["confidence_source"] == "none"
    other = provider.predict(revenue, PredictionInput({"a": 3, "b": 1.5}))
    assert other.prediction == pytest.approx(expected([{"a": 3, "b": 1.5}], REVENUE_MODEL)[0])


def test_label_zero_with_body_confidence(provider) -> None:
    low = {"engagement": -5.0, "email_opens": 0, "days_since_contact": 29}
    out = provider.predict(lead_model("lead-label"), PredictionInput(low))
    p = expected([low])[0]
    assert out.prediction == 0  # the original's `||` would have returned the whole body here
    assert out.confidence == pytest.approx((1 - p) * 100)
    assert out.metadata["confidence_source"] == "body"


def test_reply_styles_map_per_reference(provider) -> None:
    row = lead_rows(4)[3]
    p = expected([row])[0]
    ll = provider.predict(lead_model("lead-ll"), PredictionInput(row))
    assert ll.prediction == {"score": pytest.approx(p), "predicted_label": int(p >= 0.5)}
    assert ll.confidence == pytest.approx(max(p, 1 - p) * 100)
    whole = provider.predict(lead_model("lead-object"), PredictionInput(row))
    assert whole.prediction == {"probability": pytest.approx(p), "label": "won" if p >= 0.5 else "lost"}
    assert whole.metadata["confidence_source"] == "probability"


def test_regression_float_is_not_taken_for_a_probability(provider) -> None:
    revenue = lead_model("revenue", type="regression", features=())
    out = provider.predict(revenue, PredictionInput({"a": 0.3, "b": 0.2}))
    assert out.prediction == pytest.approx(0.4)
    assert out.confidence == 0.0 and out.metadata["confidence_source"] == "none"


def test_csv_request_and_reply(provider, standin) -> None:  # noqa: F811
    model = lead_model(parameters={"content_type": "csv"})
    row = {"days_since_contact": 4, "engagement": 1.25, "email_opens": 2}  # order differs from the model's
    out = provider.predict(model, PredictionInput(row))
    req = standin.invocations()[-1]
    assert req.headers["Content-Type"] == "text/csv" and req.headers["Accept"] == "text/csv"
    assert req.body == b"1.25,2,4\n"  # the model's feature order
    assert out.prediction == pytest.approx(expected([row])[0])
    assert out.metadata["content_type"] == "text/csv"


def test_csv_in_json_out(provider, standin) -> None:  # noqa: F811
    model = lead_model("lead-label", parameters={"content_type": "text/csv", "accept": "json"})
    row = lead_rows(3)[2]
    out = provider.predict(model, PredictionInput(row))
    assert standin.invocations()[-1].headers["Accept"] == "application/json"
    assert out.prediction == int(expected([row])[0] >= 0.5)


def test_pass_through_headers_and_invoked_variant(provider, standin) -> None:  # noqa: F811
    model = lead_model("lead-ab", parameters={"target_variant": "VariantB", "custom_attributes": "trace=abc-123"})
    out = provider.predict(model, PredictionInput(lead_rows(1)[0]))
    req = standin.invocations()[-1]
    assert req.headers["X-Amzn-SageMaker-Target-Variant"] == "VariantB"
    assert req.headers["X-Amzn-SageMaker-Custom-Attributes"] == "trace=abc-123"
    assert out.metadata["invoked_variant"] == "VariantB"
    assert out.metadata["custom_attributes"] == "trace=abc-123"


def test_unpinned_variant_reports_which_served(provider) -> None:
    served = {
        provider.predict(lead_model("lead-ab"), PredictionInput(r)).metadata["invoked_variant"] for r in lead_rows(4)
    }
    assert served == {"VariantA", "VariantB"}


def test_target_model_and_inference_component_choose_the_model(provider, standin) -> None:  # noqa: F811
    row = lead_rows(6)[5]
    eu = provider.predict(lead_model("lead-mme", parameters={"target_model": "lead-eu.tar.gz"}), PredictionInput(row))
    us = provider.predict(lead_model("lead-mme", parameters={"TargetModel": "lead-us.tar.gz"}), PredictionInput(row))
    ic = provider.predict(
        lead_model("lead-mme", parameters={"inference_component_name": "lead-ic"}), PredictionInput(row)
    )
    endpoint = standin.endpoints["lead-mme"]
    assert eu.prediction == pytest.approx(expected([row], endpoint.target_models["lead-eu.tar.gz"])[0])
    assert us.prediction == pytest.approx(expected([row], endpoint.target_models["lead-us.tar.gz"])[0])
    assert ic.prediction == pytest.approx(expected([row], endpoint.components["lead-ic"])[0])
    assert len({eu.prediction, us.prediction, ic.prediction}) == 3
    assert standin.invocations()[-1].headers["X-Amzn-SageMaker-Inference-Component"] == "lead-ic"


# ------------------------------------------------------------------------------ batch


def test_instances_batch_is_one_invocation(provider, standin) -> None:  # noqa: F811
    rows = lead_rows(25)
    model = lead_model(parameters={"batch_format": "instances"})
    before = len(standin.invocations("lead-scoring"))
    outs = provider.batch_predict(model, inputs(rows))
    calls = standin.invocations("lead-scoring")[before:]
    assert len(calls) == 1 and calls[0].rows == 25
    assert json.loads(calls[0].body) == {"instances": rows}
    assert [o.prediction for o in outs] == pytest.approx(expected(rows), rel=1e-12)
    assert [o.metadata["batch_index"] for o in outs] == list(range(25))
    assert all(o.metadata["batch_size"] == 25 and o.metadata["invocations"] == 1 for o in outs)


def test_instances_batch_matches_single_predictions(provider) -> None:
    rows = lead_rows(10)
    model = lead_model("lead-label", parameters={"batch_format": "instances"})
    batch = provider.batch_predict(model, inputs(rows))
    singles = [provider.predict(model, i) for i in inputs(rows)]
    assert [(o.prediction, round(o.confidence, 9)) for o in batch] == [
        (o.prediction, round(o.confidence, 9)) for o in singles
    ]
    assert 0 in [o.prediction for o in batch] and 1 in [o.prediction for o in batch]


def test_csv_batch_is_one_invocation_of_lines(provider, standin) -> None:  # noqa: F811
    rows = lead_rows(7)
    model = lead_model(parameters={"batch_format": "csv"})
    before = len(standin.invocations("lead-scoring"))
    outs = provider.batch_predict(model, inputs(rows))
    (call,) = standin.invocations("lead-scoring")[before:]
    assert call.headers["Content-Type"] == "text/csv"
    assert call.body.decode().splitlines() == [",".join(repr(r[n]) for n in LEAD_FEATURES) for r in rows]
    assert [o.prediction for o in outs] == pytest.approx(expected(rows))


def test_batch_over_the_payload_limit_is_split(standin) -> None:  # noqa: F811
    provider = SageMakerProvider(provider_config(standin.url, max_payload_bytes=1000))
    rows = lead_rows(40)
    model = lead_model(parameters={"batch_format": "instances"})
    before = len(standin.invocations("lead-scoring"))
    outs = provider.batch_predict(model, inputs(rows))
    calls = standin.invocations("lead-scoring")[before:]
    assert len(calls) >= 3
    assert all(len(c.body) <= 1000 for c in calls)
    assert sum(c.rows for c in calls) == 40
    assert [o.prediction for o in outs] == pytest.approx(expected(rows))  # order kept across invocations
    assert {o.metadata["invocations"] for o in outs} == {len(calls)}


def test_max_batch_rows_caps_each_invocation(provider, standin) -> None:  # noqa: F811
    model = lead_model(parameters={"batch_format": "csv", "max_batch_rows": 4})
    before = len(standin.invocations("lead-scoring"))
    outs = provider.batch_predict(model, inputs(lead_rows(10)))
    assert sorted(c.rows for c in standin.invocations("lead-scoring")[before:]) == [2, 4, 4]
    assert len(outs) == 10


def test_row_over_the_limit_is_a_validation_error_naming_it(standin) -> None:  # noqa: F811
    provider = SageMakerProvider(provider_config(standin.url, max_payload_bytes=200))
    model = lead_model(features=(), parameters={"batch_format": "instances"})
    rows = [{"engagement": 1.0}, {"engagement": 1.0, "notes": "x" * 500}]
    with pytest.raises(ValidationError) as info:
        provider.batch_predict(model, inputs(rows))
    assert "rows[1]" in str(info.value) and "bytes" in str(info.value)


def test_wrong_row_count_in_reply_is_a_response_error(provider, standin) -> None:  # noqa: F811
    standin.fail_next("lead-scoring", "wrong_count")
    with pytest.raises(ProviderResponseError, match="expected 5 predictions"):
        provider.batch_predict(lead_model(parameters={"batch_format": "instances"}), inputs(lead_rows(5)))


def test_models_without_batch_format_use_bounded_concurrency(standin) -> None:  # noqa: F811
    provider = SageMakerProvider(provider_config(standin.url, max_concurrency=3))
    rows = lead_rows(9)
    before = len(standin.invocations("lead-scoring"))
    outs = provider.batch_predict(lead_model(), inputs(rows))
    calls = standin.invocations("lead-scoring")[before:]
    assert len(calls) == 9 and all(c.rows == 1 for c in calls)
    assert [o.prediction for o in outs] == pytest.approx(expected(rows))


def test_empty_batch_makes_no_call(provider, standin) -> None:  # noqa: F811
    before = len(standin.requests)
    assert provider.batch_predict(lead_model(parameters={"batch_format": "instances"}), []) == []
    assert len(standin.requests) == before


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_feature_names_the_field(provider, value) -> None:
    with pytest.raises(ValidationError, match=r"features\.engagement: expected a finite number"):
        provider.predict(
            lead_model(), PredictionInput({"engagement": value, "email_opens": 1, "days_since_contact": 1})
        )


def test_unserialisable_feature_names_the_field(provider) -> None:
    with pytest.raises(ValidationError, match=r"features\.when: expected a JSON value"):
        provider.predict(lead_model(features=()), PredictionInput({"when": object()}))


def test_csv_missing_and_extra_fields_are_named(provider) -> None:
    model = lead_model(parameters={"content_type": "csv"})
    with pytest.raises(ValidationError) as info:
        provider.predict(model, PredictionInput({"engagement": 1, "email_opens": 2, "colour": "red"}))
    text = str(info.value)
    assert "features.days_since_contact" in text and "features.colour" in text


def test_batch_errors_name_every_bad_row(provider) -> None:
    rows = lead_rows(4)
    rows[1]["engagement"] = math.nan
    rows[3]["email_opens"] = math.inf
    with pytest.raises(ValidationError) as info:
        provider.batch_predict(lead_model(parameters={"batch_format": "instances"}), inputs(rows))
    assert "rows[1].features.engagement" in str(info.value) and "rows[3].features.email_opens" in str(info.value)


def test_unicode_and_large_strings_travel_intact(provider, standin) -> None:  # noqa: F811
    standin.add_endpoint("echo-ish", model=LinearModel(("x",), (1.0,), logistic=False), style="value")
    model = lead_model("echo-ish", type="regression", features=())
    note = "Grüße, 東京 🚀 " * 2000
    out = provider.predict(model, PredictionInput({"x": 1.5, "note": note}))
    assert out.prediction == 1.5
    assert json.loads(standin.invocations("echo-ish")[-1].body)["note"] == note


@pytest.mark.parametrize(
    ("parameters", "key"),
    [
        ({"batch_format": "rows"}, "batch_format"),
        ({"batch_format": ["csv"]}, "batch_format"),
        ({"content_type": "application/x-npy"}, "content_type"),
        ({"batch_format": "csv", "content_type": "json"}, "batch_format"),
        ({"target_variant": 3}, "target_variant"),
        ({"confidence_scale": "logit"}, "confidence_scale"),
        ({"max_batch_rows": 0}, "max_batch_rows"),
        ({"single_format": "list"}, "single_format"),
        ({"single_format": "instances", "content_type": "csv"}, "single_format"),
        ({"csv_columns": []}, "csv_columns"),
        ({"csv_columns": "a,b"}, "csv_columns"),
        ({"target_varient": "Blue"}, "target_varient"),
    ],
)
def test_bad_model_parameters_name_the_key(provider, parameters, key) -> None:
    # a declared option's problem ("[models.<id>.parameters]: key: ...") or a check across keys
    # ("models.<id>.parameters.key: ...") names the model and the key alike
    with pytest.raises(ConfigError, match=rf"parameters(\.|\]: |\] unknown key '){key}"):
        provider.predict(lead_model(parameters=parameters), PredictionInput(lead_rows(1)[0]))


def test_a_model_parameter_typo_is_refused_when_the_cloud_starts() -> None:
    import hotcrm_ai_sagemaker
    from hotcrm_ai import AICloud, Settings

    model = lead_model(parameters={"target_varient": "Blue", "TargetModel": "m.tar.gz"})
    with pytest.raises(ConfigError) as info:
        AICloud(Settings(models=(model,)), plugins=[hotcrm_ai_sagemaker], load_entrypoints=False)
    assert str(info.value).startswith(
        f"[models.{model.id}.parameters] unknown key 'target_varient'; did you mean `target_variant`?"
    )
    header_spelling = lead_model(parameters={"TargetVariant": "Blue", "target_model": "m.tar.gz"})
    assert payloads.request_spec(header_spelling).extra_args == {"TargetVariant": "Blue", "TargetModel": "m.tar.gz"}


def test_csv_without_a_column_order_is_a_config_error(provider) -> None:
    with pytest.raises(ConfigError, match="csv_columns"):
        provider.predict(lead_model(features=(), parameters={"content_type": "csv"}), PredictionInput({"a": 1}))


def test_probabilities_numpy_reference_is_a_real_model() -> None:
    """The stand-in's answers are a logistic regression, monotone in engagement (sanity of the oracle)."""
    rows = [{"engagement": e, "email_opens": 1, "days_since_contact": 5} for e in np.linspace(-3, 3, 7)]
    probs = expected(rows)
    assert probs == sorted(probs) and 0 < probs[0] < 0.5 < probs[-1] < 1


def test_single_format_instances_wraps_one_row(provider, standin) -> None:  # noqa: F811
    row = lead_rows(5)[4]
    out = provider.predict(lead_model(parameters={"single_format": "instances"}), PredictionInput(row))
    assert json.loads(standin.invocations()[-1].body) == {"instances": [row]}
    assert out.prediction == pytest.approx(expected([row])[0])
