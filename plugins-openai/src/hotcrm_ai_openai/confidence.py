"""Confidence (0-100) for an answer: the model's own, else the probability it gave its answer.

When the answer has a confidence field, that is what the model says. Otherwise, with token
log-probabilities, the confidence is the probability of the tokens that spell the deciding field's
value (``"positive"`` in a sentiment answer): the JSON punctuation around it is near-certain under
structured outputs and would only dilute it. Without a deciding field it is the geometric mean
per-token probability of the whole reply. Metadata says which was used.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from hotcrm_ai.answers import answer_confidence


@attrs.frozen
class Confidence:
    value: float  # 0-100
    source: str  # "answer" | "logprobs" | "none"
    detail: str = ""  # which field, or "mean_token"


NONE = Confidence(0.0, "none")


def from_answer(answer: Any, field: str | None, schema: Mapping[str, Any] | None) -> Confidence | None:
    """The answer's own confidence field, on 0-100 (a field declared with maximum <= 1 is scaled)."""
    value = answer_confidence(answer, field, schema)
    return None if value is None else Confidence(value, "answer", str(field))


def _value_span(text: str, field: str) -> tuple[int, int] | None:
    """Character span of ``field``'s value in a JSON text (inside the quotes for strings)."""
    key = re.escape(json.dumps(field))
    match = re.search(key + r'\s*:\s*("(?:[^"\\]|\\.)*"|-?\d[\d.eE+\-]*|true|false|null)', text)
    if not match:
        return None
    start, end = match.span(1)
    if text[start] == '"':
        start, end = start + 1, end - 1
    return (start, end) if end > start else None


def from_logprobs(tokens: Iterable[Any] | None, field: str | None) -> Confidence | None:
    """Confidence from ``choices[0].logprobs.content`` (objects or dicts with ``token``, ``logprob``)."""
    items = [(_get(t, "token"), _get(t, "logprob")) for t in tokens or ()]
    items = [
        (str(tok), float(lp))
        for tok, lp in items
        if tok is not None and isinstance(lp, (int, float)) and math.isfinite(lp)
    ]
    if not items:
        return None
    if field:
        text = "".join(tok for tok, _ in items)
        span = _value_span(text, field)
        if span is not None:
            total, pos = 0.0, 0
            for tok, lp in items:
                end = pos + len(tok)
                if end > span[0] and pos < span[1]:
                    total += lp
                pos = end
            return Confidence(round(100.0 * math.exp(min(0.0, total)), 6), "logprobs", f"field:{field}")
    mean = sum(lp for _, lp in items) / len(items)
    return Confidence(round(100.0 * math.exp(min(0.0, mean)), 6), "logprobs", "mean_token")


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
