"""Prediction pipeline overhead (issue 3): single predictions, a 100,000-row batch, and a batch to a
remote provider stand-in with 20 ms latency, each against its obvious baseline in the same process."""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _timing import line, per_call_s

from hotcrm_ai import (
    AICloud,
    BaseMLProvider,
    FeatureSpec,
    HealthReport,
    ModelConfig,
    PredictionInput,
    PredictionOutput,
    ProviderConfig,
    ProviderSpec,
    hookimpl,
)
from hotcrm_ai.config import PredictionSettings, Settings

N_FEATURES = 20
NAMES = [f"f{i}" for i in range(N_FEATURES)]
RNG = np.random.default_rng(0)
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

    def health_check(self) -> HealthReport:
        return HealthReport(healthy=True, latency_ms=0.0)


class SlowRemote(BaseMLProvider):
    """Calls a local HTTP stand-in that answers after 20 ms (one request per row)."""

    name = "bench-remote"

    def validate(self) -> bool:
        return True

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        req = urllib.request.Request(
            self.config.endpoint or "",
            data=json.dumps(inp.features).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            body = json.loads(resp.read())
        return PredictionOutput(prediction=body["score"], confidence=50.0)

    def health_check(self) -> HealthReport:
        return HealthReport(healthy=True, latency_ms=0.0)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(0.020)
        payload = json.dumps({"score": sum(float(v) for v in body.values())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


class BenchPlugin:
    __name__ = "bench"

    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(ProviderSpec(name="bench-numpy", factory=NumpyLogit))
        register(ProviderSpec(name="bench-remote", factory=SlowRemote))

    @hookimpl
    def register_models(self, register: Any) -> None:
        feats = tuple(FeatureSpec(name=n, dtype="number") for n in NAMES)
        register(
            ModelConfig(id="bench-logit", name="bench", type="classification", provider="bench-numpy", features=feats)
        )
        register(
            ModelConfig(id="bench-remote", name="remote", type="regression", provider="bench-remote", cache_ttl_s=0)
        )


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    concurrency = 8
    settings = Settings(
        prediction=PredictionSettings(max_concurrency=concurrency),
        providers={
            "bench-remote": ProviderConfig(provider="bench-remote", endpoint=f"http://127.0.0.1:{server.server_port}/")
        },
    )
    ai = AICloud(settings, plugins=[BenchPlugin()], load_entrypoints=False)

    clf = LogisticRegression()
    clf.classes_ = np.array([0, 1])
    clf.coef_ = COEF.reshape(1, -1)
    clf.intercept_ = np.array([INTERCEPT])
    x1 = RNG.normal(size=(1, N_FEATURES))
    sk_single = per_call_s(lambda: clf.predict_proba(x1), number=2000)

    rows = [dict(zip(NAMES, r.tolist(), strict=True)) for r in RNG.normal(size=(20_000, N_FEATURES))]
    it = iter(range(10**9))

    def miss() -> None:
        ai.predict("bench-logit", rows[next(it) % len(rows)], context={"tenant": str(next(it))})

    ours_miss = per_call_s(miss, number=2000)
    hit_row = rows[0]
    ai.predict("bench-logit", hit_row)
    ours_hit = per_call_s(lambda: ai.predict("bench-logit", hit_row), number=5000)

    big = RNG.normal(size=(100_000, N_FEATURES))
    big_rows = [dict(zip(NAMES, r.tolist(), strict=True)) for r in big]
    raw = per_call_s(lambda: 1.0 / (1.0 + np.exp(-(big @ COEF + INTERCEPT))), number=20, repeat=5)
    start = time.perf_counter()
    out = ai.batch_predict("bench-logit", big_rows, use_cache=False)
    ours_batch = time.perf_counter() - start
    assert len(out) == 100_000 and all(r.ok for r in out[:100])

    remote_rows = [{"a": float(i), "b": 1.0} for i in range(256)]
    ai.batch_predict("bench-remote", remote_rows[:8])
    start = time.perf_counter()
    remote_out = ai.batch_predict("bench-remote", remote_rows)
    remote = time.perf_counter() - start
    assert all(r.ok for r in remote_out)
    ideal = 256 / concurrency * 0.020

    print("prediction pipeline (issue 3)")
    print(
        line(
            "single predict, cache miss, monitor on (us/call)",
            ours_miss * 1e6,
            sk_single * 1e6,
            "us",
            "<= 1.0x sklearn predict_proba",
        )
    )
    print(line("single predict, cache hit (us/call)", ours_hit * 1e6, sk_single * 1e6, "us", "<= 0.5x"))
    print(
        f"{'batch_predict 100,000 rows (throughput vs raw numpy)':<58} ours {100_000 / ours_batch:>12,.0f} rows/s "
        f"raw {100_000 / raw:>14,.0f} rows/s ratio {raw / ours_batch:>7.4f}x  (goal >= 0.7x)"
    )
    print(line("batch 256 rows, remote 20 ms/call, concurrency 8 (ms)", remote * 1000, ideal * 1000, "ms", "<= 1.5x"))
    ai.close()
    server.shutdown()


if __name__ == "__main__":
    main()
