"""``predict`` and ``batch``: predictions from the command line, JSON in and out."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from hotcrm_ai.cli.context import CLIContext, json_option, pass_cli
from hotcrm_ai.errors import ValidationError


def load_json_arg(value: str, what: str = "--features") -> Any:
    """``JSON`` text or ``@file`` holding JSON; errors name the option."""
    text = value
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"a readable JSON file ({exc.strerror}: {path})", subject=what) from None
    return loads(text, what)


def _parse_int(digits: str) -> int | float:
    """Python refuses to convert integers of more than 4,300 digits; such a number is far beyond the
    float range anyway, so it becomes infinity and validation names the field ("a finite number")."""
    return int(digits) if len(digits) <= 4000 else float("inf") if digits[0] != "-" else float("-inf")


def loads(text: str, what: str) -> Any:
    """JSON text to Python; every way it can fail is a ``ValidationError`` naming ``what``."""
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", subject=what) from None
    except RecursionError:
        raise ValidationError("JSON nested less than about 1,000 levels deep", subject=what) from None


def context_from(tenant: str | None, subject: str | None) -> dict[str, Any]:
    return {k: v for k, v in {"tenant": tenant, "subject": subject}.items() if v is not None}


def result_text(r: Any) -> str:
    lines = [
        f"model:      {r.model_id}@{r.model_version}"
        + (f" ({r.variant} of {r.requested_model_id})" if r.variant else ""),
        f"prediction: {json.dumps(r.prediction, ensure_ascii=False)}",
        f"confidence: {r.confidence:.1f}",
        f"served:     {'cache' if r.cached else 'provider'}"
        + (f", DEGRADED: {r.degraded_reason}" if r.degraded else ""),
        f"latency:    {r.latency_ms:.2f} ms   id: {r.prediction_id}",
    ]
    if r.explanation is not None:
        lines += ["", r.explanation.text]
    return "\n".join(lines)


def register(cli: click.Group) -> None:
    @cli.command("predict")
    @click.argument("model_id")
    @click.option("--features", "-f", required=True, help="Feature values as JSON, or @file.json.")
    @click.option("--tenant", help="Tenant (cache isolation).")
    @click.option("--subject", help="Stable subject key (sticky A/B variant), e.g. the customer id.")
    @click.option("--no-cache", is_flag=True, help="Skip the cache.")
    @click.option("--explain", is_flag=True, help="Attach a Shapley-value explanation.")
    @json_option
    @pass_cli
    def predict(
        c: CLIContext,
        model_id: str,
        features: str,
        tenant: str | None,
        subject: str | None,
        no_cache: bool,
        explain: bool,
    ) -> None:
        """One prediction."""
        feats = load_json_arg(features)
        result = c.cloud().predict(
            model_id, feats, context=context_from(tenant, subject), use_cache=not no_cache, explain=explain
        )
        c.output(result, lambda: result_text(result))

    @cli.command("batch")
    @click.argument("model_id")
    @click.option(
        "--input",
        "input_path",
        required=True,
        type=click.Path(exists=True, dir_okay=False),
        help="JSON lines: one feature object per line.",
    )
    @click.option(
        "--output",
        "output_path",
        required=True,
        type=click.Path(dir_okay=False),
        help="Where to write one result per line (JSON lines).",
    )
    @click.option("--tenant", help="Tenant (cache isolation).")
    @click.option(
        "--chunk-size",
        default=1000,
        show_default=True,
        type=click.IntRange(1, 1_000_000),
        help="Rows sent to the model at a time (memory grows with it).",
    )
    @click.option("--no-cache", is_flag=True, help="Always ask the model; neither read nor write cached answers.")
    @json_option
    @pass_cli
    def batch(
        c: CLIContext,
        model_id: str,
        input_path: str,
        output_path: str,
        tenant: str | None,
        chunk_size: int,
        no_cache: bool,
    ) -> None:
        """Predict every row of a JSON-lines file; failed rows keep their error in place."""
        from hotcrm_ai.converter import unstructure

        rows: list[Any] = []
        with open(input_path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                rows.append(loads(line, f"--input line {n}"))
        from hotcrm_ai.progress import reporter
        from hotcrm_ai.scoring.atomic import atomic_path

        cloud = c.cloud()
        started = time.perf_counter()
        summary: dict[str, float] = {"rows": len(rows), "failures": 0, "cached": 0, "degraded": 0}
        bar = reporter(True, len(rows), "predicting")
        try:
            with (  # the output appears only when complete: a failed run leaves an existing file untouched
                atomic_path(output_path) as tmp,
                open(tmp, "w", encoding="utf-8") as out,
            ):
                for begin in range(0, len(rows), chunk_size):
                    chunk = rows[begin : begin + chunk_size]
                    for r in cloud.batch_predict(
                        model_id, chunk, context=context_from(tenant, None), use_cache=not no_cache
                    ):
                        summary["failures"] += 0 if r.ok else 1
                        summary["cached"] += int(r.cached)
                        summary["degraded"] += int(r.degraded)
                        out.write(json.dumps(unstructure(r), ensure_ascii=False) + "\n")
                    bar.advance(len(chunk))
        finally:
            bar.close()
        summary["elapsed_s"] = round(time.perf_counter() - started, 3)
        c.output(summary, lambda: "  ".join(f"{k}: {v}" for k, v in summary.items()))
