"""A synthetic, deterministic CRM database for demos and tests: about three years of history up to ``now``.

Nothing is dated after ``now`` except what is a plan by nature: an open deal's expected close date and
an active campaign's planned end date.

Not real customers: names are composed from word lists and every number comes from one seeded
``random.Random``, so the same seed gives the same rows on SQLite and PostgreSQL. The shapes are
made to look like a CRM's: log-normal deal sizes, a Q4-heavy seasonality, a stage funnel in which
old deals are closed and recent ones still open, a regional mix, priority-dependent resolution times.
"""

from __future__ import annotations

import math
import os
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

SEED = 20240101
DEFAULT_NOW = date(2026, 11, 25)  # the date the test question set and the docs' examples are written for

metadata = sa.MetaData()
user_t = sa.Table(
    "user",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("department", sa.String(50), nullable=False),
    sa.Column("region", sa.String(50), nullable=False),
)
product_t = sa.Table(
    "product",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("family", sa.String(50), nullable=False),
    sa.Column("list_price", sa.Float, nullable=False),
)
account_t = sa.Table(
    "account",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("industry", sa.String(50), nullable=False),
    sa.Column("region", sa.String(50), nullable=False),
    sa.Column("country", sa.String(60), nullable=False),
    sa.Column("employees", sa.Integer, nullable=False),
    sa.Column("annual_revenue", sa.Float, nullable=False),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("user.id")),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
contact_t = sa.Table(
    "contact",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id")),
    sa.Column("first_name", sa.String(50), nullable=False),
    sa.Column("last_name", sa.String(50), nullable=False),
    sa.Column("email", sa.String(120), nullable=False),
    sa.Column("title", sa.String(80), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
lead_t = sa.Table(
    "lead",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("company", sa.String(120), nullable=False),
    sa.Column("industry", sa.String(50), nullable=False),
    sa.Column("region", sa.String(50), nullable=False),
    sa.Column("country", sa.String(60), nullable=False),
    sa.Column("source", sa.String(50), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("user.id")),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("converted_at", sa.DateTime),
)
opportunity_t = sa.Table(
    "opportunity",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id")),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id")),
    sa.Column("name", sa.String(160), nullable=False),
    sa.Column("stage", sa.String(20), nullable=False),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("amount", sa.Float, nullable=False),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("user.id")),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("close_date", sa.Date, nullable=False),
)
case_t = sa.Table(
    "case",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id")),
    sa.Column("subject", sa.String(160), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("priority", sa.String(20), nullable=False),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("user.id")),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("resolved_at", sa.DateTime),
    sa.Column("csat", sa.Integer),
)
campaign_t = sa.Table(
    "campaign",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("type", sa.String(30), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("budget", sa.Float, nullable=False),
    sa.Column("actual_cost", sa.Float, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
)

REGIONS = {
    "North America": (0.42, ["United States", "Canada", "Mexico"]),
    "EMEA": (0.30, ["United Kingdom", "Germany", "France", "Netherlands", "Spain"]),
    "APAC": (0.18, ["Japan", "Australia", "India", "Singapore"]),
    "LATAM": (0.10, ["Brazil", "Argentina", "Chile"]),
}
INDUSTRIES = {
    "Technology": 0.24,
    "Finance": 0.16,
    "Healthcare": 0.14,
    "Manufacturing": 0.13,
    "Retail": 0.12,
    "Education": 0.08,
    "Energy": 0.07,
    "Media": 0.06,
}
FIRST = [
    "Alice",
    "Bob",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Kira",
    "Liam",
    "Mei",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
]
LAST = [
    "Johnson",
    "Smith",
    "Garcia",
    "Müller",
    "Tanaka",
    "Okafor",
    "Rossi",
    "Kowalski",
    "Silva",
    "Chen",
    "Patel",
    "Nguyen",
    "Dubois",
    "Larsen",
    "Cohen",
    "Haddad",
    "Ivanova",
    "Moreau",
    "Santos",
    "Walsh",
]
WORD_A = [
    "Blue",
    "North",
    "Bright",
    "Silver",
    "Rapid",
    "Green",
    "Prime",
    "Atlas",
    "Nova",
    "Summit",
    "Vertex",
    "Iron",
    "Clear",
    "Golden",
    "Urban",
    "Pacific",
    "Polar",
    "Crystal",
    "Quantum",
    "Solid",
]
WORD_B = [
    "Systems",
    "Labs",
    "Holdings",
    "Dynamics",
    "Works",
    "Partners",
    "Networks",
    "Health",
    "Capital",
    "Logistics",
    "Foods",
    "Energy",
    "Media",
    "Analytics",
    "Robotics",
    "Retail",
    "Bank",
    "Motors",
    "Learning",
    "Studios",
]
PRODUCTS = [
    (
        "Software",
        [
            "CRM Cloud",
            "Analytics Suite",
            "Marketing Hub",
            "Service Desk",
            "Data Platform",
            "AI Assistant",
            "Commerce Cloud",
            "Integration Hub",
        ],
        (12000, 90000),
    ),
    ("Hardware", ["Edge Gateway", "POS Terminal", "Sensor Kit", "Rack Server", "Scanner Pro"], (3000, 40000)),
    (
        "Services",
        ["Implementation", "Training Package", "Consulting Day Pack", "Migration Service", "Custom Development"],
        (5000, 60000),
    ),
    ("Support", ["Premium Support", "Standard Support", "Enterprise Success Plan", "Extended Warranty"], (2000, 25000)),
]
TITLES = [
    "CEO",
    "CFO",
    "CTO",
    "VP Sales",
    "VP Marketing",
    "Head of IT",
    "Procurement Manager",
    "Operations Manager",
    "Sales Director",
    "IT Manager",
    "Engineer",
    "Analyst",
]
LEAD_SOURCES = {
    "Web": 0.28,
    "Referral": 0.16,
    "Trade Show": 0.12,
    "Partner": 0.12,
    "Cold Call": 0.1,
    "Email Campaign": 0.12,
    "Advertisement": 0.1,
}
CAMPAIGN_TYPES = ["Email", "Webinar", "Trade Show", "Social", "Paid Search", "Content"]
OPP_TYPES = {"new_business": 0.5, "renewal": 0.25, "upsell": 0.15, "cross_sell": 0.10}
PRIORITY_HOURS = {"critical": 8.0, "high": 24.0, "medium": 60.0, "low": 120.0}
SUBJECTS = [
    "Login issue",
    "Billing question",
    "Data sync failure",
    "Feature request",
    "Performance degradation",
    "Integration error",
    "Password reset",
    "Report not loading",
    "API rate limit",
    "Export problem",
]
# month weights: slow summer, strong quarter ends (Mar, Jun, Sep) and a heavy Q4
SEASON = [0.8, 0.85, 1.1, 0.9, 0.95, 1.15, 0.75, 0.7, 1.1, 1.05, 1.2, 1.45]


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@attrs.frozen
class _Span:
    """The generated history: from January 1st two years before ``now`` to ``now`` inclusive."""

    now: date

    @property
    def start(self) -> date:
        return date(self.now.year - 2, 1, 1)

    @property
    def days(self) -> int:
        return (self.now - self.start).days + 1

    @property
    def end_of_now(self) -> datetime:
        return datetime(self.now.year, self.now.month, self.now.day, 23, 59, 59)

    def day(self, rng: random.Random, growth: float = 0.35) -> date:
        """A day in the span, seasonal by month and growing over time (later years busier)."""
        while True:
            d = self.start + timedelta(days=rng.randrange(self.days))
            w = SEASON[d.month - 1] * (1 + growth * (d - self.start).days / self.days)
            if rng.random() * 1.45 * (1 + growth) < w:
                return d


def _at(rng: random.Random, d: date) -> datetime:
    return datetime(d.year, d.month, d.day, rng.randrange(7, 20), rng.randrange(60), rng.randrange(60))


Row = dict[str, Any]  # one table row: column name -> value


def generate(seed: int = SEED, scale: float = 1.0, now: date | None = None) -> dict[str, list[Row]]:
    """All rows, by table name. ``scale`` multiplies the row counts (1.0: a few thousand per table);
    history ends at ``now`` (default: today)."""
    rng = random.Random(seed)
    span = _Span(now or date.today())
    _day = span.day
    n = {
        k: max(1, int(v * scale))
        for k, v in {
            "user": 60,
            "account": 2000,
            "contact": 4000,
            "lead": 5000,
            "opportunity": 5000,
            "case": 4000,
            "campaign": 300,
        }.items()
    }
    region_w = {r: w for r, (w, _) in REGIONS.items()}
    users: list[Row] = []
    for i in range(1, n["user"] + 1):
        dept = "Sales" if i <= int(n["user"] * 0.6) else ("Support" if i <= int(n["user"] * 0.85) else "Marketing")
        users.append(
            {
                "id": i,
                "name": f"{FIRST[(i * 7) % len(FIRST)]} {LAST[(i * 3) % len(LAST)]} {i:02d}",
                "department": dept,
                "region": _pick(rng, region_w),
            }
        )
    sales = [u for u in users if u["department"] == "Sales"]
    support = [u for u in users if u["department"] == "Support"]
    products: list[Row] = []
    for family, names, (lo, hi) in PRODUCTS:
        for name in names:
            products.append(
                {"id": len(products) + 1, "name": name, "family": family, "list_price": round(rng.uniform(lo, hi), -2)}
            )
    accounts: list[Row] = []
    for i in range(1, n["account"] + 1):
        region = _pick(rng, region_w)
        country = rng.choice(REGIONS[region][1]) if rng.random() > 0.4 else REGIONS[region][1][0]
        employees = int(min(200_000, max(5, rng.lognormvariate(5.3, 1.5))))
        owner = rng.choice([u for u in sales if u["region"] == region] or sales)
        accounts.append(
            {
                "id": i,
                "name": f"{rng.choice(WORD_A)} {rng.choice(WORD_B)} {i}",
                "industry": _pick(rng, INDUSTRIES),
                "region": region,
                "country": country,
                "employees": employees,
                "annual_revenue": round(employees * rng.uniform(80_000, 400_000), -3),
                "owner_id": owner["id"],
                "created_at": _at(rng, _day(rng, 0.2)),
            }
        )
    contacts: list[Row] = []
    for i in range(1, n["contact"] + 1):
        acc = rng.choice(accounts)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = max(acc["created_at"], _at(rng, _day(rng)))
        contacts.append(
            {
                "id": i,
                "account_id": acc["id"],
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{last.lower().replace('ü', 'ue')}{i}@example.com",
                "title": rng.choice(TITLES),
                "created_at": created,
            }
        )
    leads: list[Row] = []
    for i in range(1, n["lead"] + 1):
        region = _pick(rng, region_w)
        created = _at(rng, _day(rng))
        source = _pick(rng, LEAD_SOURCES)
        age = (span.end_of_now - created).days
        conv_p = {"Referral": 0.32, "Partner": 0.26, "Trade Show": 0.2}.get(source, 0.13)
        r = rng.random()
        if age < 30:
            status = "new" if r < 0.6 else "working"
        elif r < conv_p:
            status = "converted"
        elif r < conv_p + 0.3:
            status = "unqualified"
        elif r < conv_p + 0.45:
            status = "qualified"
        elif r < conv_p + 0.55:
            status = "working"
        else:
            status = "unqualified" if age > 180 else "new"
        converted = (
            created + timedelta(days=rng.randint(3, 60), hours=rng.randint(0, 8)) if status == "converted" else None
        )
        if converted is not None and converted > span.end_of_now:
            status, converted = "qualified", None  # not converted yet
        leads.append(
            {
                "id": i,
                "company": f"{rng.choice(WORD_A)} {rng.choice(WORD_B)} Lead {i}",
                "industry": _pick(rng, INDUSTRIES),
                "region": region,
                "country": rng.choice(REGIONS[region][1]),
                "source": source,
                "status": status,
                "owner_id": rng.choice(sales)["id"],
                "created_at": created,
                "converted_at": converted,
            }
        )
    opps: list[Row] = []
    for i in range(1, n["opportunity"] + 1):
        acc = rng.choice(accounts)
        product = rng.choice(products)
        otype = _pick(rng, OPP_TYPES)
        created = _at(rng, _day(rng))
        size = 1 + math.log10(max(acc["employees"], 10)) / 3
        amount = round(min(2_500_000, product["list_price"] * size * rng.lognormvariate(0, 0.8)), 2)
        close = created.date() + timedelta(days=int(rng.gammavariate(2.0, 35)) + 7)
        if close <= span.now:
            win_p = {"renewal": 0.72, "upsell": 0.5, "cross_sell": 0.4}.get(otype, 0.3)
            stage = "closed_won" if rng.random() < win_p else "closed_lost"
        else:
            stage = rng.choices(["prospecting", "qualification", "proposal", "negotiation"], [0.35, 0.3, 0.2, 0.15])[0]
        opps.append(
            {
                "id": i,
                "account_id": acc["id"],
                "product_id": product["id"],
                "name": f"{acc['name']} - {product['name']}",
                "stage": stage,
                "type": otype,
                "amount": amount,
                "owner_id": acc["owner_id"] if rng.random() < 0.8 else rng.choice(sales)["id"],
                "created_at": created,
                "close_date": close,
            }
        )
    cases: list[Row] = []
    for i in range(1, n["case"] + 1):
        acc = rng.choice(accounts)
        created = _at(rng, _day(rng, 0.5))
        priority = rng.choices(list(PRIORITY_HOURS), [0.07, 0.2, 0.43, 0.3])[0]
        hours = rng.expovariate(1 / PRIORITY_HOURS[priority]) + 0.5
        resolved: datetime | None  # None: the case is still open
        resolved = created + timedelta(hours=round(hours, 2))
        if resolved > span.end_of_now:
            status, resolved = rng.choice(["open", "in_progress"]), None
        else:
            status = "closed" if rng.random() < 0.6 else "resolved"
            if rng.random() < 0.04:
                status, resolved = rng.choice(["open", "in_progress"]), None
        csat = None
        if resolved is not None and rng.random() < 0.7:
            base = 4.6 - min(hours, 400) / 120
            csat = int(min(5, max(1, round(rng.gauss(base, 0.9)))))
        cases.append(
            {
                "id": i,
                "account_id": acc["id"],
                "subject": rng.choice(SUBJECTS),
                "status": status,
                "priority": priority,
                "owner_id": rng.choice(support)["id"],
                "created_at": created,
                "resolved_at": resolved,
                "csat": csat,
            }
        )
    campaigns: list[Row] = []
    for i in range(1, n["campaign"] + 1):
        start = _day(rng)
        end = start + timedelta(days=rng.randint(7, 90))
        budget = round(rng.lognormvariate(9.8, 0.7), -2)
        status = "completed" if end < span.now else "active"
        if status == "completed" and rng.random() < 0.05:
            status = "aborted"
        spent = budget * (rng.uniform(0.7, 1.15) if status == "completed" else rng.uniform(0, 0.6))
        campaigns.append(
            {
                "id": i,
                "name": f"{rng.choice(WORD_A)} {rng.choice(CAMPAIGN_TYPES)} {start.year}-{i}",
                "type": rng.choice(CAMPAIGN_TYPES),
                "status": status,
                "budget": budget,
                "actual_cost": round(spent, 2),
                "start_date": start,
                "end_date": end,
            }
        )
    return {
        "user": users,
        "product": products,
        "account": accounts,
        "contact": contacts,
        "lead": leads,
        "opportunity": opps,
        "case": cases,
        "campaign": campaigns,
    }


def create_demo_database(
    url: str, *, seed: int = SEED, scale: float = 1.0, replace: bool = False, now: date | None = None
) -> dict[str, int]:
    """Create the demo tables at ``url`` and fill them with history up to ``now`` (default: today); returns
    row counts. Refuses to overwrite unless ``replace``."""
    from hotcrm_ai.reporting.execute import database_url

    engine = sa.create_engine(database_url(url))
    try:
        with engine.begin() as conn:
            existing = set(sa.inspect(conn).get_table_names()) & set(metadata.tables)
            if existing and not replace:
                from hotcrm_ai.errors import ReportingError

                raise ReportingError(
                    f"database already has demo tables ({', '.join(sorted(existing))}); pass replace=True"
                )
            metadata.drop_all(conn)
            metadata.create_all(conn)
            rows = generate(seed, scale, now)
            for table in metadata.sorted_tables:
                conn.execute(table.insert(), rows[table.name])
        return {k: len(v) for k, v in rows.items()}
    finally:
        engine.dispose()


DEMO_FORMAT = 2  # bumped when the generator changes, so an older file is never reused


def default_demo_path(today: date | None = None) -> Path:
    """``$HOTCRM_AI_HOME/demo-v2-<today>.sqlite``, else the same name under ``$XDG_CACHE_HOME/hotcrm-ai``
    (``~/.cache`` by default). The name carries the generator's format and today's date: the embedded
    demo always ends today, and a file built by an older version or on another day is rebuilt."""
    name = f"demo-v{DEMO_FORMAT}-{(today or date.today()).isoformat()}.sqlite"
    home = os.environ.get("HOTCRM_AI_HOME")
    if home:
        return Path(home) / name
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hotcrm-ai" / name


def ensure_demo_sqlite(path: Path | None = None) -> Path:
    """Create the demo SQLite file once (atomically: built aside, then renamed) and return its path."""
    path = path or default_demo_path()
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    create_demo_database(f"sqlite:///{tmp}")
    os.replace(tmp, path)
    for old in path.parent.glob("demo*.sqlite"):  # earlier days' or versions' files
        if old != path:
            old.unlink(missing_ok=True)
    return path
