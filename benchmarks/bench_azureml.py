"""Azure ML provider benchmarks: import cost, batch vs single scoring, by-name resolution cost.

Run: python benchmarks/bench_azureml.py [--rows 1000] [--repeat 3]

Everything runs against the local stand-ins in tests/support (loopback HTTP), so the numbers measure our
client-side overhead and the protocol's round trips, not Azure. Ratios are against an in-process baseline
(the same numpy model called directly).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _timing import import_seconds, timed
from support.azureml_standin import BLUE, LEAD_FEATURES, ArmStandin, FakeCredential, ScoringStandin

from hotcrm_ai.types import FeatureSpec, ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_azureml.provider import AzureMLProvider


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n, repeat = args.rows, args.repeat

    print("== import cost (median of", repeat, "fresh interpreters)")
    azure_s = import_seconds("import azure.ai.ml", repeat)
    plugin_s = import_seconds("import hotcrm_ai_azureml.provider", repeat)
    print(f"import azure.ai.ml                  {azure_s * 1000:8.1f} ms")
    print(
        f"import hotcrm_ai_azureml.provider   {plugin_s * 1000:8.1f} ms   ratio azure/plugin {azure_s / plugin_s:6.1f}x"
    )

    rows = [
        {"engagement": (i % 100) / 100, "visits": i % 17, "budget_k": float(i % 250), "referral": i % 3 == 0}
        for i in range(n)
    ]
    inputs = [PredictionInput(r) for r in rows]
    model = ModelConfig(
        id="bench",
        name="bench",
        type="classification",
        provider="azure-ml",
        features=tuple(FeatureSpec(f) for f in LEAD_FEATURES),
    )

    with ScoringStandin() as scoring, ArmStandin() as arm:
        os.environ["HOTCRM_BENCH_AZML_KEY"] = scoring.keys[0]
        provider = AzureMLProvider(
            ProviderConfig(
                provider="azure-ml",
                endpoint=scoring.scoring_uri,
                credentials={"api_key": {"env": "HOTCRM_BENCH_AZML_KEY"}},
            )
        )
        provider.predict(model, inputs[0])  # warm the connection pool

        print(f"\n== scoring {n} rows (median of {repeat})")
        base = timed(lambda: BLUE.predict_proba(rows), repeat)
        batch = timed(lambda: provider.batch_predict(model, inputs), repeat)
        single = timed(lambda: [provider.predict(model, i) for i in inputs], 1)
        with ThreadPoolExecutor(8) as pool:
            threaded = timed(lambda: list(pool.map(lambda i: provider.predict(model, i), inputs)), 1)
        print(f"in-process numpy baseline           {base * 1000:8.2f} ms")
        print(f"batch_predict (1 request)           {batch * 1000:8.2f} ms   {batch / base:8.1f}x baseline")
        print(
            f"predict one by one                  {single * 1000:8.2f} ms   {single / base:8.1f}x baseline, "
            f"{single / batch:6.1f}x batch"
        )
        print(
            f"predict, 8 threads                  {threaded * 1000:8.2f} ms   {threaded / base:8.1f}x baseline, "
            f"{threaded / batch:6.1f}x batch"
        )
        print(f"per-row cost: batch {batch / n * 1e6:.1f} us, single {single / n * 1e6:.1f} us")

        print("\n== by-name resolution (MLClient + ARM stand-in)")
        arm.add_endpoint("bench", scoring)
        os.environ["AZUREML_DEV_URL_MFE"] = arm.url
        named = AzureMLProvider(
            ProviderConfig(
                provider="azure-ml",
                config={
                    "subscription_id": arm.subscription_id,
                    "resource_group": arm.resource_group,
                    "workspace_name": arm.workspace_name,
                    "endpoint_name": "bench",
                },
            ),
            credential=FakeCredential(),
        )
        t = time.perf_counter()
        named.predict(model, inputs[0])
        first = time.perf_counter() - t
        cached = timed(lambda: named.predict(model, inputs[1]), max(repeat, 5))
        direct = timed(lambda: provider.predict(model, inputs[1]), max(repeat, 5))
        print(f"first call (import + MLClient + {len(arm.requests)} ARM calls + score) {first * 1000:8.1f} ms")
        print(f"later calls (cached key)            {cached * 1000:8.2f} ms   {cached / direct:5.2f}x direct path")


if __name__ == "__main__":
    main()
