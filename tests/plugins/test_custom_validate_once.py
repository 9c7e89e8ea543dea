"""Validation happens once: the custom provider compares an artifact's input fields with the model's
schema when the runner loads, and rows the core validated skip the runner's own checks."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pytest
from support.models import models, provider

from hotcrm_ai import AICloud, Settings
from hotcrm_ai.errors import ConfigError, ValidationError
from hotcrm_ai.scoring.validate import ValidatedColumns
from hotcrm_ai.types import FeatureSpec, ModelConfig, PredictionInput
from hotcrm_ai_plugins.models.examples import EXAMPLES
from hotcrm_ai_plugins.runners.tabular import ArtifactSchemaError, _Unfit

LEAD, CHURN = "lead-scoring-v1", "churn-prediction-v1"


def _with_features(model: ModelConfig, change: dict[str, dict[str, Any] | None], **kw: Any) -> ModelConfig:
    """``model`` with some feature specs changed (``None`` drops the feature)."""
    features = []
    for spec in model.features:
        if spec.name not in change:
            features.append(spec)
        elif change[spec.name] is not None:
            features.append(attrs.evolve(spec, **change[spec.name]))  # type: ignore[arg-type]
    return attrs.evolve(model, features=tuple(features), **kw)


@pytest.mark.parametrize(
    ("model_id", "change", "field", "expected"),
    [
        (CHURN, {"tenure": None}, "tenure", "a feature of the model (the artifact uses it), got not declared"),
        (CHURN, {"tenure": {"minimum": None}}, "tenure", "minimum >= 0 (the artifact's bound), got None"),
        (CHURN, {"tenure": {"minimum": -5}}, "tenure", "minimum >= 0 (the artifact's bound), got -5"),
        (CHURN, {"tenure": {"dtype": "number"}}, "tenure", "dtype 'integer', got 'number'"),
        (CHURN, {"senior_citizen": {"dtype": "string", "choices": None}}, "senior_citizen", "dtype 'integer'"),
        (LEAD, {"job": {"dtype": "number", "choices": None}}, "job", "dtype 'string' (the artifact's categories)"),
        (LEAD, {"age": {"required": False}}, "age", "required or with a default (the artifact needs a value)"),
    ],
)
def test_an_artifact_schema_mismatch_is_refused_at_load_naming_the_field(
    model_id: str, change: dict[str, Any], field: str, expected: str
) -> None:
    model = _with_features(models()[model_id], change)
    p = provider()
    with pytest.raises(ArtifactSchemaError) as info:
        p.runner(model)
    assert isinstance(info.value, ConfigError) and info.value.model_id == model_id
    assert [e.field for e in info.value.mismatches] == [field]
    assert f"{field}: expected {expected}" in str(info.value)
    assert f"features of model {model_id} vs artifact" in str(info.value)
    with pytest.raises(ArtifactSchemaError):  # the same answer for every call, not a half-loaded runner
        p.predict(model, PredictionInput(dict(EXAMPLES[model_id]), validated=True))


def test_a_mismatch_of_one_model_does_not_taint_another_sharing_the_runner() -> None:
    p, good = provider(), models()[CHURN]
    bad = _with_features(good, {"tenure": {"minimum": None}}, id="churn-loose")
    assert p.predict(good, PredictionInput(dict(EXAMPLES[CHURN]), validated=True)).prediction
    with pytest.raises(ArtifactSchemaError, match="tenure"):
        p.runner(bad)
    assert p.runner(good) is not None


def test_validated_rows_skip_the_runners_checks_and_get_the_same_answers() -> None:
    p, m = provider(), models()[CHURN]
    rows = [dict(EXAMPLES[CHURN]), dict(EXAMPLES[CHURN], tenure=500), dict(EXAMPLES[CHURN], contract="Two year")]
    checked = p.batch_predict(m, [PredictionInput(r) for r in rows])
    trusted = p.batch_predict(m, [PredictionInput(r, validated=True) for r in rows])
    assert trusted == checked
    assert trusted[1].metadata["clipped"] == {"tenure": 500}  # clipping is encoding, not validation: kept


def test_a_direct_call_with_bad_input_is_still_refused_by_the_runner() -> None:
    p, m = provider(), models()[CHURN]
    bad = dict(EXAMPLES[CHURN], tenure=-3, monthly_charges="85.7")
    with pytest.raises(ValidationError) as info:
        p.predict(m, PredictionInput(bad))  # not validated: the runner checks every field
    assert {e.field for e in info.value.errors} == {"tenure", "monthly_charges"}
    schemaless = attrs.evolve(m, features=())  # no schema to trust: the runner checks even "validated" rows
    with pytest.raises(ValidationError, match="tenure"):
        p.predict(schemaless, PredictionInput(bad, validated=True))


def _columns(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows as the columns the scoring path builds: numbers as numpy arrays, the rest as lists."""
    out: dict[str, Any] = {}
    for name in rows[0]:
        col = [r[name] for r in rows]
        numeric = all(type(v) in (int, float) for v in col)
        out[name] = np.asarray(col, dtype=np.float64 if float in set(map(type, col)) else np.int64) if numeric else col
    return out


@pytest.mark.parametrize("model_id", [CHURN, LEAD])
def test_validated_columns_skip_the_runners_checks_and_get_the_same_answers(model_id: str) -> None:
    p, m = provider(), models()[model_id]
    example = dict(EXAMPLES[model_id])
    numeric = next(f.name for f in m.features if f.dtype in ("number", "integer") and f.maximum is f.choices is None)
    rows = [example, dict(example, **{numeric: 10**6})]  # the second is clipped: encoding, kept
    checked = p.predict_columns(m, _columns(rows))
    trusted = p.predict_columns(m, ValidatedColumns(_columns(rows), m.key))
    assert not checked.errors and trusted.notes == checked.notes and trusted.notes[1]["clipped"] == {numeric: 10**6}
    assert {k: list(v) for k, v in trusted.prediction.items()} == {k: list(v) for k, v in checked.prediction.items()}
    assert np.array_equal(trusted.confidence, checked.confidence)
    by_rows = p.batch_predict(m, [PredictionInput(r) for r in rows])
    assert [o.confidence for o in by_rows] == np.asarray(trusted.confidence).tolist()


def test_validated_columns_are_trusted_and_any_other_columns_are_checked_naming_row_and_field() -> None:
    p, m = provider(), models()[CHURN]
    rows = [dict(EXAMPLES[CHURN]), dict(EXAMPLES[CHURN], tenure=-3), dict(EXAMPLES[CHURN])]
    # the core would never mark this row valid; marked, the runner takes the marker's word (no second check)
    trusted = p.predict_columns(m, ValidatedColumns(_columns(rows), m.key))
    assert not trusted.errors and trusted.notes[1]["clipped"] == {"tenure": -3}
    schemaless = attrs.evolve(m, features=())  # no schema the runner accepted: checked despite the marker
    for model, columns in (
        (m, _columns(rows)),  # a direct call
        (m, ValidatedColumns(_columns(rows), "churn-other@1.0.0")),  # validated for another model
        (schemaless, ValidatedColumns(_columns(rows), schemaless.key)),
    ):
        out = p.predict_columns(model, columns)
        assert set(out.errors) == {1}
        error = out.errors[1]
        assert isinstance(error, ValidationError) and [e.field for e in error.errors] == ["tenure"]
        assert "tenure: expected an integer >= 0, got -3" in str(error)
        assert np.asarray(out.confidence)[[0, 2]].tolist() == [trusted.confidence[0], trusted.confidence[2]]


def test_through_score_a_bad_value_is_refused_once_naming_its_field() -> None:
    rows = [dict(EXAMPLES[CHURN]), dict(EXAMPLES[CHURN], tenure="12"), dict(EXAMPLES[CHURN], tenure=-3)]
    with AICloud(Settings(models=(models()[CHURN],)), load_entrypoints=True) as ai:
        table = ai.score(CHURN, {k: [r[k] for r in rows] for k in rows[0]}).to_pylist()
        single = ai.predict(CHURN, rows[0], use_cache=False)
    assert table[0]["error"] is None and table[0]["confidence"] == pytest.approx(single.confidence)
    assert "tenure: expected an integer, got str" in table[1]["error"]
    assert "tenure: expected a value >= 0, got int -3" in table[2]["error"]
    assert table[1]["risk"] is None and table[2]["risk"] is None


def test_through_the_cloud_an_unseen_category_is_refused_by_the_schema_once() -> None:
    model = models()[LEAD]
    with AICloud(Settings(models=(model,)), load_entrypoints=True) as ai:
        with pytest.raises(ValidationError) as info:
            ai.predict(LEAD, dict(EXAMPLES[LEAD], job="astronaut"), use_cache=False)
        assert [e.field for e in info.value.errors] == ["job"]
        loose = _with_features(model, {"job": {"choices": None}}, id="lead-open-jobs")
        ai.registry.register(loose, persist=False)
        answer = ai.predict("lead-open-jobs", dict(EXAMPLES[LEAD], job="astronaut"), use_cache=False)
        assert answer.error is None and answer.metadata["unseen"] == {"job": "astronaut"}


def test_feature_spec_evolve_helper_changes_only_the_named_fields() -> None:
    model = _with_features(models()[CHURN], {"tenure": {"maximum": 100}})
    tenure = model.feature("tenure")
    assert isinstance(tenure, FeatureSpec) and tenure.maximum == 100 and tenure.minimum == 0


@pytest.mark.parametrize("model_id", [LEAD, CHURN])
def test_one_validated_row_gets_exactly_the_answer_the_column_path_gives(model_id: str) -> None:
    """A single validated row is scored in plain Python (no numpy per field); its answer must be the
    one the column path gives the same row, bit for bit, and a row with something to note (clipped,
    unseen) must still get its notes."""
    p, m = provider(), models()[model_id]
    runner = p.runner(m)
    rng = np.random.default_rng(7)
    rows = [dict(r) for r in m.background]
    numbers = [f for f in m.features if f.dtype in ("number", "integer") and f.minimum is not None]
    for _ in range(200):  # values spread over each number's training range and its edges
        row = dict(rows[int(rng.integers(len(rows)))])
        for f in numbers:
            if rng.random() < 0.5:
                value = float(rng.choice([f.minimum, f.minimum + 1, rng.uniform(f.minimum, f.minimum + 50)]))
                row[f.name] = int(value) if f.dtype == "integer" else value
        rows.append(row)
    enc, python_path = runner.encoder, 0
    for r in rows:  # where the Python path applies, its log-odds are numpy's to the last bit
        logit = enc.logits(enc.values([r], checked=True)[0], 1, runner.intercept, runner._tables)[0]
        try:
            assert runner._row_logit(r) == logit
            python_path += 1
        except _Unfit:
            pass
    assert python_path >= len(m.background)
    fast = [runner.predict_batch([r], checked=True)[0] for r in rows]
    column = runner.predict_batch(rows, checked=True)
    assert fast == column
    assert sum(1 for out in column if "clipped" in out.metadata) > 0  # the notes went the column way
    assert all(a.metadata == b.metadata for a, b in zip(fast, column, strict=True))
