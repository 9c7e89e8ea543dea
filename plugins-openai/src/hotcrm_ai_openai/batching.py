"""Splitting embedding inputs into requests within the API's limits, and sharing a request's usage.

The API takes at most 2,048 inputs and 300,000 tokens per embeddings request. Counting tokens exactly
needs the model's tokenizer (tiktoken downloads its tables at run time, which a server may not be
allowed to do), so a text's token count is bounded by its UTF-8 length: every BPE token is at least
one byte. The bound is safe (never over the limit), at worst a few extra requests for long texts.
"""

from __future__ import annotations

from collections.abc import Sequence


def token_bound(text: str) -> int:
    """An upper bound on the tokens of ``text`` under any byte-level BPE (at least 1)."""
    return max(1, len(text.encode("utf-8")))


def split_batches(texts: Sequence[str], *, max_inputs: int, max_tokens: int) -> list[range]:
    """Consecutive index ranges of ``texts``, each within both limits (a single over-long text gets
    a request of its own and the API judges it)."""
    batches: list[range] = []
    start, budget = 0, 0
    for i, text in enumerate(texts):
        cost = token_bound(text)
        if i > start and (i - start >= max_inputs or budget + cost > max_tokens):
            batches.append(range(start, i))
            start, budget = i, 0
        budget += cost
    if start < len(texts):
        batches.append(range(start, len(texts)))
    return batches


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split an integer ``total`` over ``weights`` proportionally (largest remainder): the parts sum
    to ``total`` exactly, so per-row usage adds up to what the request was billed."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        weights, weight_sum = [1] * len(weights), len(weights)
    raw = [total * w / weight_sum for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts
