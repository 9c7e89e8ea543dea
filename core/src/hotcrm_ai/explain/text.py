"""Reason text from real attributions: "The prediction was influenced by:", then positive and negative
factors with their impact, and the comparison text of two inputs.

The layout is fixed (users and tests read it); ``impact`` is a feature's share of the total
absolute attribution, in %, rounded half away from zero as JS ``toFixed(0)`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from hotcrm_ai.text import format_value, whole_half_up

if TYPE_CHECKING:
    from hotcrm_ai.explain.compare import FeatureDifference
    from hotcrm_ai.types import FeatureContribution

HEADER = "The prediction was influenced by:\n\n"
NO_DIFFERENCES = "No significant differences found."


def reason_text(top: Sequence[FeatureContribution], effects: Mapping[str, str] | None = None) -> str:
    """Header, then ``Positive factors:`` and ``Negative factors:`` blocks; zero contributions are in neither.

    ``effects`` (feature -> phrase, e.g. "raises the probability by 12 points") is appended to a line's
    impact, so the share of attribution comes with what it means on the served scale."""
    effects = effects or {}
    parts = [HEADER]
    for sign, title in (("+", "Positive factors:\n"), ("-", "\nNegative factors:\n")):
        lines = [c for c in top if (c.contribution > 0 if sign == "+" else c.contribution < 0)]
        if lines:
            parts.append(title)
        for c in lines:
            extra = f", {effects[c.feature]}" if c.feature in effects else ""
            impact = f"{sign}{whole_half_up(c.importance)}%{extra}"
            parts.append(f"• {c.label}: {format_value(c.value)} (impact: {impact})\n")
    return "".join(parts)


def comparison_text(differences: Sequence[FeatureDifference], limit: int = 5) -> str:
    """``Key differences:`` with one line per changed feature (the first ``limit``).

    The original printed "decreased" for a zero difference; a change that moved nothing says so.
    """
    if not differences:
        return NO_DIFFERENCES
    text = "Key differences:\n\n"
    for d in differences[:limit]:
        if d.impact_difference > 0:
            effect = "increased the prediction"
        elif d.impact_difference < 0:
            effect = "decreased the prediction"
        else:
            effect = "did not change the prediction"
        text += f"• {d.label} changed from {format_value(d.value1)} to {format_value(d.value2)}, which {effect}\n"
    return text
