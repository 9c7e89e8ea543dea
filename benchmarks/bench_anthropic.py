"""Anthropic provider benchmarks: what registering the plugin costs compared with the SDK import it
defers, our overhead per structured call, and how close a concurrent batch comes to perfect parallelism.

Run: python benchmarks/bench_anthropic.py [--repeat 3]

Everything runs against the local Messages API stand-in (tests/support/anthropic_standin.py, loopback
HTTP) with the real SDK, so the figures are client-side overhead and round trips, not Anthropic's
latency. Baselines are measured in the same run. For the batch, the stand-in runs in its own process, as
a remote API would: its request handling then does not compete with the client for one GIL.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def _serve(conn: Any, latency: float) -> None:
    with AnthropicStandIn(KEY) as server:
        server.latency = latency
        conn.send(server.base_url)
        conn.recv()  # until told to stop
        conn.send(server.max_in_flight)


@contextmanager
def remote_standin(latency: float) -> Iterator[tuple[str, list[int]]]:
    """The stand-in in a child process; yields its base URL and, after exit, the peak requests in flight."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(theirs, latency), daemon=True)
    proc.start()
    peak: list[int] = []
    try:
        yield ours.recv(), peak
    finally:
        ours.send("stop")
        peak.append(ours.recv())
        proc.join(10)


def bench_imports(repeat: int) -> None:
    print(f"== import cost (median of {repeat} fresh interpreters)")
    sdk_s = import_seconds("import anthropic", repeat)
    # everything registration costs, the core's import included: the hook module and its descriptor
    plugin_s = import_seconds("import hotcrm_ai_anthropic.plugin as p; p.register_providers([].append)", repeat)
    print(
        line("register the plugin (with hotcrm_ai) vs import anthropic", plugin_s * 1000, sdk_s * 1000, "ms", "<= 0.3x")
    )


def bench_per_call(repeat: int) -> None:
    with AnthropicStandIn(KEY) as server:
        config = ProviderConfig(provider="anthropic", endpoint=server.base_url, credentials={"api_key": KEY})
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
        ours, base = paired(lambda: [ours_call() for _ in range(n)], lambda: [raw_call() for _ in range(n)], repeat)
        print("== per call (loopback stand-in in this process)")
        print(
            line(
                "structured predict (validated) vs raw SDK tool call",
                ours / n * 1000,
                base / n * 1000,
                "ms",
                "informative",
            )
        )
        provider.close()


def bench_batch(repeat: int) -> None:
    with remote_standin(LATENCY_S) as (url, peak):
        config = ProviderConfig(
            provider="anthropic", endpoint=url, credentials={"api_key": KEY}, config={"max_concurrency": CONCURRENCY}
        )
        provider = provider_spec().factory(config)
        words = ["great", "awful", "ok", "fine"] * (ROWS // 4)
        rows = [PredictionInput({"text": f"{w} service, order {i}"}) for i, w in enumerate(words)]
        provider.batch_predict(SENTIMENT, rows[:CONCURRENCY])  # open the pool's connections
        start = time.perf_counter()
        single = [provider.predict(SENTIMENT, r) for r in rows[: 2 * CONCURRENCY]]
        per_row_s = (time.perf_counter() - start) / len(single)  # one row's measured round trip
        batch_s = timed(lambda: provider.batch_predict(SENTIMENT, rows), repeat)
        ideal_s = per_row_s * ROWS / CONCURRENCY  # perfect parallelism of the measured calls
        provider.close()
    print(f"== {ROWS} rows, {LATENCY_S * 1000:.0f} ms per request, max_concurrency {CONCURRENCY}")
    print(
        line(
            "batch_predict vs ideal (rows x measured call / concurrency)",
            batch_s * 1000,
            ideal_s * 1000,
            "ms",
            "<= 1.3x",
        )
    )
    print(f"   (one measured call: {per_row_s * 1000:.1f} ms; the stand-in answered up to {peak[0]} at once)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    bench_imports(args.repeat)
    bench_per_call(args.repeat)
    bench_batch(args.repeat)


if __name__ == "__main__":
    main()
