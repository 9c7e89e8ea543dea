"""Parser phase: filters. Record names found in the data, categorical values and status groups,
and numeric conditions ("over $100k", "between 10k and 50k")."""

from __future__ import annotations

import re
from typing import Any

from hotcrm_ai.reporting.ast import Filter
from hotcrm_ai.reporting.parse_state import ParseState
from hotcrm_ai.reporting.vocabulary import COMPARATORS, MAX_NAME_WORDS, MULT, NUMBER, NUMERIC_TYPES, blank, phrase_re


class FilterReader(ParseState):
    def _named_records(self) -> None:
        """Names of records found in the data ("Iron Bank 3", "hiro muller 01"), longest first, as filters."""
        index = self.vocab.names
        if not index:
            return
        spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", self.text)]
        i = 0
        while i < len(spans):
            for n in range(min(MAX_NAME_WORDS, len(spans) - i), 0, -1):
                start, end = spans[i][0], spans[i + n - 1][1]
                key = " ".join(self.text[start:end].split()).strip("?,.!")
                hit = index.get(key) or index.get(key.removesuffix("'s"))  # "Omar Rossi 02's deals"
                if hit is not None:
                    self.names.append(hit)
                    self.matched.append(key)
                    self.text = blank(self.text, (start, end))
                    i += n - 1
                    break
            i += 1
        if self.names:
            for w in (
                "owned",
                "own",
                "owns",
                "handled",
                "handles",
                "managed",
                "manages",
                "assigned",
                "named",
                "called",
            ):
                self.take(w)

    def _path_to(self, obj: str, owner: str, field: str) -> str | None:
        """The field path from ``obj`` to ``owner.field`` (itself, an alias of a join, or the join path)."""
        if owner == obj:
            return field
        spec = self.cat.objects[obj]
        for jname, j in spec.get("joins", {}).items():
            if j["object"] == owner:
                target = f"{jname}.{field}"
                return next((a for a, t in spec.get("aliases", {}).items() if t == target), target)
        return None

    def _names_own_value(self, obj: str) -> bool:
        """The unread text names a value of one of ``obj``'s own categorical fields (not a joined one)."""
        own = self.cat.objects[obj]["fields"]
        return any(
            path in own and phrase_re(phrase).search(self.text) for phrase, path, _, _ in self.vocab.candidates[obj]
        )

    def _value_filters(self, obj: str) -> list[Filter]:
        """Values found in the data ("EMEA", "high priority", "renewals") and status groups ("open")."""
        found: dict[str, list[tuple[Any, str]]] = {}
        for phrase, path, value, op in self.vocab.candidates[obj]:
            op = op.removeprefix("set:")
            m = phrase_re(phrase).search(self.text)
            if m:
                self.text = blank(self.text, m)
                self.matched.append(phrase)
                found.setdefault(path, []).append((value, op))
        out: list[Filter] = []
        for path in found:  # words that only announce the value: "technology industry", "high priority"
            rf = self.cat.resolve(obj, path)
            for syn in sorted(
                self.cat.objects[rf.object]["fields"][rf.column].get("synonyms", []), key=len, reverse=True
            ):
                self.take(syn)
        for path, vals in found.items():
            eqs = [v for v, op in vals if op == "eq"]
            others = [(v, op) for v, op in vals if op != "eq"]
            if len(eqs) == 1:
                out.append(Filter(path, "eq", eqs[0]))
            elif eqs:
                out.append(Filter(path, "in", list(dict.fromkeys(eqs))))
                self.split_fields.append(path)
            out += [Filter(path, op, v) for v, op in others]
        return out

    def _numeric_filters_raw(self) -> list[tuple[str, str, float, str]]:
        """(before-words, op, number, after-words) for "amount over $50k", "more than 500 employees",
        "between 10k and 50k" (two conditions)."""
        out = []
        between = re.compile(
            r"(?P<before>(?:\b[a-z]+\s+){0,3})between\s+"
            + NUMBER.replace("num>", "lo>").replace("mult>", "lomult>")
            + r"\s+(?:and|to|-)\s+"
            + NUMBER.replace("num>", "hi>").replace("mult>", "himult>")
            + r"(?P<after>(?:\s+[a-z]+){0,2})"
        )
        for m in list(between.finditer(self.text)):
            lo = float(m.group("lo").replace(",", "")) * MULT.get(m.group("lomult") or "", 1)
            hi = float(m.group("hi").replace(",", "")) * MULT.get(m.group("himult") or "", 1)
            out += [
                (m.group("before").strip(), "gte", min(lo, hi), m.group("after").strip()),
                (m.group("before").strip(), "lte", max(lo, hi), m.group("after").strip()),
            ]
            self.text = blank(self.text, (m.start() + len(m.group("before")), m.end() - len(m.group("after"))))
        for pattern, op in COMPARATORS:
            for m in list(
                re.finditer(
                    r"(?P<before>(?:\b[a-z]+\s+){0,3})" + pattern + r"\s*" + NUMBER + r"(?P<after>(?:\s+[a-z]+){0,2})",
                    self.text,
                )
            ):
                num = float(m.group("num").replace(",", "")) * MULT.get(m.group("mult") or "", 1)
                out.append((m.group("before").strip(), op, num, m.group("after").strip()))
                self.text = blank(self.text, (m.start() + len(m.group("before")), m.end() - len(m.group("after"))))
        return out

    def _numeric_filters(self, obj: str, raw: list[tuple[str, str, float, str]]) -> list[Filter]:
        out = []
        for before, op, num, after in raw:
            path = None
            for words in (after, before):
                toks = words.split()
                for n in range(len(toks), 0, -1):
                    for i in range(len(toks) - n + 1):
                        cand = " ".join(toks[i : i + n])
                        p = self._field_path(obj, cand)
                        if p and self.cat.resolve(obj, p).type in NUMERIC_TYPES:
                            path = p
                            self.take(cand)
                            break
                    if path:
                        break
                if path:
                    break
            path = path or self._default_numeric(obj)
            if path:
                value: float | int = int(num) if num.is_integer() else num
                out.append(Filter(path, op, value))
        return out
