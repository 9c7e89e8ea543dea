"""``explain`` and ``compare``: Shapley-value explanations from the command line."""

from __future__ import annotations

from typing import Any

import click

from hotcrm_ai.cli.context import CLIContext, json_option, pass_cli
from hotcrm_ai.text import format_value


def contributions_table(exp: Any) -> str:
    """Every field, largest share first: label, value, contribution, importance %."""
    rows = sorted(exp.contributions, key=lambda c: -c.importance)
    labels = [c.label or c.feature for c in rows]
    values = [format_value(c.value)[:40] for c in rows]
    w1 = max([len("feature"), *map(len, labels)])
    w2 = max([len("value"), *map(len, values)])
    lines = [f"{'feature':<{w1}}  {'value':<{w2}}  {'contribution':>14}  {'importance':>10}"]
    for c, label, value in zip(rows, labels, values, strict=True):
        lines.append(f"{label:<{w1}}  {value:<{w2}}  {c.contribution:>+14.6g}  {c.importance:>9.1f}%")
    return "\n".join(lines)


def explanation_text(exp: Any) -> str:
    how = "exact" if exp.exact else f"estimate, error +/-{exp.error_estimate:.3g}" if exp.error_estimate else "estimate"
    head = [
        f"explained:  {exp.output_kind} = {exp.output_value:.6g}  (base value {exp.base_value:.6g})",
        f"method:     {exp.method} ({how}), {exp.evaluations} model evaluations",
        "",
        exp.text.rstrip("\n"),
        "",
        contributions_table(exp),
    ]
    return "\n".join(head)


def register(cli: click.Group) -> None:
    @cli.command("explain")
    @click.argument("model_id")
    @click.option("--features", "-f", required=True, help="Feature values as JSON, or @file.json.")
    @click.option("--method", help="exact, linear, kernel or a plugin's explainer (default: the best that applies).")
    @json_option
    @pass_cli
    def explain(c: CLIContext, model_id: str, features: str, method: str | None) -> None:
        """Why the model predicts what it does for these features (Shapley values that add up)."""
        from hotcrm_ai.cli.predict import load_json_arg

        exp = c.cloud().explain(model_id, load_json_arg(features), method=method)
        c.output(exp, lambda: explanation_text(exp))

    @cli.command("compare")
    @click.argument("model_id")
    @click.option("--a", "first", required=True, help="First feature values as JSON, or @file.json.")
    @click.option("--b", "second", required=True, help="Second feature values as JSON, or @file.json.")
    @json_option
    @pass_cli
    def compare(c: CLIContext, model_id: str, first: str, second: str) -> None:
        """Which changed features moved the prediction between two inputs, and which way."""
        from hotcrm_ai.cli.predict import load_json_arg

        cmp = c.cloud().compare(model_id, load_json_arg(first, "--a"), load_json_arg(second, "--b"))
        c.output(
            cmp,
            lambda: (
                f"{cmp.output_kind}: {cmp.output_value1:.6g} -> {cmp.output_value2:.6g} "
                f"({cmp.output_difference:+.6g})\n\n{cmp.text.rstrip()}"
            ),
        )
