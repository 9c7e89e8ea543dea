"""Date ranges from words: relative ("last quarter", "last 30 days"), absolute ("Q3 2025", "in 2025",
"March 2025", "2025-01-01 to 2025-03-31") and the comparison period derived from the main one.

Conventions (documented in docs/reporting.md): ranges are inclusive calendar days; "this month/quarter/
year" is the whole calendar period containing ``now``; "ytd/mtd/qtd" and "so far" end at ``now``;
"last N days" is ``now - N days .. now``; a quarter with no year is in ``now``'s year.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import attrs

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
UNIT_WORDS = {
    "day": "day",
    "days": "day",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
    "quarter": "quarter",
    "quarters": "quarter",
    "year": "year",
    "years": "year",
}


@attrs.frozen
class Period:
    start: date
    end: date
    label: str
    unit: str | None = None  # calendar unit when the range is exactly one (day/week/month/quarter/year)


def month_end(y: int, m: int) -> date:
    return (date(y + (m == 12), m % 12 + 1, 1)) - timedelta(days=1)


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    return date(y, m + 1, min(d.day, month_end(y, m + 1).day))


def calendar(unit: str, d: date) -> Period:
    """The calendar ``unit`` containing ``d``."""
    if unit == "day":
        return Period(d, d, d.isoformat(), "day")
    if unit == "week":
        s = d - timedelta(days=d.weekday())
        return Period(s, s + timedelta(days=6), f"week of {s.isoformat()}", "week")
    if unit == "month":
        return Period(date(d.year, d.month, 1), month_end(d.year, d.month), d.strftime("%B %Y"), "month")
    if unit == "quarter":
        q = (d.month - 1) // 3 + 1
        return Period(date(d.year, 3 * q - 2, 1), month_end(d.year, 3 * q), f"Q{q} {d.year}", "quarter")
    if unit == "year":
        return Period(date(d.year, 1, 1), date(d.year, 12, 31), str(d.year), "year")
    raise ValueError(f"unit: expected day/week/month/quarter/year, got {unit!r}")


def shift(p: Period, unit: str, n: int) -> Period:
    """The calendar period ``n`` units after (negative: before) ``p``'s start."""
    if unit == "day":
        return calendar("day", p.start + timedelta(days=n))
    if unit == "week":
        return calendar("week", p.start + timedelta(weeks=n))
    months = {"month": 1, "quarter": 3, "year": 12}[unit] * n
    return calendar(unit, add_months(p.start, months))


def previous_period(p: Period) -> Period:
    """The period just before ``p``: the previous calendar unit, else a range of the same length."""
    if p.unit:
        prev = shift(p, p.unit, -1)
        return attrs.evolve(prev, label=f"previous period ({prev.label})")
    days = (p.end - p.start).days + 1
    s = p.start - timedelta(days=days)
    return Period(
        s,
        p.start - timedelta(days=1),
        f"previous {days} days ({s.isoformat()} to {(p.start - timedelta(days=1)).isoformat()})",
    )


def year_over_year(p: Period) -> Period:
    s, e = add_months(p.start, -12), add_months(p.end, -12)
    if p.end == month_end(p.end.year, p.end.month):
        e = month_end(e.year, e.month)
    label = (
        p.label.replace(str(p.start.year), str(s.year), 1)
        if str(p.start.year) in p.label
        else f"{s.isoformat()} to {e.isoformat()}"
    )
    return Period(s, e, label, p.unit)


_ISO = r"(\d{4}-\d{2}-\d{2})"
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")"


def _iso(s: str) -> date:
    return date.fromisoformat(s)


def _relative(m: re.Match[str], now: date) -> Period:
    which, unit = m.group(1), UNIT_WORDS[m.group(2)]
    cur = calendar(unit, now)
    if which in ("this", "current"):
        return attrs.evolve(cur, label=f"this {unit} ({cur.label})")
    if which == "next":
        p = shift(cur, unit, 1)
        return attrs.evolve(p, label=f"next {unit} ({p.label})")
    p = shift(cur, unit, -1)
    return attrs.evolve(p, label=f"last {unit} ({p.label})")


def _last_n(m: re.Match[str], now: date) -> Period:
    n, unit = int(m.group(2)), UNIT_WORDS[m.group(3)]
    if n < 1 or n > 1000:
        raise ValueError("period length out of range")
    if unit == "day":
        s = now - timedelta(days=n)
    elif unit == "week":
        s = now - timedelta(weeks=n)
    else:
        s = add_months(now, -n * {"month": 1, "quarter": 3, "year": 12}[unit])
    return Period(s, now, f"last {n} {m.group(3)} ({s.isoformat()} to {now.isoformat()})")


def _to_date(m: re.Match[str], now: date) -> Period:
    unit = {"ytd": "year", "mtd": "month", "qtd": "quarter"}.get(m.group(1)) or UNIT_WORDS[m.group(2)]
    cur = calendar(unit, now)
    return Period(cur.start, now, f"{unit} to date ({cur.start.isoformat()} to {now.isoformat()})")


def _so_far(m: re.Match[str], now: date) -> Period:
    unit = m.group("u") or m.group("u2")
    cur = calendar(unit, now)
    return Period(cur.start, now, f"{unit} to date ({cur.start.isoformat()} to {now.isoformat()})")


def _quarter(m: re.Match[str], now: date) -> Period:
    q = int(m.group("q"))
    y = int(m.group("y")) if m.group("y") else now.year
    return calendar("quarter", date(y, 3 * q - 2, 1))


def _ordinal_quarter(m: re.Match[str], now: date) -> Period:
    q = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}[m.group("ord")]
    y = int(m.group("y")) if m.group("y") else now.year
    return calendar("quarter", date(y, 3 * q - 2, 1))


def _half(m: re.Match[str], now: date) -> Period:
    h = 1 if m.group("h") in ("1", "first") else 2
    y = int(m.group("y")) if m.group("y") else now.year
    return Period(date(y, 6 * h - 5, 1), month_end(y, 6 * h), f"H{h} {y}")


def _month(m: re.Match[str], now: date) -> Period:
    mo = MONTHS[m.group("m")]
    y = int(m.group("y")) if m.group("y") else (now.year if mo <= now.month else now.year - 1)
    return calendar("month", date(y, mo, 1))


def _year(m: re.Match[str], now: date) -> Period:
    return calendar("year", date(int(m.group("y")), 1, 1))


def _between(m: re.Match[str], now: date) -> Period:
    s, e = _iso(m.group(1)), _iso(m.group(2))
    if e < s:
        s, e = e, s
    return Period(s, e, f"{s.isoformat()} to {e.isoformat()}")


def _since(m: re.Match[str], now: date) -> Period:
    s = _iso(m.group(1))
    return Period(s, now, f"since {s.isoformat()}")


def _since_year(m: re.Match[str], now: date) -> Period:
    s = date(int(m.group(1)), 1, 1)
    return Period(s, now, f"since {s.year}")


def _today(m: re.Match[str], now: date) -> Period:
    d = now if m.group(1) == "today" else now - timedelta(days=1)
    return Period(d, d, f"{m.group(1)} ({d.isoformat()})", "day")


def _on_day(m: re.Match[str], now: date) -> Period:
    d = _iso(m.group(1))
    return Period(d, d, d.isoformat(), "day")


# Ordered: more specific patterns first. Each match is removed from the text before the next runs.
PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str], date], Period]]] = [
    (re.compile(r"\b(?:between|from)\s+" + _ISO + r"\s+(?:and|to|until|through)\s+" + _ISO + r"\b"), _between),
    (re.compile(r"\b" + _ISO + r"\s+(?:to|until|through|-)\s+" + _ISO + r"\b"), _between),
    (re.compile(r"\b(?:since|after|from)\s+" + _ISO + r"\b"), _since),
    (re.compile(r"\b(?:since)\s+(20\d{2})\b"), _since_year),
    (re.compile(r"\b(?:on\s+)?" + _ISO + r"\b"), _on_day),
    (re.compile(r"\b(ytd|mtd|qtd)\b|\b(year|month|quarter)[\s-]to[\s-]date\b"), _to_date),
    (
        re.compile(r"\bso\s+far\s+this\s+(?P<u>year|month|quarter)\b|\bthis\s+(?P<u2>year|month|quarter)\s+so\s+far\b"),
        _so_far,
    ),
    (
        re.compile(
            r"\b(?:in\s+|during\s+|for\s+)?(?:the\s+)?(?:(this|current|last|previous|past|prior|next)\s+(week|month|quarter|year))\b"
        ),
        _relative,
    ),
    (
        re.compile(
            r"\b(?:in\s+|during\s+|over\s+|for\s+)?(?:the\s+)?(last|past|previous|trailing)\s+(\d{1,4})\s+(days?|weeks?|months?|quarters?|years?)\b"
        ),
        _last_n,
    ),
    (re.compile(r"\b(?:in\s+|during\s+|for\s+)?(?P<y>20\d{2})\s*-?\s*q(?P<q>[1-4])\b"), _quarter),
    (
        re.compile(
            r"\b(?:in\s+|during\s+|for\s+)?(?:the\s+)?q(?P<q>[1-4])(?:\s+(?:of\s+)?(?:fy\s*)?(?P<y>20\d{2}))?\b"
        ),
        _quarter,
    ),
    (
        re.compile(
            r"\b(?:in\s+|during\s+|for\s+)?(?:the\s+)?(?P<ord>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter(?:\s+(?:of\s+)?(?P<y>20\d{2}))?\b"
        ),
        _ordinal_quarter,
    ),
    (
        re.compile(
            r"\b(?:in\s+|during\s+|for\s+)?(?:the\s+)?(?:h(?P<h>[12])|(?P<h2>first|second)\s+half)(?:\s+(?:of\s+)?(?P<y>20\d{2}))?\b"
        ),
        _half,
    ),
    (
        re.compile(r"\b(?:in\s+|during\s+|for\s+)?" + _MONTH.replace("(", "(?P<m>", 1) + r"(?:\s+(?P<y>20\d{2}))?\b"),
        _month,
    ),
    (re.compile(r"\b(?:in\s+|during\s+|for\s+|of\s+)?(?:fy\s*|year\s+)?(?P<y>20\d{2})\b"), _year),
    (re.compile(r"\b(today|yesterday)\b"), _today),
]


def _half_fix(m: re.Match[str], now: date) -> Period:
    h = m.group("h") or m.group("h2")
    y = int(m.group("y")) if m.group("y") else now.year
    n = 1 if h in ("1", "first") else 2
    return Period(date(y, 6 * n - 5, 1), month_end(y, 6 * n), f"H{n} {y}")


PATTERNS = [(p, _half_fix if f is _half else f) for p, f in PATTERNS]


def find_period(text: str, now: date) -> tuple[Period | None, str]:
    """The first period named in ``text`` (pattern order), and the text with that phrase blanked out."""
    for pattern, build in PATTERNS:
        m = pattern.search(text)
        if m:
            if (
                build is _month
                and m.group("m") == "may"
                and not m.group("y")
                and not re.search(r"\b(in|during|for)\s+may\b", m.group(0))
            ):
                continue  # "may" the verb
            try:
                period = build(m, now)
            except ValueError:
                continue
            return period, text[: m.start()] + " " + text[m.end() :]
    return None, text


COMPARE_YOY = re.compile(
    r"\b(?:vs\.?|versus|compared\s+(?:to|with)|against|over)\s+(?:the\s+)?(?:same\s+(?:period|month|quarter|week|day|time|half)\s+(?:of\s+)?)?(?:last|previous|prior|a)\s+year\b|\byear[\s-]over[\s-]year\b|\byoy\b"
)
COMPARE_PREV = re.compile(
    r"\b(?:vs\.?|versus|compared\s+(?:to|with)|against|over)\s+(?:the\s+)?(?:last|previous|prior|preceding)\s+(?:period|quarter|month|week)\b|\b(?:quarter|month|week|period)[\s-]over[\s-](?:quarter|month|week|period)\b|\b(?:qoq|mom|wow)\b|\bvs\.?\s+previous\b"
)


GROWTH = re.compile(r"\b(?:growth|grown|grew)\b")  # "revenue growth this year": against the year before


def find_comparison(text: str) -> tuple[str | None, str]:
    """``year_over_year`` / ``previous_period`` if asked, with the phrase removed (so "vs last year"
    is never mistaken for the main period "last year")."""
    for kind, pattern in (
        ("year_over_year", COMPARE_YOY),
        ("previous_period", COMPARE_PREV),
        ("year_over_year", GROWTH),
    ):
        m = pattern.search(text)
        if m:
            return kind, text[: m.start()] + " " + text[m.end() :]
    return None, text


COMPARE_WORD = re.compile(r"\b(?:vs\.?|versus|compared\s+(?:to|with)|against)\s+(?:the\s+)?")


def find_explicit_comparison(text: str, now: date) -> tuple[Period | None, str]:
    """A period named right after "vs" / "compared to" ("Q3 2026 vs Q3 2025", "2025 vs 2024"): the
    period compared with, and the text without that phrase (the main period is read from the rest)."""
    for m in COMPARE_WORD.finditer(text):
        tail = text[m.end() :]
        for pattern, build in PATTERNS:
            pm = pattern.match(tail)
            if pm is None:
                continue
            try:
                period = build(pm, now)
            except ValueError:
                continue
            return period, text[: m.start()] + " " + tail[pm.end() :]
    return None, text
