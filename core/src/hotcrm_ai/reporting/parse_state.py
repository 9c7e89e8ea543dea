"""The state one question's parse carries from phase to phase: the text still unread (phrases are
blanked out as they are understood), what was matched, and the ordering and limit read so far."""

from __future__ import annotations

from datetime import date

from hotcrm_ai.reporting.ast import Filter, Query
from hotcrm_ai.reporting.catalogue import NUMERIC_TYPES, Catalogue
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
        self.compounds: list[str] = []  # "account owner": two dimension words naming one unknown thing
        self.compared = False  # the question compares two periods
        self.ignored_metrics: list[str] = []  # metrics of another object than the one asked about
        self.partial: Query | None = None  # what was understood of a refused question (for rephrasings)

    def take(self, phrase: str) -> bool:
        m = phrase_re(phrase).search(self.text)
        if not m:
            return False
        self.text = blank(self.text, m)
        self.matched.append(phrase)
        return True

    # -- how phrases resolve on an object (shared by the phases) -------------------------------------
    def _field_path(self, obj: str, phrase: str) -> str | None:
        spec = self.cat.objects[obj]
        for fname, f in spec["fields"].items():
            if phrase in f.get("synonyms", []) or phrase == fname:
                return fname
        aliases = spec.get("aliases", {})
        if phrase in aliases:
            return next(a for a, t in aliases.items() if t == aliases[phrase])  # "rep", "agent" -> "owner"
        for jname, j in spec.get("joins", {}).items():
            for fname, f in self.cat.objects[j["object"]]["fields"].items():
                syns = f.get("synonyms", [])
                if phrase in syns or any(phrase == f"{w} {syn}" for syn in syns for w in (jname, j["object"])):
                    for alias, target in spec.get("aliases", {}).items():
                        if target == f"{jname}.{fname}":
                            return alias
                    return f"{jname}.{fname}"
        return None

    def _default_numeric(self, obj: str) -> str | None:
        spec = self.cat.objects[obj]
        for f in spec.get("display", []) + list(spec["fields"]):
            if spec["fields"][f]["type"] == "currency":
                return f
        for f, s in spec["fields"].items():
            if s["type"] in NUMERIC_TYPES and f != "id" and not f.endswith("_id"):
                return f
        return None
