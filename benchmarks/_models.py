"""The numpy logistic model several benchmarks measure against raw numpy and scikit-learn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hotcrm_ai import BaseMLProvider, HealthReport, ModelConfig, PredictionInput, PredictionOutput

N_FEATURES = 20
NAMES = [f"f{i}" for i in range(N_FEATURES)]
RNG = np.random.default_rng(0)  # draws COEF first: benchmarks drawing data from it get the same data
COEF = RNG.normal(size=N_FEATURES)
INTERCEPT = -0.3


class NumpyLogit(BaseMLProvider):
    """Logistic regression on 20 features, vectorised: the kind of local model the custom provider serves."""

    name = "bench-numpy"
    native_batch = True

    def validate(self) -> bool:
        return True

    def _proba(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ COEF + INTERCEPT)))

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        return self.batch_predict(model, [inp])[0]

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        x = np.array([[i.features[n] for n in NAMES] for i in inputs], dtype=float)
        p = self._proba(x)
        conf = np.abs(p - 0.5) * 200
        return [PredictionOutput(prediction=float(pi), confidence=float(ci)) for pi, ci in zip(p, conf, strict=True)]

    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        return HealthReport(healthy=True, latency_ms=0.0)


class ColumnarNumpyLogit(NumpyLogit):
    """The same model with the columnar path ``AICloud.score`` uses."""

    def predict_columns(self, model: ModelConfig, columns: Mapping[str, Any]) -> Any:
        from hotcrm_ai.scoring.output import ColumnOutput

        z = np.full(len(columns[NAMES[0]]), INTERCEPT)
        for name, w in zip(NAMES, COEF, strict=True):
            z += w * np.asarray(columns[name], dtype=np.float64)
        p = 1.0 / (1.0 + np.exp(-z))
        return ColumnOutput(prediction={"prediction": p}, confidence=np.abs(p - 0.5) * 200, scalar=True)
