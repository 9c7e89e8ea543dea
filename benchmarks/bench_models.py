"""Lead scoring serving speed: the custom provider (numpy) vs scikit-learn's predict_proba.

The baseline is a scikit-learn LogisticRegression given the very same coefficients, scoring the very
same rows in the same process. For a fair batch comparison sklearn gets the rows already encoded by
our encoder plus the encoding time (it needs the same one-hot/standardise step; a sklearn Pipeline
would do equivalent work). Goals: batch throughput >= 1.0x, single-row latency >= 3x faster.

    /work/venv/bin/python benchmarks/bench_models.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

from hotcrm_ai.types import PredictionInput, ProviderConfig
from hotcrm_ai_plugins.custom import CustomProvider
from hotcrm_ai_plugins.models import default_models


def timeit(fn, repeat: int) -> float:
    """Median seconds per call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    model = next(m for m in default_models() if m.id == "lead-scoring-v1")
    provider = CustomProvider(ProviderConfig("custom"))
    runner = provider.runner(model)
    lm = provider.linear_model(model)
    rng = np.random.default_rng(0)
    background = [dict(r) for r in model.background]
    rows = [background[i] for i in rng.integers(0, len(background), 10_000)]
    inputs = [PredictionInput(r) for r in rows]

    sk = LogisticRegression()
    sk.coef_ = lm.coef.reshape(1, -1)
    sk.intercept_ = np.array([lm.intercept])
    sk.classes_ = np.array([0, 1])
    x = lm.encode(rows)
    assert np.allclose(sk.predict_proba(x)[:, 1], [o.prediction["probability"] for o in provider.batch_predict(model, inputs)], atol=1e-6)

    ours_batch = timeit(lambda: provider.batch_predict(model, inputs), 5)
    sk_batch_model_only = timeit(lambda: sk.predict_proba(x), 5)
    sk_batch = timeit(lambda: sk.predict_proba(lm.encode(rows)), 5)
    n = len(rows)
    print(f"batch of {n}: provider {n / ours_batch:,.0f} rows/s; sklearn (encode + predict_proba) "
          f"{n / sk_batch:,.0f} rows/s; sklearn predict_proba alone {n / sk_batch_model_only:,.0f} rows/s")
    print(f"batch throughput ratio (provider / sklearn incl. encoding): {sk_batch / ours_batch:.2f}x (goal >= 1.0x)")

    one = inputs[0]
    x1 = lm.encode([rows[0]])
    ours_one = timeit(lambda: provider.predict(model, one), 2000)
    sk_one = timeit(lambda: sk.predict_proba(x1), 2000)
    sk_one_full = timeit(lambda: sk.predict_proba(lm.encode([rows[0]])), 2000)
    print(f"single row: provider {ours_one * 1e6:.1f} us; sklearn predict_proba on a pre-encoded row "
          f"{sk_one * 1e6:.1f} us; sklearn encode + predict_proba {sk_one_full * 1e6:.1f} us")
    print(f"single-row latency ratio (sklearn predict_proba / provider): {sk_one / ours_one:.2f}x (goal >= 3x)")
    _ = runner


if __name__ == "__main__":
    main()
