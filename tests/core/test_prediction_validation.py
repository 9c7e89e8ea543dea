"""Feature validation: every bad field listed with what was expected; hypothesis never gets past it."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.providers import LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud, FeatureSpec, ModelConfig, Settings
from hotcrm_ai.errors import ValidationError
from hotcrm_ai.prediction.validation import validate_features
from hotcrm_ai.types import PredictionInput, PredictionOutput, ProviderConfig

MODEL = ModelConfig(
    id="m",
    name="M",
    type="classification",
    provider="p",
    features=(
        FeatureSpec(name="age", dtype="integer", minimum=0, maximum=130),
        FeatureSpec(name="score", dtype="number"),
        FeatureSpec(name="job", dtype="string", choices=("admin.", "technician")),
        FeatureSpec(name="vip", dtype="boolean", required=False, default=False),
        FeatureSpec(name="history", dtype="array", items="number", required=False),
        FeatureSpec(name="note", dtype="string", required=False, max_length=10),
    ),
)
GOOD = {"age": 40, "score": 1.5, "job": "admin."}


def test_good_input_gets_defaults() -> None:
    assert validate_features(MODEL, GOOD) == {**GOOD, "vip": False}


def test_every_bad_field_is_listed() -> None:
    with pytest.raises(ValidationError) as info:
        validate_features(MODEL, {"age": -1, "score": "high", "job": "pilot", "extra": 1, "history": [1, "x"]})
    fields = {e.field: e for e in info.value.errors}
    assert set(fields) == {"age", "score", "job", "extra", "history"}
    assert fields["age"].expected == "a value >= 0"
    assert fields["score"].expected == "a number"
    assert "one of 'admin.', 'technician'" in fields["job"].expected
    assert fields["extra"].expected.startswith("a known feature (") and fields["extra"].got == "an unknown field"
    assert "item 1" in fields["history"].expected
    assert "age: expected a value >= 0, got int -1" in str(info.value)


def test_unknown_field_is_caught_even_when_defaults_fill_the_count() -> None:
    with pytest.raises(ValidationError, match="extra: expected a known feature"):
        validate_features(MODEL, {**GOOD, "extra": 1})  # vip's default would make the counts match


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused(bad: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        validate_features(MODEL, {**GOOD, "score": bad})


def test_missing_required_and_wrong_container() -> None:
    with pytest.raises(ValidationError, match=r"age: expected a value \(integer\); the field is required"):
        validate_features(MODEL, {"score": 1.0, "job": "admin."})
    with pytest.raises(ValidationError, match="features: expected an object"):
        validate_features(MODEL, [1, 2, 3])  # type: ignore[arg-type]


def test_types_are_strict() -> None:
    with pytest.raises(ValidationError, match="age: expected an integer"):
        validate_features(MODEL, {**GOOD, "age": 40.5})
    with pytest.raises(ValidationError, match="score: expected a number"):
        validate_features(MODEL, {**GOOD, "score": True})
    assert validate_features(MODEL, {**GOOD, "age": 40.0})["age"] == 40.0
    with pytest.raises(ValidationError, match="note: expected a length of at most 10"):
        validate_features(MODEL, {**GOOD, "note": "x" * 11})


def test_schemaless_models_accept_any_json_but_not_nan() -> None:
    free = ModelConfig(id="free", name="F", type="nlp", provider="p")
    assert validate_features(free, {"text": "héllo ✓", "n": [1, {"a": None}]})["text"] == "héllo ✓"
    with pytest.raises(ValidationError, match="finite"):
        validate_features(free, {"deep": {"x": [math.nan]}})
    with pytest.raises(ValidationError, match="JSON value"):
        validate_features(free, {"obj": object()})


def test_huge_string_refused() -> None:
    free = ModelConfig(id="free", name="F", type="nlp", provider="p")
    with pytest.raises(ValidationError, match="at most"):
        validate_features(free, {"text": "x" * 1_000_001})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["age", "score", "job", "vip", "history", "note", "zzz"]), json_values))
def test_any_payload_is_valid_or_a_validation_error(payload: dict) -> None:
    try:
        out = validate_features(MODEL, payload)
    except ValidationError as exc:
        assert exc.errors and all(e.field and e.expected for e in exc.errors)
    else:
        assert set(out) <= {f.name for f in MODEL.features}
        assert isinstance(out["score"], (int, float)) and math.isfinite(out["score"])


def test_integers_beyond_the_float_range_are_refused_not_crashing() -> None:
    huge = 10**5000  # its repr is refused by Python; math.isfinite would raise OverflowError
    for payload in ({**GOOD, "age": huge}, {**GOOD, "score": -(10**400)}, {**GOOD, "history": [1, 10**400]}):
        with pytest.raises(ValidationError, match="finite number") as info:
            validate_features(MODEL, payload)
        assert len(str(info.value)) < 600
    free = ModelConfig(id="free", name="F", type="nlp", provider="p")
    with pytest.raises(ValidationError, match="finite"):
        validate_features(free, {"n": [huge]})


class _Recording(LogitProvider):
    """The tiny logistic provider, keeping every input it was handed."""

    seen: list[PredictionInput]

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.seen = []

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        self.seen.append(inp)
        return super().predict(model, inp)

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        self.seen.extend(inputs)
        return super().batch_predict(model, inputs)


def test_the_service_hands_providers_validated_features_marked_as_such() -> None:
    ai = AICloud(
        Settings(models=(logit_model(),)), plugins=[Plugin({"test-logit": _Recording})], load_entrypoints=False
    )
    row = {"x1": 1, "x2": 2.0, "x3": 3.0}
    ai.predict("logit-v1", row, use_cache=False)
    ai.batch_predict("logit-v1", [row, {**row, "x1": 4}], use_cache=False)
    provider = ai.provider_for("logit-v1")
    seen = provider.seen  # type: ignore[attr-defined]
    assert len(seen) == 3 and all(inp.validated for inp in seen)
    assert PredictionInput(features=row).validated is False  # a direct caller's input is not trusted
