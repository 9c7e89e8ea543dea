"""What to offer when a question is refused: spelling corrections against the catalogue vocabulary,
and up to three questions close to it that can be answered.

Corrections only ever map a word to a catalogue word (a metric, object or field synonym, a status
group, a period word), never to a data value or a record name, so a misspelling cannot turn into a
filter the user did not ask for. A typo keeps the first letter and the length within one letter
("median" is not "mean"); a word that only differs by a plural "s" is not a typo.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from hotcrm_ai.reporting.ast import Query, Translated
from hotcrm_ai.reporting.catalogue import Catalogue

PERIOD_WORDS = [
    "last",
    "this",
    "next",
    "past",
    "quarter",
    "quarters",
    "month",
    "months",
    "year",
    "years",
    "week",
    "weeks",
    "today",
    "yesterday",
    "since",
    "between",
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "yearly",
    "average",
    "total",
    "number",
    "count",
    "maximum",
    "minimum",
    "highest",
    "lowest",
    "largest",
    "biggest",
    "smallest",
    "top",
    "bottom",
    "created",
    "closed",
    "resolved",
    "converted",
]
MIN_WORD = 4  # shorter words are too easily another word
CUTOFF = 0.8

_VOCAB: dict[int, tuple[Catalogue, tuple[str, ...]]] = {}


def vocabulary(cat: Catalogue) -> tuple[str, ...]:
    """Every single word of the catalogue's own vocabulary (computed once per catalogue)."""
    hit = _VOCAB.get(id(cat))
    if hit is not None and hit[0] is cat:
        return hit[1]
    phrases: list[str] = list(PERIOD_WORDS)
    for name, m in cat.metrics.items():
        phrases += [name.replace("_", " "), *m.get("synonyms", [])]
    for oname, spec in cat.objects.items():
        phrases += [oname, spec.get("plural", oname), *spec.get("synonyms", [])]
        phrases += list(spec.get("aliases", {}))
        for f in spec["fields"].values():
            phrases += f.get("synonyms", [])
    for vs in cat.data.get("value_sets", {}).values():
        phrases += vs.get("synonyms", [])
    words = tuple(sorted({w for p in phrases for w in re.findall(r"[a-z]+", p.lower()) if len(w) >= MIN_WORD}))
    if len(_VOCAB) > 8:
        _VOCAB.clear()
    _VOCAB[id(cat)] = (cat, words)
    return words


def corrections(words: list[str], cat: Catalogue) -> dict[str, str]:
    """Misspelt word -> the one catalogue word it is closest to (only clear, unique matches)."""
    vocab = vocabulary(cat)
    known = set(vocab)
    out: dict[str, str] = {}
    for word in dict.fromkeys(words):
        if len(word) < MIN_WORD or word in known or not word.isalpha():
            continue
        # a typo drops, adds, swaps or replaces a letter or two: same first letter, length within one
        near = [v for v in vocab if v[0] == word[0] and abs(len(v) - len(word)) <= 1]
        close = difflib.get_close_matches(word, near, n=2, cutoff=CUTOFF)
        if not close:
            continue
        best = close[0]
        if best.rstrip("s") == word.rstrip("s"):
            continue  # "employee" is not a misspelling of "employees": the word means something else here
        if len(close) > 1:
            ratio = difflib.SequenceMatcher(None, word, close[1]).ratio()
            if ratio >= difflib.SequenceMatcher(None, word, best).ratio() - 0.02:
                continue  # two catalogue words are as close: no clear correction
        out[word] = best
    return out


def apply(text: str, fixes: dict[str, str]) -> str:
    for word, fix in fixes.items():
        text = re.sub(rf"(?<![\w]){re.escape(word)}(?![\w])", fix, text)
    return text


def _period_phrase(query: Query) -> str:
    if query.time_range is None or not query.time_range.label:
        return ""
    label = query.time_range.label.split(" (")[0]
    return f" in {label}" if re.fullmatch(r"20\d\d|q[1-4] 20\d\d", label.lower()) else f" {label}"


def rephrasings(partial: Query | None, cat: Catalogue, answers: Callable[[str], Any]) -> list[str]:
    """Up to three questions built from what was understood that ``answers`` accepts (a Translated)."""
    if partial is None:
        return []
    obj = partial.object
    spec = cat.objects[obj]
    plural = spec.get("plural", obj)
    when = _period_phrase(partial)
    metric = next((a.metric for a in partial.aggregates if a.func == "metric" and a.metric), None)
    bases: list[str] = []
    if metric is not None:
        bases.append(cat.metrics[metric].get("synonyms", [metric])[0])
    bases.append(f"how many {plural}")
    bases += [m.get("synonyms", [n])[0] for n, m in cat.metrics.items() if m["object"] == obj and n != metric]
    dims = [s["synonyms"][0] for s in spec["fields"].values() if s.get("categorical") and s.get("synonyms")]
    candidates: list[str] = []
    for base in bases:
        candidates.append(f"{base}{when}")
        if dims:
            candidates.append(f"{base} by {dims[0]}{when}")
    out: list[str] = []
    for text in dict.fromkeys(c.strip() for c in candidates):
        if isinstance(answers(text), Translated):
            out.append(text[0].upper() + text[1:])
        if len(out) == 3:
            break
    return out
