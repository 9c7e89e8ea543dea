"""The deterministic ``rules`` translator: question -> Query AST by vocabulary, never by guessing.

It reads the vocabulary from the catalogue (object, field, metric and value synonyms, plus the
categorical values found in the data), consumes every phrase it understands, and refuses when
nothing maps. Fixes over the original parser (reference §11.2): whole-word matching (no "count" in
"accounts"), the comparison phrase is removed before the main period is read (so "vs last year"
is not the main period), previous periods are computed, numbers ("top 10") and filters are read.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from hotcrm_ai.reporting import periods, rephrase
from hotcrm_ai.reporting.ast import (
    Aggregate,
    Comparison,
    Filter,
    GroupBy,
    NotUnderstood,
    OrderBy,
    Query,
    TimeRange,
    Translated,
)
from hotcrm_ai.reporting.catalogue import NUMERIC_TYPES, Catalogue

MAX_QUESTION = 500
_DDL_OBJECTS = (
    r"(?:table|tables|database|schema|index|view|column|constraint|trigger|function|procedure|user|role|sequence)"
)
_RECORDS = r"(?:the\s+|all\s+|every\s+|our\s+|this\s+|that\s+|these\s+|those\s+)?\S+"
# words asking to change data or the database. Ordinary English senses stay allowed ("why did revenue
# drop", "accounts we created", "cold call leads"): the verb must take a database or record object.
WRITE_WORDS = re.compile(
    r"\b(insert|delete|truncate|grant|revoke|attach|detach|pragma|vacuum|upsert|commit|rollback|exec)\b"
    r"|\b((?:drop|create|alter|rename)\s+(?:or\s+replace\s+)?" + _DDL_OBJECTS + r")\b"
    r"|\b(update\s+" + _RECORDS + r"\s+set)\b|\b(update\s+(?:the\s+|all\s+)?(?:records?|rows?|data|database|accounts?|"
    r"leads?|contacts?|cases?|opportunit(?:y|ies)|deals?|campaigns?|users?|products?|tickets?))\b"
    r"|\b(replace\s+into|merge\s+into|execute\s+\w+|call\s+\w+\s*\()"
)
SQL_SYNTAX = re.compile(
    r";|--|/\*|\*/|\bunion\b|\bselect\b.*\bfrom\b|\bwhere\b\s+\w+\s*(=|<|>|like)|\b(sqlite_\w*|pg_\w+|information_schema|sys\.\w+|mysql\.\w+)\b|\bsleep\s*\(|\bpg_sleep\b|\b0x[0-9a-f]+\b|'\s*or\s*'|\bor\s+1\s*=\s*1\b"
)
STOPWORDS = set(
    [
        "a",
        "an",
        "the",
        "me",
        "us",
        "show",
        "showing",
        "shown",
        "give",
        "get",
        "list",
        "display",
        "tell",
        "what",
        "whats",
        "what's",
        "which",
        "who",
        "whom",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "our",
        "my",
        "your",
        "their",
        "its",
        "it",
        "this",
        "that",
        "these",
        "those",
        "of",
        "for",
        "in",
        "on",
        "at",
        "by",
        "per",
        "to",
        "from",
        "with",
        "without",
        "and",
        "or",
        "vs",
        "versus",
        "please",
        "can",
        "could",
        "would",
        "you",
        "i",
        "we",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "how",
        "much",
        "many",
        "all",
        "each",
        "every",
        "overall",
        "total",
        "totals",
        "breakdown",
        "break",
        "down",
        "report",
        "chart",
        "graph",
        "plot",
        "trend",
        "trends",
        "over",
        "time",
        "there",
        "any",
        "some",
        "see",
        "want",
        "need",
        "know",
        "find",
        "into",
        "across",
        "between",
        "during",
        "as",
        "so",
        "far",
        "up",
        "value",
        "values",
        "amount",
        "figure",
        "figures",
        "number",
        "numbers",
        "data",
        "current",
        "currently",
        "let",
        "lets",
        "let's",
        "view",
        "look",
        "split",
        "group",
        "grouped",
        "latest",
        "recent",
        "recently",
        "ever",
        "than",
        "more",
        "less",
        "most",
        "least",
        "top",
        "bottom",
        "best",
        "worst",
        "highest",
        "lowest",
        "largest",
        "biggest",
        "smallest",
        "where",
        "when",
        "compare",
        "compared",
        "against",
        "summary",
        "summarize",
        "sum",
        "count",
        "counts",
        "rate",
        "rates",
        "average",
        "avg",
        "mean",
        "metric",
        "metrics",
        "kpi",
        "kpis",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "being",
        "got",
        "getting",
        "make",
        "made",
        "generated",
        "generate",
        "created",
        "opened",
        "new",
        "open",
        "still",
        "score",
        "scores",
        "rating",
        "ratings",
        "kind",
        "brought",
        "bring",
        "doing",
        "we've",
        "i'd",
        "like",
    ]
)
STOPWORDS |= {
    "hours",
    "hour",
    "hrs",
    "so",
    "far",
    "create",
    "why",
    "came",
    "come",
    "coming",
    "started",
    "starting",
    "launched",
    "list",
    "owned",
    "vs",
}
AGG_WORDS = {
    "total": "sum",
    "sum": "sum",
    "sum of": "sum",
    "average": "avg",
    "avg": "avg",
    "mean": "avg",
    "minimum": "min",
    "min": "min",
    "smallest": "min",
    "lowest": "min",
    "maximum": "max",
    "max": "max",
    "largest": "max",
    "biggest": "max",
    "highest": "max",
}
TIME_DIMS = {
    "day": "day",
    "days": "day",
    "daily": "day",
    "date": "day",
    "week": "week",
    "weeks": "week",
    "weekly": "week",
    "month": "month",
    "months": "month",
    "monthly": "month",
    "quarter": "quarter",
    "quarters": "quarter",
    "quarterly": "quarter",
    "year": "year",
    "years": "year",
    "yearly": "year",
    "annually": "year",
}
GROUP_START = re.compile(
    r"\b(?:which|what|group(?:ed)?\s+by|broken\s+down\s+by|break(?:ing)?\s+down\s+by|split\s+by|segmented\s+by|by|per|for\s+each|for\s+every|each|across(?:\s+all)?)\s+(?:the\s+|each\s+|every\s+|all\s+)?"
)
BARE_TOP = re.compile(r"\b(top|bottom)\b(?=\s+[a-z])")
MAX_NAME_WORDS = 6
ORDER_DESC = re.compile(r"\b(top|highest|most|best|largest|biggest|leading)\b")
ORDER_ASC = re.compile(r"\b(bottom|lowest|least|worst|smallest|fewest)\b")
TOP_N = re.compile(
    r"\b(top|bottom|first|best|worst|highest|lowest|largest|biggest|smallest)\s+(\d{1,4})\b|\b(\d{1,4})\s+(largest|biggest|highest|lowest|smallest|best|worst|top|most|least)\b"
)
# the lookahead keeps "1e309" / "2.5x" from being read as 1 / 2.5 (the rest would be silently dropped)
NUMBER = r"\$?\s*(?P<num>\d[\d,]*(?:\.\d+)?)(?:\s*(?P<mult>k|mm|m|million|thousand|bn|billion)\b)?(?!\w|\.\d)"
COMPARATORS = [
    (r"(?:greater\s+than|more\s+than|over|above|exceeding|>)", "gt"),
    (r"(?:at\s+least|>=|no\s+less\s+than)", "gte"),
    (r"(?:less\s+than|fewer\s+than|under|below|<)", "lt"),
    (r"(?:at\s+most|<=|no\s+more\s+than|up\s+to)", "lte"),
]
_PERIOD_START = (
    r"(?:in|during|on|since|between|from|last|this|next|past|yesterday|today|q[1-4]|20\d\d|ytd|before|after|over)\b"
)
NEGATIONS = frozenset(
    {"not", "no", "non", "never", "excluding", "exclude", "excludes", "except", "without", "other", "isn't", "aren't"}
)
MULT = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}


def normalize(question: str) -> str:
    """NFKC-fold, drop invisible/format characters, lower-case, one space between words."""
    text = unicodedata.normalize("NFKC", question)
    text = "".join(
        "" if unicodedata.category(c) == "Cf" else (" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c)
        for c in text
    )
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", fold(text)).strip()


def fold(text: str) -> str:
    """Lower-case without accents, so "Müller" and "muller" are the same name."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _blank(text: str, m: re.Match[str] | tuple[int, int]) -> str:
    s, e = (m.start(), m.end()) if isinstance(m, re.Match) else m
    return text[:s] + " " * (e - s) + text[e:]


@functools.lru_cache(maxsize=16384)
def _prefix_re(phrase: str) -> re.Pattern[str]:
    """``phrase`` as whole words at the start of a string (after optional spaces)."""
    return re.compile(r"\s*" + re.escape(phrase).replace(r"\ ", r"\s+") + r"(?![\w])")


def _first_prefix(phrases: list[str], text: str) -> tuple[str, re.Match[str]] | None:
    """The first of ``phrases`` that ``text`` starts with, and its match (for where it ends)."""
    for phrase in phrases:
        if (match := _prefix_re(phrase).match(text)) is not None:
            return phrase, match
    return None


@functools.lru_cache(maxsize=16384)
def _phrase_re(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])" + re.escape(phrase).replace(r"\ ", r"\s+") + r"(?![\w])")


_VOCAB: dict[int, tuple[Catalogue, tuple[Any, ...]]] = {}


def _vocabulary(cat: Catalogue) -> tuple[Any, ...]:
    """Metric phrases (longest first), field phrases, and field phrases that contain a metric word
    ("annual revenue" must stay a field): computed once per catalogue."""
    hit = _VOCAB.get(id(cat))
    if hit is not None and hit[0] is cat:
        return hit[1]
    metric_phrases = sorted(
        ((s, name) for name, mt in cat.metrics.items() for s in mt.get("synonyms", [name])), key=lambda x: -len(x[0])
    )
    field_phrases: dict[str, tuple[str, str, str]] = {}
    for oname, spec in cat.objects.items():
        for fname, f in spec["fields"].items():
            for syn in f.get("synonyms", []):
                field_phrases.setdefault(syn, (oname, fname, f["type"]))
    names = dict(metric_phrases)
    protected = [
        p for p in field_phrases if p not in names and any(_phrase_re(mp).search(p) for mp, _ in metric_phrases)
    ]
    if len(_VOCAB) > 8:
        _VOCAB.clear()
    _VOCAB[id(cat)] = (cat, (metric_phrases, field_phrases, protected))
    return metric_phrases, field_phrases, protected


class RulesTranslator:
    """Keyword/phrase translator. Deterministic: the same question, catalogue and ``now`` give the same AST."""

    name = "rules"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    # -- public -----------------------------------------------------------------------------------
    def translate(
        self, question: str, *, catalogue: Catalogue, now: date, context: Mapping[str, Any]
    ) -> Translated | NotUnderstood:
        if not isinstance(question, str) or not question.strip():
            return NotUnderstood("The question is empty.", suggestions=examples())
        if len(question) > MAX_QUESTION:
            return NotUnderstood(
                f"The question is too long ({len(question)} characters; at most {MAX_QUESTION}).",
                suggestions=examples(),
            )
        text = normalize(question)
        if (write := WRITE_WORDS.search(text)) is not None:
            word = write.group(0)
            return NotUnderstood(
                f"'{word}' asks to change data or the database; reporting is read-only "
                "and only answers questions about CRM data.",
                unknown=[word],
                suggestions=examples(),
            )
        if (sql := SQL_SYNTAX.search(text)) is not None:
            return NotUnderstood(
                "The question contains SQL or database names; ask in plain words about CRM data "
                "(SQL text is never run).",
                unknown=[sql.group(0)[:40]],
                suggestions=examples(),
            )
        parse = _Parse(catalogue, now, text)
        out = parse.run()
        if isinstance(out, Translated):
            return out
        fixes = rephrase.corrections(out.unknown, catalogue)
        if fixes:
            parse = _Parse(catalogue, now, rephrase.apply(text, fixes))
            fixed = parse.run()
            if isinstance(fixed, Translated):
                return attrs.evolve(fixed, corrections=fixes)
            out = fixed
        offers = rephrase.rephrasings(parse.partial, catalogue, lambda q: _Parse(catalogue, now, normalize(q)).run())
        return attrs.evolve(out, suggestions=offers or out.suggestions)


def examples() -> list[str]:
    return [
        "Revenue by region last quarter",
        "Win rate by rep in 2025",
        "How many high priority cases this month?",
        "Top 10 accounts by annual revenue",
        "Lead conversion rate by source in Q3 2025",
        "Average resolution time by priority",
        "Pipeline by stage vs last year",
    ]


class _Parse:
    def __init__(self, cat: Catalogue, now: date, text: str) -> None:
        self.cat, self.now, self.text = cat, now, f" {text} "
        self.which = bool(re.search(r"\bwhich\b", text))
        self.original = f" {text} "
        self.singular: set[str] = set()
        self.matched: list[str] = []
        self.order_dir: str | None = None
        self.limit: int | None = None
        self.list_filters: list[Filter] = []
        self.split_fields: list[str] = []  # fields of which several values were named: one row per value
        self.partial: Query | None = None  # what was understood of a refused question (for rephrasings)
        self.bare_top = False  # "top accounts by revenue": a ranking without a number (10 rows)
        self.names: list[tuple[str, str, str]] = []  # (object, field, value) of records named in the question

    def take(self, phrase: str) -> bool:
        m = _phrase_re(phrase).search(self.text)
        if not m:
            return False
        self.text = _blank(self.text, m)
        self.matched.append(phrase)
        return True

    def run(self) -> Translated | NotUnderstood:
        cat = self.cat
        comparison, self.text = periods.find_comparison(self.text)
        compared_with: periods.Period | None = None
        if comparison is None:
            compared_with, self.text = periods.find_explicit_comparison(self.text, self.now)
            comparison = "custom" if compared_with is not None else None
        self._named_records()
        # top / bottom N
        m = TOP_N.search(self.text)
        bare = BARE_TOP.search(self.text) if m is None else None
        if bare:
            self.bare_top = True
            self.order_dir = "asc" if bare.group(1) == "bottom" else "desc"
            self.text = self.text[: bare.start()] + " by " + " " * max(0, bare.end() - bare.start() - 4) + self.text[bare.end() :]
        if m:
            word = m.group(1) or m.group(4)
            self.limit = int(m.group(2) or m.group(3))
            self.order_dir = "asc" if word in ("bottom", "worst", "lowest", "smallest", "least") else "desc"
            # what follows "top N" may be a dimension ("bottom 3 industries by win rate"): read it as "by ..."
            self.text = self.text[: m.start()] + " by " + " " * max(0, m.end() - m.start() - 4) + self.text[m.end() :]
        numeric = self._numeric_filters_raw()
        period, self.text = periods.find_period(self.text, self.now)
        self.text = f" {self.text} "

        metric_phrases, field_phrases, protected = _vocabulary(cat)

        dims_raw, order_raw = self._group_phrases(field_phrases, metric_phrases)

        # explicit aggregate words over a numeric field ("average annual revenue", "total budget")
        field_aggs: list[tuple[str, str]] = []
        agg_re = re.compile(
            r"\b(sum\s+of|total|sum|average|avg|mean|minimum|min|maximum|max|smallest|lowest|largest|biggest|highest)\s+(?:of\s+(?:the\s+)?)?(?:deal\s+|case\s+)?"
        )
        for am in list(agg_re.finditer(self.text)):
            if any(_prefix_re(mp).match(self.text, am.start()) for mp, _ in metric_phrases):
                continue  # "average deal size" is a metric, not avg(size)
            num_phrases = sorted(
                (p for p in field_phrases if field_phrases[p][2] in NUMERIC_TYPES), key=len, reverse=True
            )
            # the field may follow a few words ("total closed lost amount", "average campaign budget")
            skips = [am.end() + m.end() for m in re.finditer(r"\S+\s+", self.text[am.end() :])][:3]
            starts = [am.end(), *skips]
            done = False
            for start in starts:
                between = self.text[am.end() : start]
                if between.strip() and any(_phrase_re(mp).search(between) for mp, _ in metric_phrases):
                    break  # "total pipeline value" is the pipeline metric, not sum(value)
                rest = self.text[start:]
                for p in num_phrases:
                    fm = _prefix_re(p).match(rest)
                    if not fm:
                        continue
                    if any(_phrase_re(mp).match(rest.lstrip()) and len(mp) > len(p) for mp, _ in metric_phrases):
                        break
                    field_aggs.append((AGG_WORDS[re.sub(r"\s+", " ", am.group(1))], p))
                    self.text = _blank(_blank(self.text, (start, start + fm.end())), (am.start(), am.end()))
                    self.matched.append(p)
                    done = True
                    break
                if done or rest.strip()[:1] in ("", ",") or _prefix_re("by").match(rest):
                    break

        # object names and "<value> <field>" phrases that contain a metric word ("sales reps", "sales department")
        mentioned: list[tuple[int, str]] = []
        pending: list[tuple[str, str, str]] = []
        obj_syns = sorted(
            ((s, o) for o, spec in cat.objects.items() for s in spec.get("synonyms", [o])), key=lambda x: -len(x[0])
        )
        for phrase, oname in obj_syns:
            if any(_phrase_re(mp).search(phrase) for mp, _ in metric_phrases):
                m2 = _phrase_re(phrase).search(self.text)
                if m2:
                    mentioned.append((m2.start(), oname))
                    self.text = _blank(self.text, m2)
                    self.matched.append(phrase)
        metric_names = dict(metric_phrases)
        for key, vals in cat.values.items():
            owner, field = key.split(".", 1)
            syns = cat.objects[owner]["fields"][field].get("synonyms", [])
            for v in vals:
                if v.lower() in metric_names:
                    for syn in syns:
                        if self.take(f"{v.lower()} {syn}"):
                            pending.append((owner, field, v))

        # metrics
        for p in protected:
            if _phrase_re(p).search(self.text):
                self.text = self.text.replace(p, " " * len(p))
                self.matched.append(p)
                field_aggs.append(("__field__", p))
        metrics: list[str] = []
        for phrase, name in metric_phrases:
            while self.take(phrase):
                if name not in metrics:
                    metrics.append(name)
        for w in ("total", "sum of", "overall"):
            self.take(w)

        # object
        obj: str | None = None
        for phrase, oname in obj_syns:
            m2 = _phrase_re(phrase).search(self.text)
            if m2:
                if not phrase.endswith("s") and phrase not in ("people", "salespeople"):
                    self.singular.add(oname)
                mentioned.append((m2.start(), oname))
                self.text = _blank(self.text, m2)
                self.matched.append(phrase)
        mentioned_objs = [o for _, o in sorted(mentioned)]
        ignored_metrics: list[str] = []
        if metrics:
            obj = cat.metrics[metrics[0]]["object"]
            ignored_metrics = [mt for mt in metrics if cat.metrics[mt]["object"] != obj]
            metrics = [mt for mt in metrics if cat.metrics[mt]["object"] == obj]
        elif field_aggs:
            owners = [
                o
                for o in mentioned_objs
                if field_phrases[field_aggs[0][1]][0] == o or field_aggs[0][1] in self._phrases_of(o)
            ]
            obj = owners[0] if owners else (mentioned_objs[0] if mentioned_objs else self._owner_of(field_aggs[0][1]))
        elif mentioned_objs:
            obj = mentioned_objs[0]
        if obj is None:  # "top 10 accounts by annual revenue": the object was read as a dimension
            for phrase in dims_raw:
                syn_owner = next((o for o, spec in cat.objects.items() if phrase in spec.get("synonyms", [])), None)
                if syn_owner:
                    obj = syn_owner
                    break
        if obj is None:
            return NotUnderstood(self._not_understood_reason(), unknown=self._unknown(), suggestions=examples())

        joinable = {j["object"] for j in cat.objects[obj].get("joins", {}).values()}
        strangers = [o for o in dict.fromkeys(mentioned_objs) if o != obj and o not in joinable]
        if strangers:
            return NotUnderstood(
                f"The question names several kinds of records ({', '.join([obj, *strangers])}) that cannot be "
                "combined in one answer; ask about one at a time.",
                unknown=strangers,
                suggestions=examples(),
            )

        # dimensions
        group_by: list[GroupBy] = []
        unknown_dims: list[str] = []
        for phrase in dims_raw:
            if phrase in cat.objects[obj].get("synonyms", []):
                continue  # the object itself: rows are listed, not grouped
            g = self._resolve_dim(obj, phrase)
            if g is None:
                unknown_dims.append(phrase)
            elif g not in group_by:
                group_by.append(g)
        for o in mentioned_objs:
            if o != obj and (self.limit or self.order_dir) and (metrics or field_aggs):
                g = self._object_dim(obj, o)
                if g and g not in group_by:
                    group_by.append(g)

        named_objs = mentioned_objs + [o for o in cat.objects if set(dims_raw) & set(cat.objects[o].get("synonyms", []))]
        if self._ranks_records(obj, metrics, order_raw, named_objs, group_by):
            for mt in metrics:
                self.list_filters += [Filter(**c) for c in cat.metrics[mt].get("where", [])]
            metrics = []
        # aggregates
        aggregates = [Aggregate("metric", metric=mt, alias=mt) for mt in metrics]
        for func, phrase in field_aggs:
            path = self._field_path(obj, phrase)
            if path is None:
                unknown_dims.append(phrase)
                continue
            if func == "__field__":
                if order_raw is None:
                    order_raw = phrase
                continue
            alias = f"{func}_{self.cat.resolve(obj, path).output}"
            if all(a.alias != alias for a in aggregates):
                aggregates.append(Aggregate(func, field=path, alias=alias))
        counting = bool(re.search(r"\b(how\s+many|number\s+of|count\s+of|count|counts|volume|no\.\s+of)\b", self.text))
        if counting:
            for w in ("how many", "number of", "count of", "count", "counts", "volume"):
                self.take(w)
        if not aggregates and (group_by or (self.limit is None and not self.order_dir)):
            # money fields named on their own ("campaign spend by type", "spend vs budget"): their totals
            for p in sorted(self.cat.objects[obj]["fields"], key=len, reverse=True):
                f = self.cat.objects[obj]["fields"][p]
                syns = sorted(f.get("synonyms", []), key=len, reverse=True)
                if f["type"] == "currency" and any(self.take(syn) for syn in syns):
                    aggregates.append(Aggregate("sum", field=p, alias=f"sum_{p}"))
            if aggregates and self._counted_with_measure(obj):
                aggregates.insert(0, Aggregate("count", alias="count"))  # "deals and amount by stage"
        if not aggregates and (counting or group_by):
            aggregates = [Aggregate("count", alias="count")]

        # an event verb whose date the period applies to, and which is not also a value ("cases resolved in May")
        for rule in cat.data.get("event_dates", {}).get(obj, []):
            if rule.get("replaces_value") and period is not None and self._event(rule):
                for w in re.findall(r"\b(?:" + rule["pattern"] + r")\b", self.text):
                    self.take(w)
        # filters
        filters = self._value_filters(obj)
        filters += [f for f in self.list_filters if f not in filters]
        for owner, field, value in pending:
            path = (
                field
                if owner == obj
                else next(
                    (
                        a
                        for a, t in cat.objects[obj].get("aliases", {}).items()
                        if t.split(".")[0] in cat.objects[obj].get("joins", {})
                        and cat.objects[obj]["joins"][t.split(".")[0]]["object"] == owner
                        and t.split(".")[1] == field
                    ),
                    None,
                )
            )
            if path is None:
                return NotUnderstood(f"'{value}' ({owner} {field}) does not apply to {obj}.", suggestions=examples())
            filters.append(Filter(path, "eq", value))
        for owner, field, value in self.names:
            named = self._path_to(obj, owner, field)
            if named is None:
                return NotUnderstood(
                    f"'{value}' is a {owner}, which {cat.objects[obj].get('plural', obj)} cannot be filtered by.",
                    unknown=[value],
                    suggestions=examples(),
                )
            filters.append(Filter(named, "eq", value))
        filters += self._numeric_filters(obj, numeric)
        aggregates, filters = _as_metrics(cat, obj, aggregates, filters)
        # several values of one field ("new business vs renewals", "won vs lost deals"): one row per value
        for f in filters:
            if f.field in self.split_fields and f.op == "in" and all(g.field != f.field for g in group_by):
                group_by.append(GroupBy(f.field))
                if not aggregates:
                    aggregates = [Aggregate("count", alias="count")]

        # time range
        time_range = None
        cmp = None
        if comparison and period is None:
            period = periods.calendar("year", self.now)
            period = periods.Period(period.start, period.end, f"this year ({period.label})", "year")
        if period is not None:
            explicit_created = bool(re.search(r"\b(created|opened|added|submitted|received)\b", self.original))
            ratio = any(a.func == "metric" and cat.metrics[a.metric]["kind"] == "ratio" for a in aggregates if a.metric)
            # a rate is dated by its own cohort date ("converted in 2025" does not re-date the conversion rate)
            tfield = None if ratio else self._time_field(obj, any(a.func == "metric" for a in aggregates))
            closed = [
                f
                for f in filters
                if f.field == "stage"
                and f.op in ("eq", "in")
                and set(f.value if isinstance(f.value, list) else [f.value]) <= {"closed_won", "closed_lost"}
            ]
            if obj == "opportunity" and closed and not explicit_created and tfield in (None, "created_at"):
                tfield = "close_date"  # won/lost deals are dated by when they closed
            time_range = TimeRange(period.start.isoformat(), period.end.isoformat(), tfield, period.label)
            if comparison:
                cp = compared_with or (
                    periods.year_over_year(period)
                    if comparison == "year_over_year"
                    else periods.previous_period(period)
                )
                cmp = Comparison(comparison, cp.start.isoformat(), cp.end.isoformat(), cp.label)
        first_metric = next((a.metric for a in aggregates if a.func == "metric" and a.metric), None)
        bucket_field = (time_range.field if time_range is not None else None) or (
            cat.metrics[first_metric].get("date_field") if first_metric else None
        )
        if bucket_field:
            group_by = [GroupBy(bucket_field, g.bucket) if g.bucket else g for g in group_by]

        # order / limit
        order_by: list[OrderBy] = []
        if order_raw is not None:
            path = self._field_path(obj, order_raw)
            if path is not None and not aggregates and all(f.field != path for f in filters):
                order_by.append(OrderBy(path, self.order_dir or "desc"))
        if not order_by:
            if self.order_dir is None:
                if ORDER_DESC.search(self.text):
                    self.order_dir = "desc"
                elif ORDER_ASC.search(self.text):
                    self.order_dir = "asc"
            if self.order_dir and aggregates and group_by:
                order_by.append(OrderBy(aggregates[0].alias or "count", self.order_dir))
                if self.limit is None and self.which:
                    self.limit = 1
            elif self.order_dir and not aggregates:
                path = self._default_numeric(obj)
                if path:
                    order_by.append(OrderBy(path, self.order_dir))
        if order_by and not aggregates and self.limit is None and obj in self.singular:
            self.limit = 1  # "largest opportunity in APAC"
        if self.bare_top and self.limit is None and order_by:
            self.limit = 10
        for w in (
            "top",
            "highest",
            "most",
            "best",
            "largest",
            "biggest",
            "leading",
            "bottom",
            "lowest",
            "least",
            "worst",
            "smallest",
            "fewest",
        ):
            self.take(w)

        unknown = self._unknown() + unknown_dims + ignored_metrics
        loose = [
            m.group(2)
            for m in re.finditer(
                r"\b(by|per|for|from|at|with|about|of|in|on|named|called)\s+(?:the\s+|our\s+|all\s+)?([a-z0-9][a-z0-9_'.-]*)",
                self.text,
            )
            if m.group(2) in unknown
        ]
        # an unmapped negation or number changes the answer ("revenue not in EMEA" is not EMEA's revenue,
        # "last 0 days" is not all time): refuse rather than answer without it
        loose += [w for w in unknown if w.strip("'") in NEGATIONS or any(c.isdigit() for c in w)]
        query = Query(
            object=obj,
            filters=filters,
            group_by=group_by,
            aggregates=aggregates,
            order_by=order_by,
            limit=self.limit,
            time_range=time_range,
            comparison=cmp,
        )
        if unknown:
            # every content word must be accounted for: an unmapped verb, measure, grouping or name could
            # change the answer, so the question is not answered as if it had been understood
            self.partial = query
            what = ", ".join(dict.fromkeys(unknown_dims + loose + unknown))
            return NotUnderstood(
                f"Could not map '{what}' to a field, value, grouping or period of {obj} "
                "(answering without it would be a guess).",
                unknown=list(dict.fromkeys(unknown)),
                suggestions=examples(),
            )
        return _with_notes(query, self.matched, unknown)

    # -- named records, rankings, several measures ---------------------------------------------------
    def _named_records(self) -> None:
        """Names of records found in the data ("Iron Bank 3", "hiro muller 01"), longest first, as filters."""
        index = _name_index(self.cat)
        if not index:
            return
        spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", self.text)]
        i = 0
        while i < len(spans):
            for n in range(min(MAX_NAME_WORDS, len(spans) - i), 0, -1):
                start, end = spans[i][0], spans[i + n - 1][1]
                key = " ".join(self.text[start:end].split()).strip("?,.!")
                hit = index.get(key)
                if hit is not None:
                    self.names.append(hit)
                    self.matched.append(key)
                    self.text = _blank(self.text, (start, end))
                    i += n - 1
                    break
            i += 1
        if self.names:
            for w in ("owned", "handled", "managed", "assigned", "named", "called"):
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

    def _counted_with_measure(self, obj: str) -> bool:
        """"deals and amount", "amount and number of deals": the records are counted beside the measure."""
        syns = "|".join(re.escape(x) for x in self.cat.objects[obj].get("synonyms", [obj]))
        return bool(re.search(rf"\b(?:{syns})\s+(?:and|&)\s|\s(?:and|&)\s+(?:number\s+of\s+)?(?:{syns})\b", self.original))

    def _ranks_records(
        self, obj: str, metrics: list[str], order_raw: str | None, mentioned: list[str], group_by: list[GroupBy]
    ) -> bool:
        """"top 5 opportunities in the pipeline by amount": a ranking of the records themselves by one of
        their own numeric fields, the metric only saying which records."""
        if not metrics or order_raw is None or group_by or obj not in mentioned:
            return False
        if self.limit is None and self.order_dir is None:
            return False
        path = self._field_path(obj, order_raw)
        if path is None or "." in path:
            return False
        return all(self.cat.metrics[m]["kind"] in ("sum", "count") and self.cat.metrics[m].get("where") for m in metrics)

    # -- vocabulary -------------------------------------------------------------------------------
    def _phrases_of(self, obj: str) -> set[str]:
        return {s for f in self.cat.objects[obj]["fields"].values() for s in f.get("synonyms", [])}

    def _owner_of(self, phrase: str) -> str | None:
        owners = [o for o, spec in self.cat.objects.items() if phrase in self._phrases_of(o)]
        return owners[0] if len(owners) == 1 else None

    def _group_phrases(
        self, field_phrases: Mapping[str, Any], metric_phrases: list[tuple[str, str]]
    ) -> tuple[list[str], str | None]:
        """Phrases after "by/per/for each ..." that name dimensions; a numeric field after "by" is a sort key."""
        dim_vocab = set(TIME_DIMS) | set(field_phrases)
        for spec in self.cat.objects.values():
            dim_vocab |= set(spec.get("synonyms", [])) | set(spec.get("aliases", {}))
            for jname, j in spec.get("joins", {}).items():  # "account industry", "owner region"
                for f in self.cat.objects[j["object"]]["fields"].values():
                    dim_vocab |= {f"{w} {syn}" for syn in f.get("synonyms", []) for w in (jname, j["object"])}
        vocab = sorted(dim_vocab, key=len, reverse=True)
        metric_words = [p for p, _ in metric_phrases]
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
                found = _first_prefix(vocab, rest)
                if found is None:
                    break
                hit, hit_match = found
                if any(_prefix_re(mp).match(rest) and len(mp) > len(hit) for mp in metric_words):
                    break
                end = cursor + hit_match.end()
                ftype = field_phrases.get(hit, ("", "", ""))[2]
                if ftype in NUMERIC_TYPES and hit not in TIME_DIMS:
                    order = hit
                else:
                    dims.append(hit)
                self.text = _blank(self.text, (m.start() if first else cursor, end))
                self.matched.append(hit)
                first = False
                sep = re.match(r"\s*(?:,|and|&|then)?\s*(?:by\s+|per\s+)?(?:the\s+)?", self.text[end:])
                cursor = end + (sep.end() if sep else 0)
                if cursor == end:
                    break
        # adjectives: "monthly revenue", "quarterly bookings"
        for word in ("daily", "weekly", "monthly", "quarterly", "yearly", "annually"):
            if self.take(word):
                dims.append(word)
        return dims, order

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

    def _default_numeric(self, obj: str) -> str | None:
        spec = self.cat.objects[obj]
        for f in spec.get("display", []) + list(spec["fields"]):
            if spec["fields"][f]["type"] == "currency":
                return f
        for f, s in spec["fields"].items():
            if s["type"] in NUMERIC_TYPES and f != "id" and not f.endswith("_id"):
                return f
        return None

    def _time_field(self, obj: str, by_metric: bool) -> str | None:
        """Which date a period applies to: an event verb next to the period picks its date
        ("deals won last month" -> close_date, "cases resolved in May" -> resolved_at)."""
        spec = self.cat.objects[obj]
        for w in ("created", "opened", "added", "new", "submitted", "received"):
            self.take(w)
        for rule in self.cat.data.get("event_dates", {}).get(obj, []):
            verb = re.compile(r"\b(?:" + rule["pattern"] + r")\b")
            if self._event(rule):
                for w in verb.findall(self.text):
                    self.take(w)
                return rule["field"]
        if by_metric:
            return None  # the metric's own date field (revenue: close_date)
        return spec.get("date_field")

    def _event(self, rule: Mapping[str, Any]) -> bool:
        """The event verb stands next to a period ("won last month"), or the deal is "closing"."""
        verb = r"\b(?:" + rule["pattern"] + r")\b\s+" + _PERIOD_START
        if "clos" in rule["pattern"]:
            verb += r"|\b(?:closing|closes|close)\b"
        return bool(re.search(verb, self.original))

    # -- filters ----------------------------------------------------------------------------------
    def _value_filters(self, obj: str) -> list[Filter]:
        spec = self.cat.objects[obj]
        candidates: list[tuple[str, str, Any, str]] = []  # (phrase, path, value, op)
        paths: list[tuple[str, str, str]] = [(f, obj, f) for f, s in spec["fields"].items() if s.get("categorical")]
        for jname, j in spec.get("joins", {}).items():
            target = j["object"]
            for f, s in self.cat.objects[target]["fields"].items():
                if s.get("categorical"):
                    alias = next((a for a, t in spec.get("aliases", {}).items() if t == f"{jname}.{f}"), f"{jname}.{f}")
                    paths.append((alias, target, f))
        for path, owner, field in paths:
            syn = self.cat.data.get("value_synonyms", {}).get(f"{owner}.{field}", {})
            for v in self.cat.values.get(f"{owner}.{field}", ()):
                phrase = fold(v).replace("_", " ")
                candidates.append((phrase, path, v, "eq"))
                if not phrase.endswith("s") and phrase.replace(" ", "").isalpha():
                    candidates.append((phrase + "s", path, v, "eq"))  # "webinars", "renewals"
                for s in syn.get(v, []):
                    candidates.append((fold(s), path, v, "eq"))
        for key, vs in self.cat.data.get("value_sets", {}).items():
            if key.split(".")[0] == obj:
                for s in vs.get("synonyms", []):
                    candidates.append((s, vs["field"], vs["value"], "set:" + vs["op"]))
        found: dict[str, list[tuple[Any, str]]] = {}
        own = set(spec["fields"])
        for phrase, path, value, op in sorted(
            candidates, key=lambda c: (-len(c[0]), not c[3].startswith("set:"), c[1] not in own)
        ):
            op = op.removeprefix("set:")
            if len(phrase) < 2:
                continue
            pat = _phrase_re(phrase)
            m = pat.search(self.text)
            if m:
                self.text = _blank(self.text, m)
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
        # tidy up words that only announced the value ("industry", "priority", "region" after a value)
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
            self.text = _blank(self.text, (m.start() + len(m.group("before")), m.end() - len(m.group("after"))))
        for pattern, op in COMPARATORS:
            for m in list(
                re.finditer(
                    r"(?P<before>(?:\b[a-z]+\s+){0,3})" + pattern + r"\s*" + NUMBER + r"(?P<after>(?:\s+[a-z]+){0,2})",
                    self.text,
                )
            ):
                num = float(m.group("num").replace(",", "")) * MULT.get(m.group("mult") or "", 1)
                out.append((m.group("before").strip(), op, num, m.group("after").strip()))
                self.text = _blank(self.text, (m.start() + len(m.group("before")), m.end() - len(m.group("after"))))
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

    # -- what was not understood ------------------------------------------------------------------
    def _unknown(self) -> list[str]:
        words = re.findall(r"[a-z0-9_.'$-]+", self.text)
        return [
            w for w in words if w.strip("'.-$") and w.strip("'.-$?") not in STOPWORDS
        ]  # a stray number is unknown too: dropping it silently would change the answer

    def _not_understood_reason(self) -> str:
        unknown = self._unknown()
        what = f" (not understood: {', '.join(unknown[:8])})" if unknown else ""
        return (
            "Could not tell which CRM data the question is about"
            + what
            + ". Name a metric (revenue, pipeline, deal count, win rate, average deal size, lead count, "
            "lead conversion rate, "
            "case count, average resolution time, average CSAT) or an object "
            "(accounts, contacts, leads, opportunities, cases, campaigns, products, users)."
        )


def _as_metrics(
    cat: Catalogue, obj: str, aggs: list[Aggregate], filters: list[Filter]
) -> tuple[list[Aggregate], list[Filter]]:
    """sum/avg/count of a metric's own field under exactly the metric's filter is that metric
    ("total value of closed won deals" = revenue, dated as revenue is)."""
    out = []
    used: list[Filter] = []
    for a in aggs:
        hit = None
        for name, m in cat.metrics.items():
            if m["object"] != obj or m["kind"] != a.func or m.get("field") != a.field or not m.get("where"):
                continue
            want = [Filter(**c) for c in m["where"]]
            if all(w in filters for w in want):
                hit = name
                used += want
                break
        out.append(Aggregate("metric", metric=hit, alias=hit) if hit else a)
    return out, [f for f in filters if f not in used]


_NAMES: dict[int, tuple[Catalogue, dict[str, tuple[str, str, str]]]] = {}


def _name_index(cat: Catalogue) -> dict[str, tuple[str, str, str]]:
    """Folded record name -> (object, field, stored value), for objects whose names are matched
    against the data (``match_names`` in the catalogue); a name shared by two records' objects is
    ambiguous and left out."""
    hit = _NAMES.get(id(cat))
    if hit is not None and hit[0] is cat:
        return hit[1]
    index: dict[str, tuple[str, str, str]] = {}
    clashes: set[str] = set()
    for oname, spec in cat.objects.items():
        if not spec.get("match_names"):
            continue
        field = spec.get("name_field", "name")
        for v in cat.values.get(f"{oname}.{field}", ()):
            key = " ".join(fold(v).split())
            if len(key) < 3 or len(key.split()) > MAX_NAME_WORDS:
                continue
            if key in index and index[key][0] != oname:
                clashes.add(key)
            index.setdefault(key, (oname, field, v))
    for key in clashes:
        del index[key]
    if len(_NAMES) > 8:
        _NAMES.clear()
    _NAMES[id(cat)] = (cat, index)
    return index


def _with_notes(query: Query, matched: list[str], unknown: list[str]) -> Translated:
    return Translated(query, list(dict.fromkeys(matched)), list(dict.fromkeys(unknown)))
