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
    positive: list[str] = []
    negative: list[str] = []
    for c in top:
        v = c.contribution
        if not (v > 0 or v < 0):
            continue
        extra = f", {effects[c.feature]}" if effects and c.feature in effects else ""
        sign = "+" if v > 0 else "-"
        line = f"• {c.label}: {format_value(c.value)} (impact: {sign}{whole_half_up(c.importance)}%{extra})\n"
        (positive if v > 0 else negative).append(line)
    text = HEADER
    if positive:
        text += "Positive factors:\n" + "".join(positive)
    if negative:
        text += "\nNegative factors:\n" + "".join(negative)
    return text


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
