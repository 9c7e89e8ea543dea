"""Anthropic provider benchmarks: what registering the plugin costs compared with the SDK import it
defers, our overhead per structured call, and how close a concurrent batch comes to perfect parallelism.

Run: python benchmarks/bench_anthropic.py [--repeat 3]

Everything runs against the local Messages API stand-in (tests/support/anthropic_standin.py, loopback
HTTP) with the real SDK, so the figures are client-side overhead and round trips, not Anthropic's
latency. Baselines are measured in the same process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _timing import import_seconds, line, timed
from support.anthropic_standin import AnthropicStandIn

from hotcrm_ai.types import ModelConfig, PredictionInput, ProviderConfig
from hotcrm_ai_anthropic.plugin import provider_spec
from hotcrm_ai_anthropic.prompts import SENTIMENT as SENTIMENT_TEMPLATE

KEY = "sk-ant-bench-0123456789abcdef"
SENTIMENT = ModelConfig(id="sentiment-analysis-llm", name="s", type="nlp", provider="anthropic")
ROWS, LATENCY_S, CONCURRENCY = 64, 0.020, 8


def paired(ours: Callable[[], object], base: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Medians of alternating runs: the machine's load drifts, so both sides see the same drift."""
    ours_runs, base_runs = [], []
    for _ in range(repeat):
        base_runs.append(timed(base, 1))
        ours_runs.append(timed(ours, 1))
    return statistics.median(ours_runs), statistics.median(base_runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    print(f"== import cost (median of {args.repeat} fresh interpreters)")
    sdk_s = import_seconds("import anthropic", args.repeat)
    register = (
        "from hotcrm_ai.plugins import PluginHost; import hotcrm_ai_anthropic.plugin as p; "
        "PluginHost(plugins=[p], load_entrypoints=False)"
    )
    host_only = "from hotcrm_ai.plugins import PluginHost; PluginHost(load_entrypoints=False)"
    plugin_s = max(import_seconds(register, args.repeat) - import_seconds(host_only, args.repeat), 1e-6)
    print(line("register the plugin (beyond the host) vs import anthropic", plugin_s * 1000, sdk_s * 1000, "ms", "<= 0.3x"))

    with AnthropicStandIn(KEY) as server:
        config = ProviderConfig(
            provider="anthropic",
            endpoint=server.base_url,
            credentials={"api_key": KEY},
            config={"max_concurrency": CONCURRENCY},
        )
        provider = provider_spec().factory(config)
        raw = provider._sdk()  # the same SDK client, used directly: the baseline
        text = "Great onboarding, thank you, the team was helpful"
        tool = {"name": "answer", "description": "Record the answer.", "input_schema": SENTIMENT_TEMPLATE.schema}

        def raw_call() -> object:
            message = raw.messages.create(
                model="claude-haiku-4-5",
                max_tokens=1024,
                system=SENTIMENT_TEMPLATE.system_prompt,
                messages=[{"role": "user", "content": text}],
                tools=[tool],
                tool_choice={"type": "tool", "name": "answer"},
            )
            return next(b.input for b in message.content if b.type == "tool_use")

        def ours_call() -> object:
            return provider.predict(SENTIMENT, PredictionInput({"text": text}))

        for _ in range(20):  # warm connections, caches, lazy imports
            raw_call()
            ours_call()
        n = 200
        ours, base = paired(lambda: [ours_call() for _ in range(n)], lambda: [raw_call() for _ in range(n)], args.repeat)
        print("== per call (loopback stand-in)")
        print(line("structured predict (validated) vs raw SDK tool call", ours / n * 1000, base / n * 1000, "ms", "informative"))

        server.latency = LATENCY_S  # a 20 ms remote round trip
        rows = [
            PredictionInput({"text": f"{w} service, order {i}"})
            for i, w in enumerate(["great", "awful", "ok", "fine"] * (ROWS // 4))
        ]
        provider.batch_predict(SENTIMENT, rows[:CONCURRENCY])  # open the pool's connections
        start = time.perf_counter()
        single = [provider.predict(SENTIMENT, r) for r in rows[:CONCURRENCY]]
        per_row_s = (time.perf_counter() - start) / len(single)  # one row's measured round trip
        batch_s = timed(lambda: provider.batch_predict(SENTIMENT, rows), args.repeat)
        ideal_s = per_row_s * ROWS / CONCURRENCY  # perfect parallelism of the measured calls
        print(f"== {ROWS} rows, {LATENCY_S * 1000:.0f} ms per request, max_concurrency {CONCURRENCY}")
        print(line("batch_predict vs ideal (rows x measured call / concurrency)", batch_s * 1000, ideal_s * 1000, "ms", "<= 1.3x"))
        print(f"   (one measured call: {per_row_s * 1000:.1f} ms; the stand-in answered up to {server.max_in_flight} at once)")
        provider.close()


if __name__ == "__main__":
    main()
