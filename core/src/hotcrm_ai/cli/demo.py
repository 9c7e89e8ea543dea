"""``hotcrm-ai demo``: a tour on embedded defaults. Predicts with each installed model that carries an
example input (the five CRM models do), repeats one to show the cache, then prints stats and health.
Offline, seconds."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from hotcrm_ai.cli.context import CLIContext, json_option, pass_cli

# The five seed models, in the order the demo shows them; any other model that carries an example
# input (``parameters["example"]``, as a plugin may set) is shown after them.
SEED_ORDER = (
    "lead-scoring-v1",
    "churn-prediction-v1",
    "sentiment-analysis-v1",
    "revenue-forecast-v1",
    "product-recommendation-v1",
)


def _short(value: Any, width: int = 110) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def register(cli: click.Group) -> None:
    @cli.command("demo")
    @json_option
    @pass_cli
    def demo(c: CLIContext) -> None:
        """Predict with each default CRM model, show a cache hit, then stats and health."""
        from hotcrm_ai.converter import unstructure

        started = time.perf_counter()
        ai = c.cloud()
        report: dict[str, Any] = {"plugins": [r.name for r in ai.plugins.describe()], "predictions": []}
        lines = [f"hotcrm-ai demo: {len(ai.registry)} models registered; plugins: {', '.join(report['plugins'])}", ""]
        with_example = {
            m.id: m.parameters["example"]
            for m in ai.registry.list(status="active")
            if isinstance(m.parameters.get("example"), dict)
        }
        examples = {m: with_example[m] for m in SEED_ORDER if m in with_example}
        examples.update({m: e for m, e in with_example.items() if m not in examples})
        available = list(examples)
        if not available:
            lines.append("No model with an example input is installed: pip install ./plugins (hotcrm-ai-plugins).")
        from hotcrm_ai.errors import HotCRMAIError

        for model_id in list(available):
            model = ai.registry.get(model_id)
            try:
                result = ai.predict(model_id, examples[model_id], context={"tenant": "demo", "subject": "demo-user"})
            except HotCRMAIError as exc:
                lines += [f"{model.name} ({model_id})", f"  error: {exc}", ""]
                report["predictions"].append({"model_id": model_id, "error": str(exc)})
                continue
            report["predictions"].append(unstructure(result))
            lines += [
                f"{model.name} ({model_id})",
                f"  input:      {_short(examples[model_id])}",
                f"  prediction: {_short(result.prediction)}",
                f"  confidence: {result.confidence:.1f}   latency: {result.latency_ms:.2f} ms",
                "",
            ]
        if available:
            again = ai.predict(available[0], examples[available[0]], context={"tenant": "demo", "subject": "demo-user"})
            report["repeat"] = unstructure(again)
            lines += [f"Repeat of {available[0]}: cached={again.cached}, latency {again.latency_ms:.3f} ms", ""]
        lines.append(f"{'MODEL':<28} {'CALLS':>5} {'OK':>4} {'CACHE%':>7} {'P95 ms':>8}  HEALTH")
        report["stats"], report["health"] = {}, {}
        for model_id in available:
            stats = ai.monitor.stats(model_id)
            if stats is None:
                continue
            health = ai.monitor.health(model_id)
            report["stats"][model_id] = unstructure(stats)
            report["health"][model_id] = {"status": health.status, "reason": health.reason}
            lines.append(
                f"{model_id:<28} {stats.total:>5} {stats.successes:>4} {stats.cache_hit_rate:>7.1f} "
                f"{stats.latency_p95_ms:>8.2f}  {health.status}" + (f" ({health.reason})" if health.reason else "")
            )
        cache = ai.cache.stats()
        lines += [
            "",
            f"cache: backend={cache.active_backend} hits={cache.hits} misses={cache.misses}",
            f"done in {time.perf_counter() - started:.2f} s",
        ]
        report["cache"] = unstructure(cache)
        c.output(report, lambda: "\n".join(lines))
