"""Pure pieces of the OpenAI provider: redaction, Retry-After, batching limits, prices, confidence, schemas."""

from __future__ import annotations

import email.utils
import math

import pytest

from hotcrm_ai.errors import ConfigError, FieldError, ProviderResponseError, ValidationError
from hotcrm_ai.types import ModelConfig, ProviderConfig
from hotcrm_ai_openai import batching, prompts, schema
from hotcrm_ai_openai.confidence import from_answer, from_logprobs
from hotcrm_ai_openai.errors import parse_retry_after, redactor
from hotcrm_ai_openai.options import DEFAULT_BASE_URL, OpenAIOptions
from hotcrm_ai_openai.pricing import DEFAULT_PRICES, price_for, usage_record

# -- redaction ----------------------------------------------------------------------------------------


def test_redactor_removes_configured_secret_and_key_shapes() -> None:
    redact = redactor(["my-custom-token-123"])
    text = (
        "Incorrect API key provided: my-custom-token-123; also sk-proj-AbC123xyz and sk-abc*****wxyz, "
        "header Bearer abc.def, url http://user:pw@host/v1"
    )
    out = redact(text)
    for leaked in ("my-custom-token-123", "sk-proj-AbC123xyz", "sk-abc*****wxyz", "abc.def", "user:pw"):
        assert leaked not in out
    assert "Incorrect API key provided" in out
    assert "host/v1" in out


# -- Retry-After ----------------------------------------------------------------------------------------


def test_retry_after_seconds_ms_and_date() -> None:
    assert parse_retry_after({"Retry-After": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5  # the precise one wins
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-3"}) is None
    assert parse_retry_after({}) is None


# -- batching ----------------------------------------------------------------------------------------


def test_split_batches_respects_count_and_token_limits() -> None:
    texts = ["a" * 10] * 5000
    ranges = batching.split_batches(texts, max_inputs=2048, max_tokens=300_000)
    assert [len(r) for r in ranges] == [2048, 2048, 904]
    assert [i for r in ranges for i in r] == list(range(5000))
    by_tokens = batching.split_batches(["x" * 100] * 10, max_inputs=2048, max_tokens=250)
    assert [len(r) for r in by_tokens] == [2, 2, 2, 2, 2]
    # one text above the budget still gets its own request (the API judges it)
    assert [len(r) for r in batching.split_batches(["x" * 1000, "y"], max_inputs=10, max_tokens=100)] == [1, 1]
    assert batching.split_batches([], max_inputs=10, max_tokens=10) == []


def test_token_bound_is_an_upper_bound_in_bytes() -> None:
    assert batching.token_bound("héllo") == len("héllo".encode())
    assert batching.token_bound("") == 1


def test_apportion_sums_exactly() -> None:
    parts = batching.apportion(10, [1, 1, 1])
    assert sum(parts) == 10 and sorted(parts) == [3, 3, 4]
    assert batching.apportion(7, [0, 0]) in ([4, 3], [3, 4])
    assert batching.apportion(0, [5, 5]) == [0, 0]
    assert batching.apportion(5, []) == []


# -- prices ---------------------------------------------------------------------------------------------


def test_default_prices_are_the_reference_table() -> None:
    assert DEFAULT_PRICES["gpt-4"].input == 0.03 and DEFAULT_PRICES["gpt-4"].output == 0.06
    assert DEFAULT_PRICES["gpt-4o-mini"].input == 0.00015 and DEFAULT_PRICES["gpt-4o-mini"].output == 0.0006
    assert DEFAULT_PRICES["text-embedding-3-small"].input == 0.00002


def test_price_lookup_snapshots_but_no_prefix_guessing() -> None:
    prices = _options({"prices": {"my-model": {"input": 1.0, "output": 2.0}}}).prices
    assert price_for(prices, "gpt-4o-mini-2024-07-18") is prices["gpt-4o-mini"]
    assert price_for(prices, "gpt-4o") is None  # not gpt-4's price
    assert price_for(prices, "gpt-4-turbo") is None
    assert price_for(prices, "my-model").cost(1000, 500) == pytest.approx(2.0)
    record = usage_record(1000, 500, prices["gpt-4"])
    assert record == {
        "prompt_tokens": 1000,
        "completion_tokens": 500,
        "total_tokens": 1500,
        "cost_usd": pytest.approx(0.06),
    }
    assert "cost_usd" not in usage_record(10, 0, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"m": 1}, "prices['m']: expected a table"),
        ({"m": {"output": 1}}, "prices['m'].input: expected a value (required field is missing)"),
        ({"m": {"input": -1}}, "prices['m'].input: expected a number >= 0, got -1.0"),
        ({"m": {"input": math.nan}}, "prices['m'].input: expected a finite number, got nan"),
        ({"m": {"input": 1, "extra": 2}}, "prices['m']: expected known fields only; unknown: extra"),
        ([1], "prices: expected a mapping"),
    ],
)
def test_bad_prices_name_the_key(raw: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _options({"prices": raw})
    assert str(info.value) == f"Invalid [providers.openai.config]: {message}"


# -- options ---------------------------------------------------------------------------------------


def _options(config: dict | None = None, env: dict | None = None, **kw: object) -> OpenAIOptions:
    return OpenAIOptions.from_config(ProviderConfig(provider="openai", config=config or {}, **kw), env=env or {})


def test_options_defaults_and_zero_temperature() -> None:
    opts = _options()
    assert opts.base_url == DEFAULT_BASE_URL
    assert opts.api_key.env == "OPENAI_API_KEY"
    assert opts.timeout_s == 60.0 and opts.chat_model == "gpt-4"
    assert _options({"temperature": 0}).temperature == 0.0  # 0 is a value, not "unset"


def test_options_base_url_precedence() -> None:
    env = {"OPENAI_BASE_URL": "http://env.example/v1"}
    assert _options(env=env).base_url == "http://env.example/v1"
    assert _options({"base_url": "http://cfg.example/v1/"}, env=env).base_url == "http://cfg.example/v1"
    assert _options({"base_url": "http://cfg.example/v1"}, env=env, endpoint="http://ep.example/v1").base_url == (
        "http://ep.example/v1"
    )


@pytest.mark.parametrize(
    ("kw", "env", "where"),
    [
        ({"endpoint": "ftp://ep.example/?key=sk-in-url-1"}, {}, "[providers.openai] endpoint"),
        ({}, {"OPENAI_BASE_URL": "env.example/v1?key=sk-in-url-1"}, "OPENAI_BASE_URL"),
    ],
)
def test_a_bad_base_url_gets_the_shared_message(kw: dict, env: dict, where: str) -> None:
    """The same helper and message as every HTTP provider (``hotcrm_ai.base_url``)."""
    with pytest.raises(ConfigError) as info:
        _options(env=env, **kw)
    assert (
        str(info.value)
        == f"{where}: expected an http(s) URL such as {DEFAULT_BASE_URL}, got a value without http(s)://"
    )


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"temperature": 3}, r"config\]: temperature: expected a number >= 0 and <= 2"),
        ({"temperature": "hot"}, r"config\]: temperature: expected a number"),
        ({"temperature": True}, r"config\]: temperature: expected a number"),
        ({"max_tokens": 0}, r"config\]: max_tokens: expected an integer >= 1"),
        ({"max_tokens": 1.5}, r"config\]: max_tokens: expected an integer"),
        ({"timeout": math.inf}, r"config\]: timeout: expected a finite number"),
        ({"logprobs": "yes"}, r"config\]: logprobs: expected one of True, False, 'auto'"),
        ({"logprobs": 1}, r"config\]: logprobs: expected one of"),
        ({"base_url": "ftp://x"}, r"config\]: base_url: expected an http\(s\) URL"),
        ({"embedding_batch_size": 5000}, r"config\]: embedding_batch_size: expected an integer >= 1 and <= 2048"),
        ({"temprature": 0.1}, r"\[providers.openai.config\] unknown key 'temprature'; did you mean `temperature`\?"),
    ],
)
def test_bad_options_name_the_key(config: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        _options(config)


def test_model_parameters_override_provider_options() -> None:
    opts = _options({"model": "gpt-4o-mini", "temperature": 0.7})
    model = ModelConfig(
        id="m", name="m", type="nlp", provider="openai", parameters={"temperature": 0, "model": "gpt-4"}
    )
    call = opts.for_model(model)
    assert call.model == "gpt-4" and call.temperature == 0.0
    timed = ModelConfig(id="t", name="t", type="nlp", provider="openai", timeout_s=2.5)
    assert opts.for_model(timed).timeout_s == 2.5
    bad = ModelConfig(id="b", name="b", type="nlp", provider="openai", parameters={"max_tokens": -1})
    with pytest.raises(ConfigError, match=r"\[models\.b\.parameters\]: max_tokens: expected an integer >= 1"):
        opts.for_model(bad)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"temprature": 0.2}, "[models.m.parameters] unknown key 'temprature'; did you mean `temperature`?"),
        ({"max_token": 5}, "[models.m.parameters] unknown key 'max_token'; did you mean `max_tokens`?"),
        ({"temperature": "warm"}, "Invalid [models.m.parameters]: temperature: expected a number, got str"),
        ({"strict": 1}, "Invalid [models.m.parameters]: strict: expected true or false, got int"),
        ({"logprobs": "yes"}, "Invalid [models.m.parameters]: logprobs: expected one of True, False, 'auto'"),
        ({"template": "poetry"}, "Invalid [models.m.parameters]: template: expected one of 'sentiment'"),
        ({"user_template": "{a[0]}"}, "Invalid [models.m.parameters]: user_template: expected placeholders"),
    ],
)
def test_model_parameters_are_declared_options(parameters: dict, message: str) -> None:
    model = ModelConfig(id="m", name="m", type="nlp", provider="openai", parameters=parameters)
    with pytest.raises(ConfigError) as info:
        _options().for_model(model)
    assert str(info.value).startswith(message)
    example = ModelConfig(id="e", name="e", type="nlp", provider="openai", parameters={"example": {"text": "hi"}})
    assert _options().for_model(example).model == "gpt-4"  # the demo's input, read by the core


# -- prompts ---------------------------------------------------------------------------------------


def _model(model_id: str, **kw: object) -> ModelConfig:
    return ModelConfig(id=model_id, name=model_id, type=kw.pop("type", "nlp"), provider="openai", **kw)  # type: ignore[arg-type]


def test_template_selection_by_parameter_then_id() -> None:
    assert prompts.select_template(_model("sentiment-analysis-llm")).name == "sentiment"
    assert prompts.select_template(_model("lead-scoring-gpt", type="classification")).name == "lead-scoring"
    assert prompts.select_template(_model("churn-llm")).name == "generic"
    assert prompts.select_template(_model("x", parameters={"template": "sentiment"})).name == "sentiment"
    with pytest.raises(ConfigError, match=r"parameters\.template"):
        prompts.select_template(_model("x", parameters={"template": "poetry"}))


def test_render_placeholders_and_missing_features() -> None:
    text = prompts.render("Deal {name} worth {amount} {{literal}}\n{features}", {"name": "Acme", "amount": 1200})
    assert text.startswith("Deal Acme worth 1200 {literal}\n{")
    assert '"amount": 1200' in text
    with pytest.raises(ValidationError) as info:
        prompts.render("{who} and {what}", {"who": "x"})
    assert info.value.errors == [FieldError(field="features.what", expected="a value (the prompt template uses it)")]
    with pytest.raises(ConfigError, match="placeholder"):
        prompts.select_template(_model("x", parameters={"user_template": "{a[0]} {}"}))


def test_values_are_not_reinterpreted_as_templates() -> None:
    assert prompts.render("{text}", {"text": "{features} {__class__}"}) == "{features} {__class__}"


# -- schemas ---------------------------------------------------------------------------------------


def test_shorthand_output_becomes_closed_object_schema() -> None:
    built = schema.build_schema(
        {"churn": "boolean", "risk": {"type": "number", "minimum": 0, "maximum": 1}}, model_id="m"
    )
    assert built["required"] == ["churn", "risk"] and built["additionalProperties"] is False
    strict, ok = schema.strict_variant(built)
    assert ok and strict == built
    loose, ok = schema.strict_variant({"type": "object", "properties": {"a": {"type": "string"}}})
    assert not ok and loose["additionalProperties"] is False


@pytest.mark.parametrize(
    "output",
    [
        {"x": "decimal"},
        {"x": 3},
        {"type": "object", "properties": {}},
        {"type": "object", "properties": {"a": {"type": 5}}},
    ],
)
def test_bad_output_declarations_are_config_errors(output: dict) -> None:
    with pytest.raises(ConfigError, match="model m: output"):
        schema.build_schema(output, model_id="m")


def test_answers_are_validated_field_by_field() -> None:
    s = prompts.SENTIMENT.schema
    assert s is not None
    schema.validate_answer({"sentiment": "positive", "score": 0.9}, s)
    with pytest.raises(ProviderResponseError) as info:
        schema.validate_answer({"sentiment": "ecstatic", "score": 1.7, "extra": 1}, s)
    message = str(info.value)
    assert "answer.sentiment: expected one of" in message
    assert "answer.score: expected <= 1, got 1.7" in message
    assert "no fields beyond score, sentiment" in message
    with pytest.raises(ProviderResponseError, match="required"):
        schema.validate_answer({"sentiment": "neutral"}, s)


@pytest.mark.parametrize("content", ["", "not json", '{"score": NaN}', '{"a": 1'])
def test_unparsable_content_is_a_response_error(content: str) -> None:
    with pytest.raises(ProviderResponseError):
        schema.parse_answer(content, finish_reason="stop")


def test_truncated_reply_says_so() -> None:
    with pytest.raises(ProviderResponseError, match="max_tokens"):
        schema.parse_answer('{"sentiment": "pos', finish_reason="length")


# -- confidence ------------------------------------------------------------------------------------


def test_confidence_from_answer_scales_fractions() -> None:
    s = {"properties": {"confidence": {"type": "number", "maximum": 1}}}
    assert from_answer({"confidence": 0.8}, "confidence", s).value == pytest.approx(80)  # type: ignore[union-attr]
    assert from_answer({"confidence": 72}, "confidence", None).value == 72  # type: ignore[union-attr]
    assert from_answer({"score": 1}, "confidence", None) is None


def test_confidence_from_logprobs_uses_the_deciding_field() -> None:
    tokens = [
        {"token": '{"', "logprob": -0.001},
        {"token": "sentiment", "logprob": -0.001},
        {"token": '":"', "logprob": -0.001},
        {"token": "posit", "logprob": math.log(0.9)},
        {"token": "ive", "logprob": math.log(0.5)},
        {"token": '"}', "logprob": -0.001},
    ]
    conf = from_logprobs(tokens, "sentiment")
    assert conf is not None and conf.source == "logprobs" and conf.detail == "field:sentiment"
    assert conf.value == pytest.approx(45.0)
    mean = from_logprobs(tokens, None)
    assert mean is not None and mean.detail == "mean_token" and 0 < mean.value < 100
    assert from_logprobs([], "sentiment") is None
