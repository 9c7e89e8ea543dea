"""``hotcrm-ai demo``: a tour on embedded defaults. Predicts with each installed CRM model on a
realistic input, repeats one to show the cache, then prints stats and health. Offline, seconds."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from hotcrm_ai.cli.context import CLIContext, json_option, pass_cli

# Realistic inputs: a lead from the Bank Marketing data's columns, a Telco customer, a review,
# three years of monthly revenue, and a basket of Online Retail StockCodes.
EXAMPLES: dict[str, dict[str, Any]] = {
    "lead-scoring-v1": {
        "age": 41,
        "job": "management",
        "marital": "married",
        "education": "university.degree",
        "default": "no",
        "housing": "yes",
        "loan": "no",
        "contact": "cellular",
        "month": "oct",
        "day_of_week": "tue",
        "campaign": 1,
        "pdays": 6,
        "previous": 2,
        "poutcome": "success",
        "emp_var_rate": -1.8,
        "cons_price_idx": 92.893,
        "cons_conf_idx": -46.2,
        "euribor3m": 1.266,
        "nr_employed": 5099.1,
    },
    "churn-prediction-v1": {
        "customer_id": "7590-VHVEG",
        "gender": "Female",
        "senior_citizen": 0,
        "partner": "No",
        "dependents": "No",
        "tenure": 3,
        "phone_service": "Yes",
        "multiple_lines": "No",
        "internet_service": "Fiber optic",
        "online_security": "No",
        "online_backup": "No",
        "device_protection": "No",
        "tech_support": "No",
        "streaming_tv": "Yes",
        "streaming_movies": "Yes",
        "contract": "Month-to-month",
        "paperless_billing": "Yes",
        "payment_method": "Electronic check",
        "monthly_charges": 94.6,
        "total_charges": 283.8,
    },
    "sentiment-analysis-v1": {"text": "The onboarding call was great and support fixed our issue the same day."},
    "revenue-forecast-v1": {
        "history": [
            112.0,
            118.0,
            132.0,
            129.0,
            121.0,
            135.0,
            148.0,
            148.0,
            136.0,
            119.0,
            104.0,
            118.0,
            115.0,
            126.0,
            141.0,
            135.0,
            125.0,
            149.0,
            170.0,
            170.0,
            158.0,
            133.0,
            114.0,
            140.0,
            145.0,
            150.0,
            178.0,
            163.0,
            172.0,
            178.0,
            199.0,
            199.0,
            184.0,
            162.0,
            146.0,
            166.0,
        ],
        "horizon": 6,
        "season_length": 12,
    },
    "product-recommendation-v1": {"products": ["85123A", "71053", "84406B"], "k": 5},
}


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
        available = [m for m in EXAMPLES if m in ai.registry]
        if not available:
            lines.append("No default CRM models are installed: pip install hotcrm-ai-plugins (the ./plugins folder).")
        from hotcrm_ai.errors import HotCRMAIError

        for model_id in list(available):
            model = ai.registry.get(model_id)
            try:
                result = ai.predict(model_id, EXAMPLES[model_id], context={"tenant": "demo", "subject": "demo-user"})
            except HotCRMAIError as exc:
                lines += [f"{model.name} ({model_id})", f"  error: {exc}", ""]
                report["predictions"].append({"model_id": model_id, "error": str(exc)})
                continue
            report["predictions"].append(unstructure(result))
            lines += [
                f"{model.name} ({model_id})",
                f"  input:      {_short(EXAMPLES[model_id])}",
                f"  prediction: {_short(result.prediction)}",
                f"  confidence: {result.confidence:.1f}   latency: {result.latency_ms:.2f} ms",
                "",
            ]
        if available:
            again = ai.predict(available[0], EXAMPLES[available[0]], context={"tenant": "demo", "subject": "demo-user"})
            report["repeat"] = unstructure(again)
            lines += [f"Repeat of {available[0]}: cached={again.cached}, latency {again.latency_ms:.3f} ms", ""]
        lines.append(f"{'MODEL':<28} {'CALLS':>5} {'OK':>4} {'CACHE%':>7} {'P95 ms':>8}  HEALTH")
        report["stats"], report["health"] = {}, {}
        for model_id in available:
            stats = ai.monitor.stats(model_id)
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
