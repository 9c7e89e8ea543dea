"""Parser: one question's text -> Query AST, phase by phase, never by guessing.

Phases, each consuming (blanking) the words it understands: modifiers (comparison, record names,
top N, numeric conditions, the period), terms (dimensions, aggregate words, metrics, objects), the
object asked about, dimensions and aggregates, filters, the date a period applies to, order and
limit. Whatever is left must be filler words; anything else refuses the question.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from hotcrm_ai.reporting import periods
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
from hotcrm_ai.reporting.catalogue import Catalogue
from hotcrm_ai.reporting.guards import examples
from hotcrm_ai.reporting.parse_filters import FilterReader
from hotcrm_ai.reporting.parse_terms import TermReader
from hotcrm_ai.reporting.vocabulary import (
    BARE_TOP,
    NEGATIONS,
    NEWEST,
    OLDEST,
    ORDER_ASC,
    ORDER_DESC,
    PERIOD_START,
    STOPWORDS,
    TOP_N,
    VERSUS,
)

SHARE = re.compile(r"\b(?:share|percentage|percent|proportion|fraction)\s+of\b|%\s+of\b")
COUNTING = re.compile(r"\b(how\s+many|number\s+of|count\s+of|count|counts|volume|no\.\s+of)\b")
RANK_WORDS = (
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
)
LOOSE = re.compile(
    r"\b(by|per|for|from|at|with|about|of|in|on|named|called)\s+(?:the\s+|our\s+|all\s+)?([a-z0-9][a-z0-9_'.-]*)"
)
CREATED = re.compile(r"\b(created|opened|added|submitted|received)\b")


@attrs.define
class Terms:
    """What the terms phase read, before the object is known."""

    dims_raw: list[str]
    order_raw: str | None
    field_aggs: list[tuple[str, str]]
    metrics: list[str]
    mentioned: list[str]
    pending: list[tuple[str, str, str]]


class Parse(TermReader, FilterReader):
    """One question's parse (see the module docstring for the phases)."""

    def run(self) -> Translated | NotUnderstood:
        comparison, compared_with, period, numeric = self._modifiers()
        self.compared = comparison is not None
        terms = self._terms()
        obj = self._object(terms)
        if isinstance(obj, NotUnderstood):
            return obj
        group_by, unknown_dims = self._dimensions(obj, terms)
        aggregates, unknown_dims2 = self._aggregates(obj, terms, group_by)
        unknown_dims += unknown_dims2
        if period is not None:
            self._event_words(obj)
        filters = self._filters(obj, terms, numeric)
        if isinstance(filters, NotUnderstood):
            return filters
        aggregates, filters = _as_metrics(self.cat, obj, aggregates, filters)
        for f in filters:  # several values of one field ("new business vs renewals"): one row per value
            if f.field in self.split_fields and f.op == "in" and all(g.field != f.field for g in group_by):
                group_by.append(GroupBy(f.field))
                if not aggregates:
                    aggregates = [Aggregate("count", alias="count")]
        aggregates, filters = self._share(aggregates, filters, group_by)
        time_range, cmp = self._time(obj, period, comparison, compared_with, aggregates, filters)
        group_by = self._bucket_dates(group_by, time_range, aggregates)
        order_by = self._order(obj, terms.order_raw, aggregates, group_by, filters)
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
        return self._finish(query, unknown_dims + self.ignored_metrics)

    # -- phases -----------------------------------------------------------------------------------
    def _modifiers(self) -> tuple[str | None, periods.Period | None, periods.Period | None, list[Any]]:
        """Comparison, record names, top N, numeric conditions and the period, read first so their
        words ("vs last year", "top 5", "over $100k", "Q3") are never taken for anything else."""
        comparison, self.text = periods.find_comparison(self.text)
        compared_with: periods.Period | None = None
        if comparison is None:
            compared_with, self.text = periods.find_explicit_comparison(self.text, self.now)
            comparison = "custom" if compared_with is not None else None
        self._named_records()
        m = TOP_N.search(self.text)
        bare = BARE_TOP.search(self.text) if m is None else None
        if bare:
            self.bare_top = True
            self.order_dir = "asc" if bare.group(1) == "bottom" else "desc"
            self._as_by(bare.start(), bare.end())
        if m:
            word = m.group(1) or m.group(4)
            self.limit = int(m.group(2) or m.group(3))
            if word != "which":  # "which 3 reps ... the least": the direction comes from the rest
                asc = ("bottom", "worst", "lowest", "smallest", "least", "oldest", "earliest")
                self.order_dir = "asc" if word in asc else "desc"
            self._as_by(m.start(), m.end())
        numeric = self._numeric_filters_raw()
        period, self.text = periods.find_period(self.text, self.now)
        self.text = f" {self.text} "
        return comparison, compared_with, period, numeric

    def _as_by(self, start: int, end: int) -> None:
        """What follows "top N" may be a dimension ("bottom 3 industries by win rate"): read it as "by ..."."""
        self.text = self.text[:start] + " by " + " " * max(0, end - start - 4) + self.text[end:]

    def _terms(self) -> Terms:
        dims_raw, order_raw = self._group_phrases()
        field_aggs = self._field_aggs()
        mentioned, pending = self._metric_word_phrases()
        metrics = self._metrics(field_aggs)
        return Terms(dims_raw, order_raw, field_aggs, metrics, self._objects(mentioned), pending)

    def _object(self, t: Terms) -> str | NotUnderstood:
        """The object asked about: a metric's, an aggregated field's, else the first named."""
        cat = self.cat
        obj: str | None = None
        self.ignored_metrics = []
        if t.metrics:
            obj = cat.metrics[t.metrics[0]]["object"]
            self.ignored_metrics = [mt for mt in t.metrics if cat.metrics[mt]["object"] != obj]
            t.metrics = [mt for mt in t.metrics if cat.metrics[mt]["object"] == obj]
        elif t.field_aggs:
            phrase = t.field_aggs[0][1]
            owners = [
                o for o in t.mentioned if self.vocab.field_phrases[phrase][0] == o or phrase in self._phrases_of(o)
            ]
            obj = owners[0] if owners else (t.mentioned[0] if t.mentioned else self._owner_of(phrase))
        elif t.mentioned:
            obj = t.mentioned[0]
        if obj is None:  # "top 10 accounts by annual revenue": the object was read as a dimension
            obj = next(
                (o for p in t.dims_raw for o, spec in cat.objects.items() if p in spec.get("synonyms", [])), None
            )
        if obj is None:  # "spend by campaign type": a dimension only one object has
            obj = next((o for p in t.dims_raw if (o := self._owner_of(p)) is not None), None)
        if obj is None:  # "biggest wins last quarter": values of one object's own fields only
            holders = {o for o in cat.objects if self._names_own_value(o)}
            obj = holders.pop() if len(holders) == 1 else None
        if obj is None:
            return NotUnderstood(self._not_understood_reason(), unknown=self._unknown(), suggestions=examples())
        joinable = {j["object"] for j in cat.objects[obj].get("joins", {}).values()}
        strangers = [o for o in dict.fromkeys(t.mentioned) if o != obj and o not in joinable]
        if strangers:
            return NotUnderstood(
                f"The question names several kinds of records ({', '.join([obj, *strangers])}) that cannot be "
                "combined in one answer; ask about one at a time.",
                unknown=strangers,
                suggestions=examples(),
            )
        return obj

    def _dimensions(self, obj: str, t: Terms) -> tuple[list[GroupBy], list[str]]:
        group_by: list[GroupBy] = []
        unknown_dims: list[str] = list(self.compounds)
        for phrase in t.dims_raw:
            if phrase in self.cat.objects[obj].get("synonyms", []):
                continue  # the object itself: rows are listed, not grouped
            g = self._resolve_dim(obj, phrase)
            if g is None:
                unknown_dims.append(phrase)
            elif g not in group_by:
                group_by.append(g)
        for o in t.mentioned:
            ranked = self.limit or self.order_dir or ORDER_DESC.search(self.text) or ORDER_ASC.search(self.text)
            if o != obj and ranked and (t.metrics or t.field_aggs):  # "which of our reps has the lowest win rate"
                g = self._object_dim(obj, o)
                if g and g not in group_by:
                    group_by.append(g)
        return group_by, unknown_dims

    def _aggregates(self, obj: str, t: Terms, group_by: list[GroupBy]) -> tuple[list[Aggregate], list[str]]:
        cat = self.cat
        unknown_dims: list[str] = []
        named = t.mentioned + [o for o in cat.objects if set(t.dims_raw) & set(cat.objects[o].get("synonyms", []))]
        if self._ranks_records(obj, t.metrics, t.order_raw, named, group_by):
            for mt in t.metrics:  # the metric only says which records are ranked
                self.list_filters += [Filter(**c) for c in cat.metrics[mt].get("where", [])]
            t.metrics = []
        aggregates = [Aggregate("metric", metric=mt, alias=mt) for mt in t.metrics]
        for func, phrase in t.field_aggs:
            path = self._field_path(obj, phrase)
            if path is None:
                unknown_dims.append(phrase)
                continue
            if func == "__field__":
                t.order_raw = t.order_raw or phrase
                continue
            if self.which and func in ("max", "min") and obj in named and not group_by and "." not in path:
                # "which campaign had the highest spend": the record, not the maximum alone
                t.order_raw, self.order_dir, self.limit = phrase, "desc" if func == "max" else "asc", self.limit or 1
                continue
            alias = f"{func}_{cat.resolve(obj, path).output}"
            if all(a.alias != alias for a in aggregates):
                aggregates.append(Aggregate(func, field=path, alias=alias))
        counting = bool(COUNTING.search(self.text))
        if counting:
            for w in ("how many", "number of", "count of", "count", "counts", "volume"):
                self.take(w)
        if not aggregates and (group_by or (self.limit is None and not self.order_dir)):
            aggregates = self._money_fields(obj)
        if not aggregates and (counting or group_by or self.compared):
            aggregates = [Aggregate("count", alias="count")]  # records compared across periods are counted
        return aggregates, unknown_dims

    def _money_fields(self, obj: str) -> list[Aggregate]:
        """Money fields named on their own ("campaign spend by type", "spend vs budget"): their totals,
        with a count beside them when the records are named too ("deals and amount by stage")."""
        out = []
        fields = self.cat.objects[obj]["fields"]
        for p in sorted(fields, key=len, reverse=True):
            syns = sorted(fields[p].get("synonyms", []), key=len, reverse=True)
            if fields[p]["type"] == "currency" and any(self.take(syn) for syn in syns):
                out.append(Aggregate("sum", field=p, alias=f"sum_{p}"))
        if out and self._counted_with_measure(obj):
            out.insert(0, Aggregate("count", alias="count"))
        return out

    def _share(
        self, aggregates: list[Aggregate], filters: list[Filter], group_by: list[GroupBy]
    ) -> tuple[list[Aggregate], list[Filter]]:
        """ "share of revenue from EMEA", "percentage of cases that are critical": the named conditions
        become the segment of a share; without a condition, or beside a split, "share" stays unread
        (and the question is refused)."""
        m = SHARE.search(self.text)
        segment = [f for f in filters if f not in self.list_filters]
        if m is None or not segment or self.split_fields or len(aggregates) > 1:
            return aggregates, filters
        a = aggregates[0] if aggregates else Aggregate("count", alias="count")
        if a.func == "metric" and a.metric and self.cat.metrics[a.metric]["kind"] in ("sum", "count"):
            share = Aggregate("share", metric=a.metric, alias=f"share_of_{a.metric}", where=segment)
        elif a.func == "count" and a.field is None:
            share = Aggregate("share", alias="share", where=segment)
        elif a.func == "sum":
            share = Aggregate("share", field=a.field, alias=f"share_of_{a.alias or 'total'}", where=segment)
        else:
            return aggregates, filters
        self.text = self.text[: m.start()] + " " * (m.end() - m.start()) + self.text[m.end() :]
        self.matched.append(m.group(0).strip())
        return [share], [f for f in filters if f not in segment]

    def _event_words(self, obj: str) -> None:
        """An event verb whose date the period applies to, and which is not also a value ("cases resolved in May")."""
        for rule in self.cat.data.get("event_dates", {}).get(obj, []):
            if rule.get("replaces_value") and self._event(rule):
                for w in re.findall(r"\b(?:" + rule["pattern"] + r")\b", self.text):
                    self.take(w)

    def _filters(self, obj: str, t: Terms, numeric: list[Any]) -> list[Filter] | NotUnderstood:
        filters = self._value_filters(obj)
        filters += [f for f in self.list_filters if f not in filters]
        for owner, field, value in [*t.pending, *self.names]:
            path = self._path_to(obj, owner, field)
            if path is None:
                plural = self.cat.objects[obj].get("plural", obj)
                return NotUnderstood(
                    f"'{value}' is a {owner} {field}, which {plural} cannot be filtered by.",
                    unknown=[value],
                    suggestions=examples(),
                )
            filters.append(Filter(path, "eq", value))
        return filters + self._numeric_filters(obj, numeric)

    def _time(
        self,
        obj: str,
        period: periods.Period | None,
        comparison: str | None,
        compared_with: periods.Period | None,
        aggregates: list[Aggregate],
        filters: list[Filter],
    ) -> tuple[TimeRange | None, Comparison | None]:
        if comparison and period is None:  # "revenue vs last year": this year against last year
            this = periods.calendar("year", self.now)
            period = periods.Period(this.start, this.end, f"this year ({this.label})", "year")
        if period is None:
            return None, None
        cat = self.cat
        ratio = any(a.func == "metric" and cat.metrics[a.metric]["kind"] == "ratio" for a in aggregates if a.metric)
        # a rate is dated by its own cohort date ("converted in 2025" does not re-date the conversion rate)
        tfield = None if ratio else self._time_field(obj, any(a.metric for a in aggregates))
        closed = [
            f
            for f in filters
            if f.field == "stage"
            and f.op in ("eq", "in")
            and set(f.value if isinstance(f.value, list) else [f.value]) <= {"closed_won", "closed_lost"}
        ]
        if obj == "opportunity" and closed and not CREATED.search(self.original) and tfield in (None, "created_at"):
            tfield = "close_date"  # won/lost deals are dated by when they closed
        time_range = TimeRange(period.start.isoformat(), period.end.isoformat(), tfield, period.label)
        if not comparison:
            return time_range, None
        cp = compared_with or (
            periods.year_over_year(period) if comparison == "year_over_year" else periods.previous_period(period)
        )
        return time_range, Comparison(comparison, cp.start.isoformat(), cp.end.isoformat(), cp.label)

    def _bucket_dates(
        self, group_by: list[GroupBy], time_range: TimeRange | None, aggregates: list[Aggregate]
    ) -> list[GroupBy]:
        """Time buckets cut the date the period applies to, else the first metric's date."""
        first_metric = next((a.metric for a in aggregates if a.func == "metric" and a.metric), None)
        bucket_field = (time_range.field if time_range is not None else None) or (
            self.cat.metrics[first_metric].get("date_field") if first_metric else None
        )
        if bucket_field:
            return [GroupBy(bucket_field, g.bucket) if g.bucket else g for g in group_by]
        return group_by

    def _order(
        self,
        obj: str,
        order_raw: str | None,
        aggregates: list[Aggregate],
        group_by: list[GroupBy],
        filters: list[Filter],
    ) -> list[OrderBy]:
        order_by: list[OrderBy] = []
        date_field = self.cat.objects[obj].get("date_field")
        recency = "desc" if NEWEST.search(self.original) else "asc" if OLDEST.search(self.original) else None
        if recency and order_raw is None and not aggregates and date_field:
            for w in ("most recently created", "most recent", "least recent", "newest", "latest", "oldest", "earliest"):
                self.take(w)
            return [OrderBy(date_field, recency)]
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
        for w in RANK_WORDS:
            self.take(w)
        return order_by

    def _finish(self, query: Query, unmapped: list[str]) -> Translated | NotUnderstood:
        """Every content word must be accounted for: an unmapped verb, measure, grouping or name could
        change the answer, so a question with one is refused, never answered as if understood."""
        if len(query.aggregates) > 1 or self.split_fields:
            for w in VERSUS:
                while self.take(w):
                    pass
        unknown = self._unknown() + unmapped
        if not unknown:
            return Translated(query, list(dict.fromkeys(self.matched)), [])
        # the words that most clearly change the answer are named first: after a preposition, a
        # negation ("not in EMEA" is not EMEA), a number ("last 0 days" is not all time)
        loose = [m.group(2) for m in LOOSE.finditer(self.text) if m.group(2) in unknown]
        loose += [w for w in unknown if w.strip("'") in NEGATIONS or any(c.isdigit() for c in w)]
        self.partial = query
        what = ", ".join(dict.fromkeys(unmapped + loose + unknown))
        return NotUnderstood(
            f"Could not map '{what}' to a field, value, grouping or period of {query.object} "
            "(answering without it would be a guess).",
            unknown=list(dict.fromkeys(unknown)),
            suggestions=examples(),
        )

    # -- which date, what was not understood ------------------------------------------------------
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
        verb = r"\b(?:" + rule["pattern"] + r")\b\s+" + PERIOD_START
        if "clos" in rule["pattern"]:
            verb += r"|\b(?:closing|closes|close)\b"
        return bool(re.search(verb, self.original))

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
