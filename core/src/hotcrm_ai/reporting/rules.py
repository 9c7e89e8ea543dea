"""The deterministic ``rules`` translator: question -> Query AST by vocabulary, never by guessing.

It reads the vocabulary from the catalogue (object, field, metric and value synonyms, status groups,
event dates, plus the categorical values and record names found in the data), consumes every phrase
it understands and refuses a question with any word it cannot account for. Whole-word matching (no
"count" in "accounts"); the comparison phrase is read before the main period (so "vs last year" is
not the main period). Guards: ``guards.py``; words: ``vocabulary.py``; phases: ``parser.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from hotcrm_ai.reporting import rephrase
from hotcrm_ai.reporting.ast import NotUnderstood, Translated
from hotcrm_ai.reporting.catalogue import Catalogue
from hotcrm_ai.reporting.guards import examples, refusal
from hotcrm_ai.reporting.parser import Parse
from hotcrm_ai.reporting.vocabulary import normalize

__all__ = ["RulesTranslator", "examples", "normalize"]


class RulesTranslator:
    """Keyword/phrase translator. Deterministic: the same question, catalogue and ``now`` give the same AST."""

    name = "rules"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    def translate(
        self, question: str, *, catalogue: Catalogue, now: date, context: Mapping[str, Any]
    ) -> Translated | NotUnderstood:
        if not isinstance(question, str):
            return NotUnderstood("The question is empty.", suggestions=examples())
        text = normalize(question)
        refused = refusal(question, text)
        if refused is not None:
            return refused
        parse = Parse(catalogue, now, text)
        out = parse.run()
        if isinstance(out, Translated):
            return out
        fixes = rephrase.corrections(out.unknown, catalogue)
        if fixes:  # misspelt catalogue words ("revnue by regoin"): read again with the corrections shown
            fixed = Parse(catalogue, now, rephrase.apply(text, fixes)).run()
            if isinstance(fixed, Translated):
                return attrs.evolve(fixed, corrections=fixes)
        offers = rephrase.rephrasings(parse.partial, catalogue, lambda q: Parse(catalogue, now, normalize(q)).run())
        return attrs.evolve(out, suggestions=offers or out.suggestions)
