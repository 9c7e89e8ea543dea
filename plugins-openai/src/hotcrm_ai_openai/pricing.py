"""Token prices and the cost of one call, in USD.

Defaults are list prices of the common models, in USD per 1,000 tokens. Prices change
and differ per account, so ``config.prices`` (declared in ``options.OpenAIConfig``) overrides or
extends them. A model with no known price
gets no ``cost_usd`` at all rather than a guessed one: an absent number is honest, a wrong one is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from hotcrm_ai.options import at_least


@attrs.frozen
class Price:
    """USD per 1,000 tokens (``config.prices``: ``{model = {input = x, output = y}}``)."""

    input: float = attrs.field(validator=at_least(0, integer=False))
    output: float = attrs.field(default=0.0, validator=at_least(0, integer=False))

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1000.0


DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4": Price(input=0.03, output=0.06),
    "gpt-4o-mini": Price(input=0.00015, output=0.0006),
    "text-embedding-3-small": Price(input=0.00002),
}

_SNAPSHOT = re.compile(r"^(?P<base>.+?)-\d{4}-\d{2}-\d{2}$")


def price_for(prices: Mapping[str, Price], model: str | None) -> Price | None:
    """Exact name, else the name without a dated snapshot suffix (``gpt-4o-mini-2024-07-18``).

    No prefix matching: ``gpt-4o`` and ``gpt-4-turbo`` are priced unlike ``gpt-4``.
    """
    if not model:
        return None
    if model in prices:
        return prices[model]
    match = _SNAPSHOT.match(model)
    return prices.get(match.group("base")) if match else None


def usage_record(prompt_tokens: int, completion_tokens: int, price: Price | None) -> dict[str, Any]:
    """The ``metadata['usage']`` dict: token counts, and ``cost_usd`` when the price is known."""
    record: dict[str, Any] = {
        "prompt_tokens": int(prompt_tokens),
        "completion_tokens": int(completion_tokens),
        "total_tokens": int(prompt_tokens) + int(completion_tokens),
    }
    if price is not None:
        record["cost_usd"] = price.cost(prompt_tokens, completion_tokens)
    return record
