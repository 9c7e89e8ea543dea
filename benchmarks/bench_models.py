"""Lead scoring serving speed: the custom provider (numpy) vs scikit-learn's predict_proba.

Both sides start from the same feature rows (dicts, as the prediction service hands them over) and
end with probabilities from the same coefficients:

- provider: ``CustomProvider.batch_predict`` / ``predict`` (input checks, encoding, outputs included);
- scikit-learn: the equivalent model as scikit-learn serves it, a ``Pipeline`` of a
  ``ColumnTransformer`` (``OneHotEncoder`` with the training categories; the numeric columns computed
  by a ``FunctionTransformer``) and a ``LogisticRegression`` carrying our coefficients, fed a pandas
  DataFrame of the rows. Its probabilities are checked equal to ours before timing.

Also printed, for transparency: ``predict_proba`` alone on rows already encoded (the bare matrix
product, no input handling at all), which no real caller gets.
Goals: batch throughput >= 1.0x, single-row latency >= 3x faster.

    python benchmarks/bench_models.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from hotcrm_ai.types import PredictionInput, ProviderConfig
from hotcrm_ai_plugins.custom import CustomProvider
from hotcrm_ai_plugins.models import default_models


def timeit(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds per call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sklearn_pipeline(runner: Any, sample: pd.DataFrame) -> Pipeline:
    enc = runner.encoder
    cats = [f for f in enc.fields if f["kind"] == "category"]
    nums = [f for f in enc.fields if f["kind"] == "number"]
    num_cols = [c for c in enc.columns if c["kind"] != "onehot"]

    def numeric_block(frame: pd.DataFrame) -> np.ndarray:
        values = {f["name"]: np.clip(frame[f["name"]].to_numpy(float), f["train_min"], f["train_max"]) for f in nums}
        return np.column_stack([enc._numeric_column(c, values[c["field"]]) for c in num_cols])

    onehot = OneHotEncoder(
        categories=[
            [c["value"] for c in enc.columns if c["kind"] == "onehot" and c["field"] == f["name"]] for f in cats
        ],
        handle_unknown="ignore",
        sparse_output=False,
    )
    pre = ColumnTransformer(
        [
            ("cat", onehot, [f["name"] for f in cats]),
            ("num", FunctionTransformer(numeric_block), [f["name"] for f in nums]),
        ]
    )
    pre.fit(sample)
    lr = LogisticRegression()
    lr.coef_ = runner.coef.reshape(1, -1)
    lr.intercept_ = np.array([runner.intercept])
    lr.classes_ = np.array([0, 1])
    return Pipeline([("encode", pre), ("model", lr)])


def main() -> None:
    model = next(m for m in default_models() if m.id == "lead-scoring-v1")
    provider = CustomProvider(ProviderConfig("custom"))
    runner = provider.runner(model)
    rng = np.random.default_rng(0)
    background = [dict(r) for r in model.background]
    rows = [background[i] for i in rng.integers(0, len(background), 10_000)]
    inputs = [PredictionInput(r) for r in rows]
    columns = [f["name"] for f in runner.encoder.fields]
    pipe = sklearn_pipeline(runner, pd.DataFrame(background, columns=columns))

    def sk_batch() -> np.ndarray:
        return pipe.predict_proba(pd.DataFrame(rows, columns=columns))[:, 1]

    ours = [o.prediction["probability"] for o in provider.batch_predict(model, inputs)]
    assert np.allclose(sk_batch(), ours, atol=1e-6), "the sklearn pipeline must be the same model"

    n = len(rows)
    t_ours = timeit(lambda: provider.batch_predict(model, inputs), 5)
    t_sk = timeit(sk_batch, 5)
    x = runner.encoder.encode(rows)
    t_bare = timeit(lambda: pipe.named_steps["model"].predict_proba(x), 5)
    print(
        f"batch of {n:,} rows: provider {n / t_ours:,.0f} rows/s | sklearn pipeline {n / t_sk:,.0f} rows/s "
        f"| sklearn predict_proba on pre-encoded rows {n / t_bare:,.0f} rows/s"
    )
    print(
        f"batch throughput ratio provider/sklearn pipeline: {t_sk / t_ours:.2f}x (goal >= 1.0x); "
        f"vs bare predict_proba: {t_bare / t_ours:.2f}x"
    )

    one, row = inputs[0], rows[0]
    x1 = runner.encoder.encode([row])
    t1_ours = timeit(lambda: provider.predict(model, one), 3000)
    t1_sk = timeit(lambda: pipe.predict_proba(pd.DataFrame([row], columns=columns)), 500)
    t1_bare = timeit(lambda: pipe.named_steps["model"].predict_proba(x1), 3000)
    print(
        f"single row: provider {t1_ours * 1e6:.0f} us | sklearn pipeline {t1_sk * 1e6:.0f} us "
        f"| sklearn predict_proba on a pre-encoded row {t1_bare * 1e6:.0f} us"
    )
    print(
        f"single-row latency ratio sklearn pipeline/provider: {t1_sk / t1_ours:.2f}x faster (goal >= 3x); "
        f"vs bare predict_proba: {t1_bare / t1_ours:.2f}x"
    )


if __name__ == "__main__":
    main()
