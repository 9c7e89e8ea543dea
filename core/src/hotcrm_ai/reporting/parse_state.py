"""The state one question's parse carries from phase to phase: the text still unread (phrases are
blanked out as they are understood), what was matched, and the ordering and limit read so far."""

from __future__ import annotations

from datetime import date

from hotcrm_ai.reporting.ast import Filter, Query
from hotcrm_ai.reporting.catalogue import Catalogue
from hotcrm_ai.reporting.vocabulary import Vocabulary, blank, phrase_re


class ParseState:
    def __init__(self, cat: Catalogue, now: date, text: str) -> None:
        self.cat, self.now, self.text = cat, now, f" {text} "
        self.vocab = Vocabulary.of(cat)
        self.original = f" {text} "
        self.which = " which " in self.original
        self.singular: set[str] = set()  # objects named in the singular ("largest opportunity": one row)
        self.matched: list[str] = []
        self.order_dir: str | None = None
        self.limit: int | None = None
        self.list_filters: list[Filter] = []  # conditions of a metric that only says which records to rank
        self.split_fields: list[str] = []  # fields of which several values were named: one row per value
        self.bare_top = False  # "top accounts by revenue": a ranking without a number (10 rows)
        self.names: list[tuple[str, str, str]] = []  # (object, field, value) of records named in the question
        self.partial: Query | None = None  # what was understood of a refused question (for rephrasings)

    def take(self, phrase: str) -> bool:
        m = phrase_re(phrase).search(self.text)
        if not m:
            return False
        self.text = blank(self.text, m)
        self.matched.append(phrase)
        return True
