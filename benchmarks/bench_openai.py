"""OpenAI provider benchmarks: our overhead per call, native embedding batches, concurrent chat batches,
and what registration costs compared with the SDK import it defers.

Run: python benchmarks/bench_openai.py [--rows 1000] [--repeat 3]

Everything runs against the local OpenAI stand-in (tests/support/openai_standin.py, loopback HTTP) with the
real SDK, so the figures are client-side overhead and round trips, not OpenAI's latency. Baselines are the
raw SDK doing the same job in the same process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _timing import import_seconds, timed
from support.openai_standin import OpenAIStandIn

from hotcrm_ai.types import ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_openai.prompts import SENTIMENT as SENTIMENT_TEMPLATE
from hotcrm_ai_openai.provider import OpenAIProvider

KEY = "sk-bench-0123456789abcdefghij"
SENTIMENT = ModelConfig(id="sentiment-analysis-llm", name="s", type="nlp", provider="openai")
EMBED = ModelConfig(id="crm-embeddings", name="e", type="embedding", provider="openai")


def paired(ours: Callable[[], object], base: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Medians of alternating runs: the machine's load drifts, so both sides see the same drift."""
    ours_runs, base_runs = [], []
    for _ in range(repeat):
        base_runs.append(timed(base, 1))
        ours_runs.append(timed(ours, 1))
    return statistics.median(ours_runs), statistics.median(base_runs)


def report(name: str, ours: float, base: float, unit: str, goal: str) -> None:
    print(
        f"{name:<62} ours {ours:10.3f} {unit:<4} baseline {base:10.3f} {unit:<4} ratio {ours / base:6.2f}x (goal {goal})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    print(f"== import cost (median of {args.repeat} fresh interpreters)")
    sdk_s = import_seconds("import openai", args.repeat)
    plugin_s = import_seconds("import hotcrm_ai_openai, hotcrm_ai_openai.plugin", args.repeat)
    report(
        "register the plugin (provider module, no SDK) vs import openai", plugin_s * 1000, sdk_s * 1000, "ms", "<= 0.3x"
    )

    with OpenAIStandIn(api_key=KEY) as server:
        provider = OpenAIProvider(
            ProviderConfig(
                provider="openai",
                endpoint=server.base_url,
                credentials={"api_key": KEY},
                config={"model": "gpt-4o-mini"},
            )
        )
        raw = provider._client  # the same SDK client, used directly: the baseline
        schema = SENTIMENT_TEMPLATE.schema
        text = "Great onboarding, thank you, the team was helpful"

        def raw_chat() -> object:
            completion = raw.chat.completions.create(
                model="gpt-4o-mini",
                temperature=0.3,
                max_tokens=500,
                logprobs=True,
                messages=[
                    {"role": "system", "content": SENTIMENT_TEMPLATE.system_prompt},
                    {"role": "user", "content": text},
                ],
                response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": schema, "strict": True}},
            )
            return json.loads(completion.choices[0].message.content or "")

        ours_chat = lambda: provider.predict(SENTIMENT, PredictionInput({"text": text}))  # noqa: E731
        for _ in range(20):  # warm connections, caches, lazy imports
            raw_chat()
            ours_chat()
        n = 200
        ours, base = paired(
            lambda: [ours_chat() for _ in range(n)], lambda: [raw_chat() for _ in range(n)], args.repeat
        )
        ours, base = ours / n, base / n
        print("== per call (loopback stand-in)")
        report("structured predict vs raw SDK create + json.loads", ours * 1000, base * 1000, "ms", "<= 1.3x")

        texts = [f"ticket {i}: invoice total looks wrong for order {i * 7}" for i in range(args.rows)]
        inputs = [PredictionInput({"text": t}) for t in texts]
        provider.batch_predict(EMBED, inputs[:10])
        batch_s = timed(lambda: provider.batch_predict(EMBED, inputs), args.repeat)
        singles_s = timed(lambda: [raw.embeddings.create(model="text-embedding-3-small", input=t) for t in texts], 1)
        print(f"== {args.rows} embeddings")
        report(
            "batch_predict (native batch) vs one raw request per text",
            batch_s * 1000,
            singles_s * 1000,
            "ms",
            "<= 0.1x",
        )

        server.latency = 0.02  # a 20 ms remote round trip
        rows = [
            PredictionInput({"text": f"{w} service, order {i}"})
            for i, w in enumerate(["great", "awful", "ok", "fine"] * 16)
        ]
        concurrent_s, sequential_s = paired(
            lambda: provider.batch_predict(SENTIMENT, rows),
            lambda: [provider.predict(SENTIMENT, r) for r in rows],
            args.repeat,
        )
        ideal_s = sequential_s / provider.default_concurrency  # perfect parallelism of the measured calls
        print(f"== {len(rows)} chat rows, 20 ms per request, max_concurrency {provider.default_concurrency}")
        report(
            "batch_predict (bounded concurrency) vs sequential predict",
            concurrent_s * 1000,
            sequential_s * 1000,
            "ms",
            "<= 0.2x",
        )
        report(
            "batch_predict vs perfect parallelism (sequential / concurrency)",
            concurrent_s * 1000,
            ideal_s * 1000,
            "ms",
            "<= 1.5x",
        )
        provider.close()


if __name__ == "__main__":
    main()
