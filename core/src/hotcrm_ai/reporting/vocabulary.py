"""The rules translator's words: fillers, aggregate and period words, text folding and phrase
matching, and ``Vocabulary``, the catalogue's phrases prepared once per catalogue.

A filler is a word that never changes an answer ("show", "me", "please", "our"): it may be left over
after parsing. Every other word must map to the query or the question is refused.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import attrs

from hotcrm_ai.reporting.catalogue import NUMERIC_TYPES, Catalogue

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
    "add",
    "brings",
    "right",
    "now",
    "select",
    "owned",
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
ORDER_DESC = re.compile(r"\b(top|highest|most|best|largest|biggest|leading)\b")
ORDER_ASC = re.compile(r"\b(bottom|lowest|least|worst|smallest|fewest)\b")
TOP_N = re.compile(
    r"\b(top|bottom|first|best|worst|highest|lowest|largest|biggest|smallest|which|latest|newest|oldest|earliest)\s+(\d{1,4})\b|\b(\d{1,4})\s+(largest|biggest|highest|lowest|smallest|best|worst|top|most|least|oldest|newest|latest|earliest)\b"
)
# a list ordered by the object's own date: "the 5 most recent deals", "the 10 oldest open cases"
NEWEST = re.compile(r"\b(?:most\s+recent|newest|latest|most\s+recently\s+created)\b")
OLDEST = re.compile(r"\b(?:oldest|earliest|least\s+recent)\b")
# the lookahead keeps "1e309" / "2.5x" from being read as 1 / 2.5 (the rest would be silently dropped)
NUMBER = r"\$?\s*(?P<num>\d[\d,]*(?:\.\d+)?)(?:\s*(?P<mult>k|mm|m|million|thousand|bn|billion)\b)?(?!\w|\.\d)"
COMPARATORS = [
    (r"(?:greater\s+than|more\s+than|over|above|exceeding|>)", "gt"),
    (r"(?:at\s+least|>=|no\s+less\s+than)", "gte"),
    (r"(?:less\s+than|fewer\s+than|under|below|<)", "lt"),
    (r"(?:at\s+most|<=|no\s+more\s+than|up\s+to)", "lte"),
]
PERIOD_START = (
    r"(?:in|during|on|since|between|from|last|this|next|past|yesterday|today|q[1-4]|20\d\d|ytd|before|after|over)\b"
)
# "vs" joins two things the answer must show side by side: two values of a field, two measures, two
# periods. Left over otherwise ("cases opened vs resolved"), it means a comparison that was not understood.
VERSUS = ("vs", "vs.", "versus")
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


def blank(text: str, m: re.Match[str] | tuple[int, int]) -> str:
    s, e = (m.start(), m.end()) if isinstance(m, re.Match) else m
    return text[:s] + " " * (e - s) + text[e:]


@functools.lru_cache(maxsize=16384)
def prefix_re(phrase: str) -> re.Pattern[str]:
    """``phrase`` as whole words at the start of a string (after optional spaces)."""
    return re.compile(r"\s*" + re.escape(phrase).replace(r"\ ", r"\s+") + r"(?![\w])")


def first_prefix(phrases: list[str], text: str) -> tuple[str, re.Match[str]] | None:
    """The first of ``phrases`` that ``text`` starts with, and its match (for where it ends)."""
    for phrase in phrases:
        if (match := prefix_re(phrase).match(text)) is not None:
            return phrase, match
    return None


@functools.lru_cache(maxsize=16384)
def phrase_re(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])" + re.escape(phrase).replace(r"\ ", r"\s+") + r"(?![\w])")


Candidate = tuple[str, str, Any, str]  # (phrase, field path, value, op; "set:<op>" for a status group)


@attrs.frozen
class Vocabulary:
    """The catalogue's phrases, sorted and cross-checked once (the parser reads them per question)."""

    metric_phrases: list[tuple[str, str]]  # (phrase, metric), longest first
    field_phrases: dict[str, tuple[str, str, str]]  # phrase -> (object, field, type)
    protected: list[str]  # field phrases containing a metric word ("annual revenue" stays a field)
    object_phrases: list[tuple[str, str]]  # (phrase, object), longest first
    metric_object_phrases: list[tuple[str, str]]  # object phrases containing a metric word ("sales reps")
    value_metric_phrases: list[tuple[str, str, str, str]]  # ("sales department", object, field, value)
    dim_phrases: list[str]  # what may follow "by": fields, objects, aliases, joined fields, time units
    numeric_phrases: list[str]  # phrases of numeric fields, longest first
    candidates: dict[str, list[Candidate]]  # object -> value phrases it may be filtered by, in match order
    names: dict[str, tuple[str, str, str]]  # folded record name -> (object, field, stored value)

    @classmethod
    def of(cls, cat: Catalogue) -> Vocabulary:
        hit = _CACHE.get(id(cat))
        if hit is not None and hit[0] is cat:
            return hit[1]
        vocab = _build(cat)
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[id(cat)] = (cat, vocab)
        return vocab


_CACHE: dict[int, tuple[Catalogue, Vocabulary]] = {}


def _build(cat: Catalogue) -> Vocabulary:
    metric_phrases = sorted(
        ((s, name) for name, mt in cat.metrics.items() for s in mt.get("synonyms", [name])), key=lambda x: -len(x[0])
    )
    field_phrases: dict[str, tuple[str, str, str]] = {}
    for oname, spec in cat.objects.items():
        for fname, f in spec["fields"].items():
            for syn in f.get("synonyms", []):
                field_phrases.setdefault(syn, (oname, fname, f["type"]))
    names = dict(metric_phrases)
    has_metric_word = functools.lru_cache(maxsize=None)(
        lambda p: any(phrase_re(mp).search(p) for mp, _ in metric_phrases)
    )
    protected = [p for p in field_phrases if p not in names and has_metric_word(p)]
    object_phrases = sorted(
        ((s, o) for o, spec in cat.objects.items() for s in spec.get("synonyms", [o])), key=lambda x: -len(x[0])
    )
    value_metric_phrases = []
    for owner, field in cat.categorical_fields():
        syns = cat.objects[owner]["fields"][field].get("synonyms", [])
        for v in cat.values.get(f"{owner}.{field}", ()):
            if v.lower() in names:
                value_metric_phrases += [(f"{v.lower()} {syn}", owner, field, v) for syn in syns]
    return Vocabulary(
        metric_phrases=metric_phrases,
        field_phrases=field_phrases,
        protected=protected,
        object_phrases=object_phrases,
        metric_object_phrases=[(p, o) for p, o in object_phrases if has_metric_word(p)],
        value_metric_phrases=value_metric_phrases,
        dim_phrases=_dim_phrases(cat, field_phrases),
        numeric_phrases=sorted((p for p, f in field_phrases.items() if f[2] in NUMERIC_TYPES), key=len, reverse=True),
        candidates={o: _candidates(cat, o) for o in cat.objects},
        names=_name_index(cat),
    )


def _dim_phrases(cat: Catalogue, field_phrases: dict[str, tuple[str, str, str]]) -> list[str]:
    dim_vocab = set(TIME_DIMS) | set(field_phrases)
    for spec in cat.objects.values():
        dim_vocab |= set(spec.get("synonyms", [])) | set(spec.get("aliases", {}))
        for jname, j in spec.get("joins", {}).items():  # "account industry", "owner region"
            for f in cat.objects[j["object"]]["fields"].values():
                dim_vocab |= {f"{w} {syn}" for syn in f.get("synonyms", []) for w in (jname, j["object"])}
    return sorted(dim_vocab, key=len, reverse=True)


def _candidates(cat: Catalogue, obj: str) -> list[Candidate]:
    """Value phrases of ``obj``'s categorical fields and of its joins' (with value synonyms and plurals),
    and its status groups; longest first, a status group before a raw value of the same words."""
    spec = cat.objects[obj]
    out: list[Candidate] = []
    paths: list[tuple[str, str, str]] = [(f, obj, f) for f, s in spec["fields"].items() if s.get("categorical")]
    for jname, j in spec.get("joins", {}).items():
        target = j["object"]
        for f, s in cat.objects[target]["fields"].items():
            if s.get("categorical"):
                alias = next((a for a, t in spec.get("aliases", {}).items() if t == f"{jname}.{f}"), f"{jname}.{f}")
                paths.append((alias, target, f))
    for path, owner, field in paths:
        syn = cat.data.get("value_synonyms", {}).get(f"{owner}.{field}", {})
        for v in cat.values.get(f"{owner}.{field}", ()):
            phrase = fold(v).replace("_", " ")
            out.append((phrase, path, v, "eq"))
            if not phrase.endswith("s") and phrase.replace(" ", "").isalpha():
                out.append((phrase + "s", path, v, "eq"))  # "webinars", "renewals"
            out += [(fold(s), path, v, "eq") for s in syn.get(v, [])]
    for key, vs in cat.data.get("value_sets", {}).items():
        if key.split(".")[0] == obj:
            out += [(s, vs["field"], vs["value"], "set:" + vs["op"]) for s in vs.get("synonyms", [])]
    own = set(spec["fields"])
    out = [c for c in out if len(c[0]) >= 2]
    return sorted(out, key=lambda c: (-len(c[0]), not c[3].startswith("set:"), c[1] not in own))


MAX_NAME_WORDS = 6


def _name_index(cat: Catalogue) -> dict[str, tuple[str, str, str]]:
    """Folded record name -> (object, field, stored value), for objects whose names are matched
    against the data (``match_names`` in the catalogue); a name two objects share is ambiguous and
    left out."""
    index: dict[str, tuple[str, str, str]] = {}
    clashes: set[str] = set()
    for oname, field in cat.name_fields():
        for v in cat.values.get(f"{oname}.{field}", ()):
            key = " ".join(fold(v).split())
            if len(key) < 3 or len(key.split()) > MAX_NAME_WORDS:
                continue
            if key in index and index[key][0] != oname:
                clashes.add(key)
            index.setdefault(key, (oname, field, v))
    for key in clashes:
        del index[key]
    return index
