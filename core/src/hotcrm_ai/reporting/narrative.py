"""Words and chart hints around a result: the narrative, a visualization hint, follow-up questions and a
confidence score. The top group named is the real maximum, and totals are recomputed by the database,
never summed from group averages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hotcrm_ai.reporting.ast import Query
from hotcrm_ai.reporting.compile import Column
from hotcrm_ai.text import format_number, round_half_up


def _money(value: float) -> str:
    """Cents shown as two digits ($4,067,005.20); whole amounts without them ($500,000)."""
    cents = round_half_up(value, 2)
    return f"{int(cents):,}" if cents == cents.to_integral_value() else f"{cents:,.2f}"


def fmt(value: Any, typ: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if typ == "currency":
        return ("-$" if value < 0 else "$") + _money(abs(value))
    if typ == "percent":
        return format_number(round(value * 100, 1)) + "%"
    return format_number(round(value, 2))


def period_label(query: Query | None) -> str:
    if query is None or query.time_range is None:
        return "all time"
    return query.time_range.label or f"{query.time_range.start} to {query.time_range.end}"


def narrative(
    question: str,
    query: Query,
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any],
    comparison: Mapping[str, Any] | None,
    dims: Sequence[str],
) -> str:
    period = period_label(query)
    aliases = list(summary.get("aggregates", {}))
    if not rows or (not dims and aliases and all(rows[0].get(a) is None for a in aliases)):
        return (
            f'No data found for "{question}" in the {period} period. '
            "Try broadening your time range or adjusting filters."
        )
    types = {c.name: c.type for c in columns}
    labels = {c.name: c.label for c in columns}
    parts = [f"Showing {summary['total_rows']} results for {period}."]
    for alias, value in summary.get("aggregates", {}).items():
        scope = " overall" if dims else ""
        parts.append(f"{labels.get(alias, alias)}{scope}: {fmt(value, types.get(alias, 'number'))}.")
    aggs = list(summary.get("aggregates", {}))
    if dims and aggs:
        first, dim = aggs[0], dims[0]
        shown = " (of the rows shown)" if summary.get("truncated") else ""  # a cut answer has no true top
        valued = [r for r in rows if isinstance(r.get(first), (int, float))]
        if valued and not any(g.bucket for g in query.group_by[:1]):
            top = max(valued, key=lambda r: r[first])
            parts.append(
                f"Top {labels.get(dim, dim).lower()}{shown}: {top[dim]} with "
                f"{fmt(top[first], types.get(first, 'number'))}."
            )
        elif valued:
            top = max(valued, key=lambda r: r[first])
            parts.append(f"Highest {dim}{shown}: {top[dim]} with {fmt(top[first], types.get(first, 'number'))}.")
    if summary.get("truncated"):
        parts.append(f"Only the first {summary['total_rows']} rows are shown.")
    if comparison is not None:
        label = comparison.get("label") or comparison["type"].replace("_", " ")
        cur, prev = comparison.get("current", {}), comparison.get("aggregates", {})
        bits = []
        for alias, before in prev.items():
            now_v = cur.get(alias)
            change = ""
            if isinstance(before, (int, float)) and isinstance(now_v, (int, float)) and before:
                pct = format_number(round((now_v - before) / abs(before) * 100, 1))
                change = f" ({'+' if now_v >= before else ''}{pct}%)"
            bits.append(f"{labels.get(alias, alias)} {fmt(before, types.get(alias, 'number'))}{change}")
        parts.append(f"Comparison period ({comparison['type'].replace('_', ' ')}, {label}): " + "; ".join(bits) + ".")
    return " ".join(parts)


def visualization(
    query: Query, columns: Sequence[Column], dims: Sequence[str], aliases: Sequence[str]
) -> dict[str, Any]:
    y = aliases[0] if aliases else "value"
    buckets = [g.bucket for g in query.group_by if g.bucket]
    if buckets:
        x = next(d for d, g in zip(dims, query.group_by, strict=False) if g.bucket)
        config: dict[str, Any] = {"x_axis": x, "y_axis": y}
        if len(dims) > 1:
            config["series"] = next(d for d, g in zip(dims, query.group_by, strict=False) if not g.bucket)
        if query.comparison is not None:
            config["series"] = "period_comparison"
        return {"type": "line_chart", "config": config}
    if len(dims) == 1 and aliases:
        return {"type": "bar_chart", "config": {"x_axis": dims[0], "y_axis": y}}
    if len(dims) >= 2:
        return {"type": "heatmap", "config": {"x_axis": dims[0], "y_axis": dims[1], "value": y}}
    if aliases:
        return {"type": "metric", "config": {"value": y}}
    return {"type": "table", "config": {"columns": [c.name for c in columns]}}


def follow_ups(question: str, query: Query) -> list[str]:
    q = question.strip().rstrip("?.! ")
    low = q.lower()
    out: list[str] = []
    if query.group_by:
        if "by month" not in low and not any(g.bucket for g in query.group_by):
            out.append(f"{q} by month")
        if (
            "by region" not in low
            and "by industry" not in low
            and not any(g.field in ("region", "account.region") for g in query.group_by)
        ):
            out.append(f"{q} by region")
    if query.comparison is None and query.aggregates:
        out.append(f"{q} vs last year")
    if query.object == "opportunity":
        out += ["Show me deal count by stage for the same period", "What is the average deal size this quarter?"]
    if query.object == "case":
        out += ["What is the average resolution time?", "Show me CSAT scores by agent"]
    if query.object == "lead":
        out += ["What is the lead conversion rate by source?"]
    return list(dict.fromkeys(out))[:4]


def confidence(question: str, query: Query, unknown: Sequence[str]) -> int:
    """A heuristic score: 50, +15 for the object, +10 each for an aggregate, a grouping and a period,
    -10 for a question under three words and per word the translator could not use; clamped to 10..95."""
    score = 50 + 15
    score += 10 if query.aggregates else 0
    score += 10 if query.group_by else 0
    score += 10 if query.time_range is not None else 0
    score -= 10 if len(question.split()) < 3 else 0
    score -= 10 * len(unknown)
    return max(10, min(95, score))
