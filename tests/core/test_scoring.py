"""Columnar scoring in core: ``AICloud.score`` against ``predict`` row by row (values, messages, A/B
variants), the row-only provider path, chunk monitor records, and ``batch_predict``'s columnar path."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from support.providers import WEIGHTS, LogitProvider, Plugin, logit_model

from hotcrm_ai import AICloud, BaseMLProvider, ModelConfig, PredictionInput, PredictionOutput, ProviderConfig
from hotcrm_ai.errors import ValidationError
from hotcrm_ai.scoring.output import ColumnOutput
from hotcrm_ai.scoring.validate import ValidatedColumns, validated_for
from hotcrm_ai.types import ABTest, FeatureSpec

NAMES = ("x1", "x2", "x3")


class ColumnLogit(LogitProvider):
    """The same logistic model as ``LogitProvider``, answering whole columns in one numpy pass."""

    name = "test-columns"

    def predict_columns(self, model: ModelConfig, columns: Mapping[str, Any]) -> ColumnOutput:
        x = np.column_stack([np.asarray(columns[n], dtype=np.float64) for n in NAMES])
        p = 1.0 / (1.0 + np.exp(-(x @ WEIGHTS + self.bias)))
        return ColumnOutput(prediction={"probability": p}, confidence=np.abs(p - 0.5) * 200)


def cloud(*models: ModelConfig) -> AICloud:
    plugin = Plugin({"test-logit": LogitProvider, "test-columns": ColumnLogit}, list(models))
    return AICloud(plugins=[plugin], load_entrypoints=False)


ROWS: list[dict[str, Any]] = [
    {"x1": 0.5, "x2": -1.0, "x3": 2.0},
    {"x1": 1, "x2": 2, "x3": 3},  # integers
    {"x1": "a", "x2": 0.0, "x3": 1.0},  # wrong type
    {"x1": float("nan"), "x2": 0.0, "x3": 1.0},  # not finite
    {"x1": 2e6, "x2": 0.0, "x3": 1.0},  # above the maximum
    {"x2": 0.0, "x3": 1.0},  # x1 missing
    {"x1": 0.1, "x2": 0.2, "x3": 0.3, "extra": 1},  # unknown field
    {"x1": True, "x2": 0.0, "x3": 1.0},  # a boolean is not a number
    {"x1": -0.25, "x2": 4.0, "x3": -3.5},
]


def as_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    names = list(dict.fromkeys(k for r in rows for k in r))
    return {k: [r.get(k) for r in rows] for k in names}


def assert_rows_equal_predict(
    ai: AICloud,
    model_id: str,
    table: pa.Table,
    rows: Sequence[Mapping[str, Any]],
    context: Mapping[str, Any] | None = None,
) -> int:
    """Each output row is what ``predict`` answers for that row (or its error message); returns the
    number of refused rows."""
    refused = 0
    out = table.to_pylist()
    assert len(out) == len(rows)
    for got, row in zip(out, rows, strict=True):
        try:
            want = ai.predict(model_id, row, context=context, use_cache=False)
        except ValidationError as exc:
            refused += 1
            assert got["error"] == str(exc)
            assert got["probability"] is None and got["confidence"] is None and got["model_version"] is None
            continue
        assert got["error"] is None
        assert math.isclose(got["probability"], want.prediction["probability"], rel_tol=0, abs_tol=1e-9)
        assert math.isclose(got["confidence"], want.confidence, rel_tol=0, abs_tol=1e-9)
        assert (got["model_id"], got["model_version"], got["variant"]) == (
            want.model_id,
            want.model_version,
            want.variant,
        )
    return refused


@pytest.mark.parametrize("provider", ["test-columns", "test-logit"])
def test_score_equals_predict_row_by_row_with_invalid_rows(provider: str) -> None:
    with cloud(logit_model(provider=provider)) as ai:
        table = ai.score("logit-v1", as_columns(ROWS))
        assert assert_rows_equal_predict(ai, "logit-v1", table, ROWS) == 6
        assert table.column_names == ["probability", "confidence", "model_id", "model_version", "variant", "error"]


class Witness(ColumnLogit):
    """Remembers whether what reached it was marked validated: columns (``ValidatedColumns`` for the
    model) or rows (``PredictionInput.validated``)."""

    name = "test-witness"

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.seen: list[tuple[str, bool, int]] = []

    def predict_columns(self, model: ModelConfig, columns: Mapping[str, Any]) -> ColumnOutput:
        self.seen.append(("columns", validated_for(columns, model), len(columns["x1"])))
        return super().predict_columns(model, columns)

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        self.seen.append(("rows", all(i.validated for i in inputs), len(inputs)))
        return super().batch_predict(model, inputs)


class RowWitness(Witness):
    name = "test-row-witness"
    predict_columns = BaseMLProvider.predict_columns  # type: ignore[assignment]  # no columnar path


@pytest.mark.parametrize(("provider", "path"), [("test-witness", "columns"), ("test-row-witness", "rows")])
def test_the_scoring_path_validates_once_and_says_so(provider: str, path: str) -> None:
    plugin = Plugin({provider: Witness if path == "columns" else RowWitness}, [logit_model(provider=provider)])
    with AICloud(plugins=[plugin], load_entrypoints=False) as ai:
        table = ai.score("logit-v1", as_columns(ROWS))
        assert [(kind, validated) for kind, validated, _ in plugin.instances[0].seen] == [(path, True)]  # type: ignore[attr-defined]
        assert plugin.instances[0].seen[0][2] == len(ROWS) - 6  # type: ignore[attr-defined]  # the valid rows only
        assert assert_rows_equal_predict(ai, "logit-v1", table, ROWS) == 6  # each refused row names its field
        assert "x1: expected a number, got str" in table.column("error")[2].as_py()
    direct = Witness(ProviderConfig("test-witness"))
    model = logit_model(provider="test-witness")
    direct.predict_columns(model, as_columns(ROWS[:2]))
    direct.predict_columns(model, ValidatedColumns(as_columns(ROWS[:2]), "other-v1@1.0.0"))
    assert [validated for _, validated, _ in direct.seen] == [False, False]  # a direct call, another model's


def test_inputs_arrow_table_record_batch_and_numpy_columns_agree() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 3))
    with cloud(logit_model(provider="test-columns")) as ai:
        by_mapping = ai.score("logit-v1", {n: x[:, j] for j, n in enumerate(NAMES)}, chunk_rows=64)
        arrow = pa.table({n: x[:, j] for j, n in enumerate(NAMES)})
        assert ai.score("logit-v1", arrow).equals(by_mapping)
        assert ai.score("logit-v1", arrow.to_batches()[0]).equals(by_mapping)
        expected = 1.0 / (1.0 + np.exp(-(x @ WEIGHTS)))
        assert np.allclose(by_mapping.column("probability").to_numpy(), expected, rtol=0, atol=1e-12)


def test_arrow_nulls_are_missing_fields_and_defaults_fill_them() -> None:
    feats = (*logit_model().features[:2], FeatureSpec(name="x3", dtype="number", required=False, default=0.5))
    model = ModelConfig(id="opt-v1", name="opt", type="classification", provider="test-columns", features=feats)
    rows = [{"x1": 1.0, "x2": 2.0, "x3": None}, {"x1": None, "x2": 2.0, "x3": 1.0}]
    with cloud(model) as ai:
        table = ai.score("opt-v1", pa.table({k: pa.array(v, pa.float64()) for k, v in as_columns(rows).items()}))
        plain = [{k: v for k, v in r.items() if v is not None} for r in rows]
        assert assert_rows_equal_predict(ai, "opt-v1", table, plain) == 1


def test_sticky_ab_variant_per_row_matches_predict() -> None:
    champion = logit_model("champ-v1", provider="test-columns")
    challenger = logit_model(
        "chal-v1",
        provider="test-columns",
        ab_test=ABTest(enabled=True, traffic_percentage=40, champion_model_id="champ-v1"),
    )
    rng = np.random.default_rng(5)
    rows = [dict(zip(NAMES, r.tolist(), strict=True)) for r in rng.normal(size=(200, 3))]
    subjects = [f"customer-{i}" for i in range(200)]
    with cloud(champion, challenger) as ai:
        table = ai.score(
            "chal-v1", {**as_columns(rows), "customer": subjects}, subject="customer", keep=("customer",), chunk_rows=50
        )
        out = table.to_pylist()
        variants = {r["variant"] for r in out}
        assert variants == {"champion", "challenger"}
        for got, row, subject in zip(out, rows, subjects, strict=True):
            want = ai.predict("chal-v1", row, context={"subject": subject}, use_cache=False)
            assert (got["variant"], got["model_id"], got["customer"]) == (want.variant, want.model_id, subject)
            assert math.isclose(got["probability"], want.prediction["probability"], abs_tol=1e-9)
        # without a subject, tenant + features pick the variant, as in predict
        table = ai.score("chal-v1", as_columns(rows), context={"tenant": "acme"})
        assert assert_rows_equal_predict(ai, "chal-v1", table, rows, context={"tenant": "acme"}) == 0


def test_one_monitor_record_per_chunk_and_not_per_row() -> None:
    with cloud(logit_model(provider="test-columns")) as ai:
        rows = ROWS * 10  # 90 rows, 60 refused
        ai.score("logit-v1", as_columns(rows), chunk_rows=40, context={"tenant": "acme"})
        records = ai.monitor.chunks("logit-v1")
        assert sorted(r.rows for r in records) == [10, 40, 40]  # chunks run on a thread pool
        assert sum(r.failed for r in records) == 60
        assert all(r.tenant == "acme" and r.latency_ms > 0 for r in records)
        assert sum(r.error_types.get("ValidationError", 0) for r in records) == 60
        assert ai.monitor.stats("logit-v1") is None  # no per-row events


def test_batch_predict_uses_columns_when_uncached_and_equals_the_row_path() -> None:
    rng = np.random.default_rng(9)
    rows: list[Any] = [dict(zip(NAMES, r.tolist(), strict=True)) for r in rng.normal(size=(300, 3))]
    rows[7] = {"x1": "bad", "x2": 0.0, "x3": 0.0}
    with cloud(logit_model(provider="test-columns"), logit_model("rows-v1", provider="test-logit")) as ai:
        fast = ai.batch_predict("logit-v1", rows, use_cache=False)
        slow = ai.batch_predict("rows-v1", rows, use_cache=False)
        provider = ai.provider_for("rows-v1")
        assert isinstance(provider, LogitProvider) and provider.batch_calls >= 1
        for a, b in zip(fast, slow, strict=True):
            assert a.ok == b.ok
            if a.ok:
                assert math.isclose(a.prediction["probability"], b.prediction["probability"], abs_tol=1e-12)
                assert (a.metadata, b.metadata) == ({"provider": "test-columns"}, {"provider": "test-logit"})
                assert a.prediction_id and a.prediction_id != b.prediction_id
            else:
                assert a.error is not None and b.error is not None
                assert a.error.message.replace("logit-v1", "rows-v1") == b.error.message
        assert ai.monitor.chunks("logit-v1") and ai.monitor.stats("logit-v1") is None


def test_bad_calls_are_typed_errors() -> None:
    with cloud(logit_model(provider="test-columns")) as ai:
        with pytest.raises(ValidationError, match="columns of equal length"):
            ai.score("logit-v1", {"x1": [1.0, 2.0], "x2": [1.0], "x3": [1.0, 2.0]})
        with pytest.raises(ValidationError, match="chunk_rows"):
            ai.score("logit-v1", as_columns(ROWS), chunk_rows=0)
        with pytest.raises(ValidationError, match="a pyarrow Table"):
            ai.score("logit-v1", [1, 2, 3])
        with pytest.raises(ValidationError, match="no such column"):
            ai.score("logit-v1", as_columns(ROWS), keep=("id",))
