"""SageMaker provider benchmarks: import cost, provider build cost, batch (one invocation) vs per-row calls.

Run: python benchmarks/bench_sagemaker.py [--rows 1000] [--repeat 3]

Everything runs against the local stand-in in tests/support (loopback HTTP, real boto3 and SigV4), so the
numbers measure our client-side overhead and the protocol's round trips, not AWS. Ratios are against an
in-process baseline (the same numpy model called directly) or against the SDK itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _timing import import_seconds, timed
from support.sagemaker_standin import ACCESS_KEY, LEAD_FEATURES, LEAD_MODEL, REGION, SECRET_KEY, running

from hotcrm_ai.types import FeatureSpec, ModelConfig, PredictionInput, ProviderConfig


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n, repeat = args.rows, args.repeat
    tmp = tempfile.mkdtemp()
    os.environ.update(
        AWS_CONFIG_FILE=f"{tmp}/config",
        AWS_SHARED_CREDENTIALS_FILE=f"{tmp}/credentials",
        AWS_EC2_METADATA_DISABLED="true",
    )

    print("== import cost (median of", repeat, "fresh interpreters)")
    boto_s = import_seconds("import boto3", repeat)
    plugin_s = import_seconds("import hotcrm_ai_sagemaker.provider", repeat)
    print(f"import boto3                               {boto_s * 1000:8.1f} ms")
    print(
        f"import hotcrm_ai_sagemaker.provider        {plugin_s * 1000:8.1f} ms   ratio boto3/plugin {boto_s / plugin_s:6.1f}x"
    )

    from hotcrm_ai_sagemaker.provider import SageMakerProvider

    rows = [{"engagement": (i % 100) / 25 - 2, "email_opens": i % 9, "days_since_contact": i % 31} for i in range(n)]
    inputs = [PredictionInput(r) for r in rows]
    features = tuple(FeatureSpec(name=f) for f in LEAD_FEATURES)
    single_model = ModelConfig(
        id="lead-scoring", name="b", type="classification", provider="aws-sagemaker", features=features
    )
    json_batch = ModelConfig(
        id="lead-scoring",
        name="b",
        type="classification",
        provider="aws-sagemaker",
        features=features,
        parameters={"batch_format": "instances"},
    )
    csv_batch = ModelConfig(
        id="lead-scoring",
        name="b",
        type="classification",
        provider="aws-sagemaker",
        features=features,
        parameters={"batch_format": "csv"},
    )

    with running() as sm:

        def build() -> SageMakerProvider:
            return SageMakerProvider(
                ProviderConfig(
                    provider="aws-sagemaker",
                    credentials={"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY},
                    config={"region": REGION, "endpoint_url": sm.url, "max_concurrency": 8},
                )
            )

        first = build()
        t = time.perf_counter()
        first.predict(single_model, inputs[0])
        first_call = time.perf_counter() - t
        later = timed(lambda: build().predict(single_model, inputs[0]), repeat)
        print("\n== provider build + first call (client creation, SigV4, one invocation)")
        print(f"first provider in the process              {first_call * 1000:8.1f} ms")
        print(f"each further provider (shared loader)      {later * 1000:8.1f} ms   {first_call / later:6.1f}x cheaper")

        provider = first
        print(f"\n== scoring {n} rows (median of {repeat})")
        base = timed(lambda: LEAD_MODEL.predict(rows), repeat)
        one = timed(lambda: provider.predict(single_model, inputs[0]), max(repeat, 20))
        batch = timed(lambda: provider.batch_predict(json_batch, inputs), repeat)
        csv = timed(lambda: provider.batch_predict(csv_batch, inputs), repeat)
        threaded = timed(lambda: provider.batch_predict(single_model, inputs), 1)
        print(f"in-process numpy baseline ({n} rows)         {base * 1000:8.2f} ms")
        print(f"one predict (round trip)                   {one * 1000:8.2f} ms")
        print(f"batch_predict, instances (1 invocation)    {batch * 1000:8.2f} ms   {batch / base:8.1f}x baseline")
        print(f"batch_predict, csv (1 invocation)          {csv * 1000:8.2f} ms   {csv / base:8.1f}x baseline")
        print(
            f"batch_predict, no batch format (8 threads) {threaded * 1000:8.2f} ms   {threaded / base:8.1f}x baseline, "
            f"{threaded / batch:6.1f}x the instances batch"
        )
        print(f"per row: instances batch {batch / n * 1e6:8.1f} us, per-row calls {threaded / n * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
