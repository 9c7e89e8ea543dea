"""Parser phase: terms. Dimensions after "by", aggregate words over numeric fields, object and metric
names, and how a field or object phrase resolves on the object asked about."""

from __future__ import annotations

import re

from hotcrm_ai.reporting.ast import GroupBy
from hotcrm_ai.reporting.parse_state import ParseState
from hotcrm_ai.reporting.vocabulary import (
    AGG_WORDS,
    GROUP_START,
    NUMERIC_TYPES,
    TIME_DIMS,
    blank,
    first_prefix,
    phrase_re,
    prefix_re,
)

AGG_START = re.compile(
    r"\b(sum\s+of|total|sum|average|avg|mean|minimum|min|maximum|max|smallest|lowest|largest|biggest|highest)\s+(?:of\s+(?:the\s+)?)?(?:deal\s+|case\s+)?"
)


class TermReader(ParseState):
    def _field_aggs(self) -> list[tuple[str, str]]:
        """Explicit aggregate words over a numeric field ("average annual revenue", "total budget"):
        (func, field phrase); the field may follow a few words ("total closed lost amount")."""
        metric_phrases = self.vocab.metric_phrases
        field_aggs: list[tuple[str, str]] = []
        for am in list(AGG_START.finditer(self.text)):
            if any(prefix_re(mp).match(self.text, am.start()) for mp, _ in metric_phrases):
                continue  # "average deal size" is a metric, not avg(size)
            skips = [am.end() + m.end() for m in re.finditer(r"\S+\s+", self.text[am.end() :])][:3]
            for start in [am.end(), *skips]:
                between = self.text[am.end() : start]
                if between.strip() and any(phrase_re(mp).search(between) for mp, _ in metric_phrases):
                    break  # "total pipeline value" is the pipeline metric, not sum(value)
                rest = self.text[start:]
                hit = self._agg_field_at(rest)
                if hit is not None:
                    p, end = hit
                    field_aggs.append((AGG_WORDS[re.sub(r"\s+", " ", am.group(1))], p))
                    self.text = blank(blank(self.text, (start, start + end)), (am.start(), am.end()))
                    self.matched.append(p)
                    break
                if rest.strip()[:1] in ("", ",") or prefix_re("by").match(rest):
                    break
        return field_aggs

    def _agg_field_at(self, rest: str) -> tuple[str, int] | None:
        """The numeric field phrase ``rest`` starts with (not part of a longer metric phrase), and its end."""
        for p in self.vocab.numeric_phrases:
            fm = prefix_re(p).match(rest)
            if not fm:
                continue
            if any(phrase_re(mp).match(rest.lstrip()) and len(mp) > len(p) for mp, _ in self.vocab.metric_phrases):
                return None
            return p, fm.end()
        return None

    def _metric_word_phrases(self) -> tuple[list[tuple[int, str]], list[tuple[str, str, str]]]:
        """Object names and "<value> <field>" phrases that contain a metric word ("sales reps", "sales
        department"), read before metrics so "sales" in them is not revenue."""
        mentioned: list[tuple[int, str]] = []
        pending: list[tuple[str, str, str]] = []
        for phrase, oname in self.vocab.metric_object_phrases:
            m2 = phrase_re(phrase).search(self.text)
            if m2:
                mentioned.append((m2.start(), oname))
                self.text = blank(self.text, m2)
                self.matched.append(phrase)
        for phrase, owner, field, v in self.vocab.value_metric_phrases:
            if self.take(phrase):
                pending.append((owner, field, v))
        return mentioned, pending

    def _metrics(self, field_aggs: list[tuple[str, str]]) -> list[str]:
        for p in self.vocab.protected:
            if phrase_re(p).search(self.text):
                self.text = self.text.replace(p, " " * len(p))
                self.matched.append(p)
                field_aggs.append(("__field__", p))
        metrics: list[str] = []
        for phrase, name in self.vocab.metric_phrases:
            while self.take(phrase):
                if name not in metrics:
                    metrics.append(name)
        for w in ("total", "sum of", "overall"):
            self.take(w)
        return metrics

    def _objects(self, mentioned: list[tuple[int, str]]) -> list[str]:
        """Objects named in the question, in the order they appear."""
        for phrase, oname in self.vocab.object_phrases:
            m2 = phrase_re(phrase).search(self.text)
            if m2:
                if not phrase.endswith("s") and phrase not in ("people", "salespeople"):
                    self.singular.add(oname)
                mentioned.append((m2.start(), oname))
                self.text = blank(self.text, m2)
                self.matched.append(phrase)
        return [o for _, o in sorted(mentioned)]

    def _counted_with_measure(self, obj: str) -> bool:
        """ "deals and amount", "amount and number of deals": the records are counted beside the measure."""
        syns = "|".join(re.escape(x) for x in self.cat.objects[obj].get("synonyms", [obj]))
        return bool(
            re.search(rf"\b(?:{syns})\s+(?:and|&)\s|\s(?:and|&)\s+(?:number\s+of\s+)?(?:{syns})\b", self.original)
        )

    def _ranks_records(
        self, obj: str, metrics: list[str], order_raw: str | None, mentioned: list[str], group_by: list[GroupBy]
    ) -> bool:
        """ "top 5 opportunities in the pipeline by amount": a ranking of the records themselves by one of
        their own numeric fields, the metric only saying which records."""
        if not metrics or order_raw is None or group_by or obj not in mentioned:
            return False
        if self.limit is None and self.order_dir is None:
            return False
        path = self._field_path(obj, order_raw)
        if path is None or "." in path:
            return False
        return all(
            self.cat.metrics[m]["kind"] in ("sum", "count") and self.cat.metrics[m].get("where") for m in metrics
        )

    def _phrases_of(self, obj: str) -> set[str]:
        return {s for f in self.cat.objects[obj]["fields"].values() for s in f.get("synonyms", [])}

    def _owner_of(self, phrase: str) -> str | None:
        owners = [o for o, spec in self.cat.objects.items() if phrase in self._phrases_of(o)]
        return owners[0] if len(owners) == 1 else None

    def _group_phrases(self) -> tuple[list[str], str | None]:
        """Phrases after "by/per/for each ..." that name dimensions; a numeric field after "by" is a sort key."""
        field_phrases = self.vocab.field_phrases
        vocab = self.vocab.dim_phrases
        metric_words = [p for p, _ in self.vocab.metric_phrases]
        dims: list[str] = []
        order: str | None = None
        pos = 0
        while True:
            m = GROUP_START.search(self.text, pos)
            if not m:
                break
            pos = m.end()
            cursor = m.end()
            first = True
            while True:
                rest = self.text[cursor:]
                found = first_prefix(vocab, rest)
                if found is None:
                    break
                hit, hit_match = found
                if any(prefix_re(mp).match(rest) and len(mp) > len(hit) for mp in metric_words):
                    break
                end = cursor + hit_match.end()
                ftype = field_phrases.get(hit, ("", "", ""))[2]
                if ftype in NUMERIC_TYPES and hit not in TIME_DIMS:
                    order = hit
                else:
                    dims.append(hit)
                self.text = blank(self.text, (m.start() if first else cursor, end))
                self.matched.append(hit)
                first = False
                # two dimensions need a separator: "by account owner" is one thing (the account's
                # owner), not the account and the owner, so an unseparated word ends the list
                sep = re.match(
                    r"\s*(?:,\s*|(?:and|&|then)\s+|by\s+|per\s+)(?:by\s+|per\s+)?(?:the\s+)?", self.text[end:]
                )
                cursor = end + (sep.end() if sep else 0)
                if cursor == end:
                    self._compound(hit, end, vocab, dims)
                    break
        # adjectives: "monthly revenue", "quarterly bookings"
        for word in ("daily", "weekly", "monthly", "quarterly", "yearly", "annually"):
            if self.take(word):
                dims.append(word)
        return dims, order

    def _compound(self, hit: str, end: int, vocab: list[str], dims: list[str]) -> None:
        """A dimension word followed directly by another ("account owner", "region industry") names
        one thing the catalogue does not have: neither word is used, and the pair is not understood."""
        nxt = first_prefix(vocab, self.text[end:])
        if nxt is None:
            return
        if dims and dims[-1] == hit:
            dims.pop()
        self.text = blank(self.text, (end, end + nxt[1].end()))
        self.compounds.append(f"{hit} {nxt[0]}")

    def _object_dim(self, obj: str, other: str) -> GroupBy | None:
        spec = self.cat.objects[obj]
        for jname, j in spec.get("joins", {}).items():
            if j["object"] == other:
                name_field = self.cat.objects[other].get("name_field", "name")
                return GroupBy(f"{jname}.{name_field}")
        return None

    def _resolve_dim(self, obj: str, phrase: str) -> GroupBy | None:
        if phrase in TIME_DIMS:
            return (
                GroupBy(self.cat.objects[obj].get("date_field") or "", TIME_DIMS[phrase])
                if self.cat.objects[obj].get("date_field")
                else None
            )
        path = self._field_path(obj, phrase)
        if path is not None:
            return GroupBy(path)
        for oname, spec in self.cat.objects.items():
            if phrase in spec.get("synonyms", []):
                if oname == obj:
                    return GroupBy(spec.get("name_field", "name"))
                return self._object_dim(obj, oname)
        return None
