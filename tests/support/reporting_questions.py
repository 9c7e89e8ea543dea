# ruff: noqa: E501  (hand-written SQL strings read best on one line)
"""Reporting question set: each question with its expected answer as hand-written SQL over the demo
database (tests/core/test_reporting_accuracy.py runs both and compares the result sets).

``sql`` is portable (SQLite and PostgreSQL) unless ``sql_pg`` is given; ``ordered`` means the row
order is part of the answer (top N; ties broken by the dimension, ascending); ``cmp_sql`` is the
compared period's totals. "now" is 2026-11-25 unless a question says otherwise, and the demo history
ends that day (``create_demo_database(now=...)``).
Conventions the SQL encodes (docs/reporting.md): revenue = closed_won amount dated by close_date;
pipeline = open stages' amount dated by close_date; win rate = won / (won + lost) by close_date;
counts, conversion, CSAT and resolution time by created_at; "this X" = the whole calendar X.
"""

from __future__ import annotations

NOW = "2026-11-25"
WON = "o.stage = 'closed_won'"
OPEN = "o.stage NOT IN ('closed_won', 'closed_lost')"
OA = "opportunity o JOIN account a ON o.account_id = a.id"
CA = '"case" c JOIN account a ON c.account_id = a.id'
HOURS = "(julianday(c.resolved_at) - julianday(c.created_at)) * 24"
HOURS_PG = "EXTRACT(EPOCH FROM (c.resolved_at - c.created_at)) / 3600"
WINRATE = "SUM(CASE WHEN o.stage = 'closed_won' THEN 1 ELSE 0 END) * 1.0 / COUNT(*)"
CLOSED = "o.stage IN ('closed_won', 'closed_lost')"
CONV = "SUM(CASE WHEN l.status = 'converted' THEN 1 ELSE 0 END) * 1.0 / COUNT(*)"


def _y(col: str, y: int) -> str:
    return f"{col} >= '{y}-01-01' AND {col} < '{y + 1}-01-01'"


def _r(col: str, start: str, end_excl: str) -> str:
    return f"{col} >= '{start}' AND {col} < '{end_excl}'"


QUESTIONS: list[dict] = [
    # -- revenue ---------------------------------------------------------------------------------
    {"q": "Total revenue", "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON}"},
    {
        "q": "Revenue in 2025",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_y('o.close_date', 2025)}",
    },
    {"q": "Revenue by region", "sql": f"SELECT a.region, SUM(o.amount) FROM {OA} WHERE {WON} GROUP BY a.region"},
    {
        "q": "Show me Q3 2025 revenue by industry",
        "sql": f"SELECT a.industry, SUM(o.amount) FROM {OA} WHERE {WON} AND {_r('o.close_date', '2025-07-01', '2025-10-01')} GROUP BY a.industry",
    },
    {
        "q": "Sales last quarter",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-07-01', '2026-10-01')}",
    },
    {
        "q": "Bookings this year",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_y('o.close_date', 2026)}",
    },
    {
        "q": "Revenue by month in 2025",
        "sql": f"SELECT strftime('%Y-%m', o.close_date), SUM(o.amount) FROM opportunity o WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY 1",
        "sql_pg": f"SELECT to_char(o.close_date, 'YYYY-MM'), SUM(o.amount) FROM opportunity o WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY 1",
    },
    {
        "q": "Revenue by quarter",
        "sql": f"SELECT strftime('%Y', o.close_date) || '-Q' || ((CAST(strftime('%m', o.close_date) AS INTEGER) + 2) / 3), SUM(o.amount) FROM opportunity o WHERE {WON} GROUP BY 1",
        "sql_pg": f"SELECT to_char(o.close_date, 'YYYY-\"Q\"Q'), SUM(o.amount) FROM opportunity o WHERE {WON} GROUP BY 1",
    },
    {
        "q": "Top 5 reps by revenue in 2025",
        "ordered": True,
        "sql": f'SELECT u.name, SUM(o.amount) s FROM opportunity o JOIN "user" u ON o.owner_id = u.id WHERE {WON} AND {_y("o.close_date", 2025)} GROUP BY u.name ORDER BY s DESC, u.name LIMIT 5',
    },
    {
        "q": "Revenue by product family in 2026",
        "sql": f"SELECT p.family, SUM(o.amount) FROM opportunity o JOIN product p ON o.product_id = p.id WHERE {WON} AND {_y('o.close_date', 2026)} GROUP BY p.family",
    },
    {
        "q": "Revenue in EMEA last year",
        "sql": f"SELECT SUM(o.amount) FROM {OA} WHERE {WON} AND a.region = 'EMEA' AND {_y('o.close_date', 2025)}",
    },
    {
        "q": "Revenue for the technology industry in Q2 2026",
        "sql": f"SELECT SUM(o.amount) FROM {OA} WHERE {WON} AND a.industry = 'Technology' AND {_r('o.close_date', '2026-04-01', '2026-07-01')}",
    },
    {
        "q": "Revenue by deal type",
        "sql": f"SELECT o.type, SUM(o.amount) FROM opportunity o WHERE {WON} GROUP BY o.type",
    },
    {
        "q": "Revenue by country in APAC",
        "sql": f"SELECT a.country, SUM(o.amount) FROM {OA} WHERE {WON} AND a.region = 'APAC' GROUP BY a.country",
    },
    {
        "q": "What was revenue in March 2025?",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2025-03-01', '2025-04-01')}",
    },
    {
        "q": "Revenue last 30 days",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-10-26', '2026-11-26')}",
    },
    {
        "q": "Revenue by year",
        "sql": f"SELECT strftime('%Y', o.close_date), SUM(o.amount) FROM opportunity o WHERE {WON} GROUP BY 1",
        "sql_pg": f"SELECT to_char(o.close_date, 'YYYY'), SUM(o.amount) FROM opportunity o WHERE {WON} GROUP BY 1",
    },
    {
        "q": "Top 3 products by revenue",
        "ordered": True,
        "sql": f"SELECT p.name, SUM(o.amount) s FROM opportunity o JOIN product p ON o.product_id = p.id WHERE {WON} GROUP BY p.name ORDER BY s DESC, p.name LIMIT 3",
    },
    {
        "q": "Revenue from renewal deals in 2025",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND o.type = 'renewal' AND {_y('o.close_date', 2025)}",
    },
    {
        "q": "Which region has the highest revenue in 2025?",
        "ordered": True,
        "sql": f"SELECT a.region, SUM(o.amount) s FROM {OA} WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY a.region ORDER BY s DESC, a.region LIMIT 1",
    },
    {
        "q": "Revenue YTD",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-01-01', '2026-11-26')}",
    },
    {
        "q": "Revenue in H1 2025",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2025-01-01', '2025-07-01')}",
    },
    {
        "q": "Revenue since 2026-06-01",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-06-01', '2026-11-26')}",
    },
    {
        "q": "Revenue by region vs last year",
        "sql": f"SELECT a.region, SUM(o.amount) FROM {OA} WHERE {WON} AND {_y('o.close_date', 2026)} GROUP BY a.region",
    },
    {
        "q": "Top 10 accounts by revenue",
        "ordered": True,
        "sql": f"SELECT a.name, SUM(o.amount) s FROM {OA} WHERE {WON} GROUP BY a.name ORDER BY s DESC, a.name LIMIT 10",
    },
    {
        "q": "Quarterly bookings in 2024",
        "sql": f"SELECT strftime('%Y', o.close_date) || '-Q' || ((CAST(strftime('%m', o.close_date) AS INTEGER) + 2) / 3), SUM(o.amount) FROM opportunity o WHERE {WON} AND {_y('o.close_date', 2024)} GROUP BY 1",
        "sql_pg": f"SELECT to_char(o.close_date, 'YYYY-\"Q\"Q'), SUM(o.amount) FROM opportunity o WHERE {WON} AND {_y('o.close_date', 2024)} GROUP BY 1",
    },
    {
        "q": "Revenue by region and industry in 2025",
        "sql": f"SELECT a.region, a.industry, SUM(o.amount) FROM {OA} WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY a.region, a.industry",
    },
    # -- pipeline --------------------------------------------------------------------------------
    {"q": "Total pipeline", "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {OPEN}"},
    {
        "q": "Pipeline by stage",
        "sql": f"SELECT o.stage, SUM(o.amount) FROM opportunity o WHERE {OPEN} GROUP BY o.stage",
    },
    {"q": "Pipeline by region", "sql": f"SELECT a.region, SUM(o.amount) FROM {OA} WHERE {OPEN} GROUP BY a.region"},
    {
        "q": "Pipeline closing this quarter",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {OPEN} AND {_r('o.close_date', '2026-10-01', '2027-01-01')}",
    },
    {
        "q": "Open pipeline for upsell deals",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {OPEN} AND o.type = 'upsell'",
    },
    {
        "q": "Pipeline by rep",
        "sql": f'SELECT u.name, SUM(o.amount) FROM opportunity o JOIN "user" u ON o.owner_id = u.id WHERE {OPEN} GROUP BY u.name',
    },
    # -- deal count --------------------------------------------------------------------------------
    {
        "q": "How many deals were created in 2025?",
        "sql": f"SELECT COUNT(*) FROM opportunity o WHERE {_y('o.created_at', 2025)}",
    },
    {"q": "Number of deals by stage", "sql": "SELECT stage, COUNT(*) FROM opportunity GROUP BY stage"},
    {
        "q": "Deal count by type last year",
        "sql": f"SELECT o.type, COUNT(*) FROM opportunity o WHERE {_y('o.created_at', 2025)} GROUP BY o.type",
    },
    {
        "q": "How many deals were won in Q1 2026?",
        "sql": f"SELECT COUNT(*) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-01-01', '2026-04-01')}",
    },
    {
        "q": "How many deals did we win in Q1 2026?",
        "sql": f"SELECT COUNT(*) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-01-01', '2026-04-01')}",
    },
    {
        "q": "How many deals were lost in 2025 by region",
        "sql": f"SELECT a.region, COUNT(*) FROM {OA} WHERE o.stage = 'closed_lost' AND {_y('o.close_date', 2025)} GROUP BY a.region",
    },
    {
        "q": "How many lost deals by region in 2025",
        "sql": f"SELECT a.region, COUNT(*) FROM {OA} WHERE o.stage = 'closed_lost' AND {_y('o.close_date', 2025)} GROUP BY a.region",
    },
    {
        "q": "How many won deals were created in 2025",
        "sql": f"SELECT COUNT(*) FROM opportunity o WHERE {WON} AND {_y('o.created_at', 2025)}",
    },
    {
        "q": "Total closed lost amount in 2025",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE o.stage = 'closed_lost' AND {_y('o.close_date', 2025)}",
    },
    {
        "q": "How many opportunities by owner",
        "sql": 'SELECT u.name, COUNT(*) FROM opportunity o JOIN "user" u ON o.owner_id = u.id GROUP BY u.name',
    },
    {
        "q": "How many deals over $100k in EMEA",
        "sql": f"SELECT COUNT(*) FROM {OA} WHERE o.amount > 100000 AND a.region = 'EMEA'",
    },
    {
        "q": "Deal count between 2025-01-01 and 2025-03-31",
        "sql": f"SELECT COUNT(*) FROM opportunity o WHERE {_r('o.created_at', '2025-01-01', '2025-04-01')}",
    },
    {"q": "Max deal amount by region", "sql": f"SELECT a.region, MAX(o.amount) FROM {OA} GROUP BY a.region"},
    {
        "q": "Total amount of open deals by type",
        "sql": f"SELECT o.type, SUM(o.amount) FROM opportunity o WHERE {OPEN} GROUP BY o.type",
    },
    {"q": "Average amount of lost deals", "sql": "SELECT AVG(amount) FROM opportunity WHERE stage = 'closed_lost'"},
    # -- win rate ----------------------------------------------------------------------------------
    {"q": "Win rate", "sql": f"SELECT {WINRATE} FROM opportunity o WHERE {CLOSED}"},
    {
        "q": "Win rate by region in 2025",
        "sql": f"SELECT a.region, {WINRATE} FROM {OA} WHERE {CLOSED} AND {_y('o.close_date', 2025)} GROUP BY a.region",
    },
    {
        "q": "Win rate by rep last quarter",
        "sql": f'SELECT u.name, {WINRATE} FROM opportunity o JOIN "user" u ON o.owner_id = u.id WHERE {CLOSED} AND {_r("o.close_date", "2026-07-01", "2026-10-01")} GROUP BY u.name',
    },
    {
        "q": "Win rate by deal type",
        "sql": f"SELECT o.type, {WINRATE} FROM opportunity o WHERE {CLOSED} GROUP BY o.type",
    },
    {
        "q": "What is our win rate in Q2 2026?",
        "sql": f"SELECT {WINRATE} FROM opportunity o WHERE {CLOSED} AND {_r('o.close_date', '2026-04-01', '2026-07-01')}",
    },
    {
        "q": "Win rate by quarter in 2025",
        "sql": f"SELECT strftime('%Y', o.close_date) || '-Q' || ((CAST(strftime('%m', o.close_date) AS INTEGER) + 2) / 3), {WINRATE} FROM opportunity o WHERE {CLOSED} AND {_y('o.close_date', 2025)} GROUP BY 1",
        "sql_pg": f"SELECT to_char(o.close_date, 'YYYY-\"Q\"Q'), {WINRATE} FROM opportunity o WHERE {CLOSED} AND {_y('o.close_date', 2025)} GROUP BY 1",
    },
    {
        "q": "Bottom 3 industries by win rate in 2025",
        "ordered": True,
        "sql": f"SELECT a.industry, {WINRATE} w FROM {OA} WHERE {CLOSED} AND {_y('o.close_date', 2025)} GROUP BY a.industry ORDER BY w ASC, a.industry LIMIT 3",
    },
    # -- average deal size ------------------------------------------------------------------------------
    {"q": "Average deal size", "sql": f"SELECT AVG(amount) FROM opportunity o WHERE {WON}"},
    {
        "q": "Average deal size by industry",
        "sql": f"SELECT a.industry, AVG(o.amount) FROM {OA} WHERE {WON} GROUP BY a.industry",
    },
    {
        "q": "Avg deal size in EMEA this year",
        "sql": f"SELECT AVG(o.amount) FROM {OA} WHERE {WON} AND a.region = 'EMEA' AND {_y('o.close_date', 2026)}",
    },
    {
        "q": "Average deal size by product family in 2025",
        "sql": f"SELECT p.family, AVG(o.amount) FROM opportunity o JOIN product p ON o.product_id = p.id WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY p.family",
    },
    # -- leads -------------------------------------------------------------------------------------
    {"q": "How many leads", "sql": "SELECT COUNT(*) FROM lead"},
    {"q": "How many leads by industry", "sql": "SELECT industry, COUNT(*) FROM lead GROUP BY industry"},
    {
        "q": "Lead count by source in 2025",
        "sql": f"SELECT source, COUNT(*) FROM lead l WHERE {_y('l.created_at', 2025)} GROUP BY source",
    },
    {"q": "Number of leads by status", "sql": "SELECT status, COUNT(*) FROM lead GROUP BY status"},
    {
        "q": "New leads this month",
        "sql": f"SELECT COUNT(*) FROM lead l WHERE {_r('l.created_at', '2026-11-01', '2026-12-01')}",
    },
    {
        "q": "Leads by region last quarter",
        "sql": f"SELECT region, COUNT(*) FROM lead l WHERE {_r('l.created_at', '2026-07-01', '2026-10-01')} GROUP BY region",
    },
    {
        "q": "How many converted leads in 2025",
        "sql": f"SELECT COUNT(*) FROM lead l WHERE l.status = 'converted' AND {_y('l.created_at', 2025)}",
    },
    {"q": "Lead conversion rate", "sql": f"SELECT {CONV} FROM lead l"},
    {"q": "Lead conversion rate by source", "sql": f"SELECT l.source, {CONV} FROM lead l GROUP BY l.source"},
    {
        "q": "Conversion rate by region in 2025",
        "sql": f"SELECT l.region, {CONV} FROM lead l WHERE {_y('l.created_at', 2025)} GROUP BY l.region",
    },
    {
        "q": "Lead conversion rate by month in 2025",
        "sql": f"SELECT strftime('%Y-%m', l.created_at), {CONV} FROM lead l WHERE {_y('l.created_at', 2025)} GROUP BY 1",
        "sql_pg": f"SELECT to_char(l.created_at, 'YYYY-MM'), {CONV} FROM lead l WHERE {_y('l.created_at', 2025)} GROUP BY 1",
    },
    {
        "q": "How many leads from referral in Q1 2025",
        "sql": f"SELECT COUNT(*) FROM lead l WHERE l.source = 'Referral' AND {_r('l.created_at', '2025-01-01', '2025-04-01')}",
    },
    {
        "q": "Monthly lead count in 2025",
        "sql": f"SELECT strftime('%Y-%m', l.created_at), COUNT(*) FROM lead l WHERE {_y('l.created_at', 2025)} GROUP BY 1",
        "sql_pg": f"SELECT to_char(l.created_at, 'YYYY-MM'), COUNT(*) FROM lead l WHERE {_y('l.created_at', 2025)} GROUP BY 1",
    },
    {
        "q": "Top 3 lead sources by conversion rate",
        "ordered": True,
        "sql": f"SELECT l.source, {CONV} c FROM lead l GROUP BY l.source ORDER BY c DESC, l.source LIMIT 3",
    },
    # -- cases -------------------------------------------------------------------------------------
    {"q": "How many cases", "sql": 'SELECT COUNT(*) FROM "case"'},
    {"q": "How many tickets by priority", "sql": 'SELECT priority, COUNT(*) FROM "case" GROUP BY priority'},
    {
        "q": "Case count by status this year",
        "sql": f'SELECT c.status, COUNT(*) FROM "case" c WHERE {_y("c.created_at", 2026)} GROUP BY c.status',
    },
    {
        "q": "How many high priority cases this month",
        "sql": f"SELECT COUNT(*) FROM \"case\" c WHERE c.priority = 'high' AND {_r('c.created_at', '2026-11-01', '2026-12-01')}",
    },
    {
        "q": "How many unresolved cases by priority",
        "sql": "SELECT priority, COUNT(*) FROM \"case\" WHERE status IN ('open', 'in_progress') GROUP BY priority",
    },
    {
        "q": "Critical cases by region in 2025",
        "sql": f"SELECT a.region, COUNT(*) FROM {CA} WHERE c.priority = 'critical' AND {_y('c.created_at', 2025)} GROUP BY a.region",
    },
    {
        "q": "Average resolution time",
        "sql": f'SELECT AVG({HOURS}) FROM "case" c',
        "sql_pg": f'SELECT AVG({HOURS_PG}) FROM "case" c',
    },
    {
        "q": "Average resolution time by priority",
        "sql": f'SELECT c.priority, AVG({HOURS}) FROM "case" c GROUP BY c.priority',
        "sql_pg": f'SELECT c.priority, AVG({HOURS_PG}) FROM "case" c GROUP BY c.priority',
    },
    {
        "q": "Average resolution time for critical cases in 2025",
        "sql": f"SELECT AVG({HOURS}) FROM \"case\" c WHERE c.priority = 'critical' AND {_y('c.created_at', 2025)}",
        "sql_pg": f"SELECT AVG({HOURS_PG}) FROM \"case\" c WHERE c.priority = 'critical' AND {_y('c.created_at', 2025)}",
    },
    {"q": "Average CSAT", "sql": 'SELECT AVG(csat) FROM "case"'},
    {"q": "Average CSAT by priority", "sql": 'SELECT priority, AVG(csat) FROM "case" GROUP BY priority'},
    {
        "q": "Average CSAT by region last year",
        "sql": f"SELECT a.region, AVG(c.csat) FROM {CA} WHERE {_y('c.created_at', 2025)} GROUP BY a.region",
    },
    {
        "q": "CSAT by month in 2026",
        "sql": f"SELECT strftime('%Y-%m', c.created_at), AVG(c.csat) FROM \"case\" c WHERE {_y('c.created_at', 2026)} GROUP BY 1",
        "sql_pg": f"SELECT to_char(c.created_at, 'YYYY-MM'), AVG(c.csat) FROM \"case\" c WHERE {_y('c.created_at', 2026)} GROUP BY 1",
    },
    {"q": "How many cases by industry", "sql": f"SELECT a.industry, COUNT(*) FROM {CA} GROUP BY a.industry"},
    {
        "q": "Case volume by week last month",
        "sql": f"SELECT strftime('%Y-%m-%d', c.created_at, 'weekday 0', '-6 days'), COUNT(*) FROM \"case\" c WHERE {_r('c.created_at', '2026-10-01', '2026-11-01')} GROUP BY 1",
        "sql_pg": f"SELECT to_char(date_trunc('week', c.created_at), 'YYYY-MM-DD'), COUNT(*) FROM \"case\" c WHERE {_r('c.created_at', '2026-10-01', '2026-11-01')} GROUP BY 1",
    },
    {
        "q": "How many cases were resolved last month?",
        "sql": f'SELECT COUNT(*) FROM "case" c WHERE {_r("c.resolved_at", "2026-10-01", "2026-11-01")}',
    },
    {
        "q": "How many leads were converted in Q2 2026?",
        "sql": f"SELECT COUNT(*) FROM lead l WHERE l.status = 'converted' AND {_r('l.converted_at', '2026-04-01', '2026-07-01')}",
    },
    {
        "q": "How many cases were created yesterday",
        "sql": f'SELECT COUNT(*) FROM "case" c WHERE {_r("c.created_at", "2026-11-24", "2026-11-25")}',
    },
    {
        "q": "Which agents have the most cases?",
        "ordered": True,
        "sql": 'SELECT u.name, COUNT(*) n FROM "case" c JOIN "user" u ON c.owner_id = u.id GROUP BY u.name ORDER BY n DESC, u.name LIMIT 1',
    },
    {
        "q": "Case count by day last week",
        "sql": f"SELECT strftime('%Y-%m-%d', c.created_at), COUNT(*) FROM \"case\" c WHERE {_r('c.created_at', '2026-11-16', '2026-11-23')} GROUP BY 1",
        "sql_pg": f"SELECT to_char(c.created_at, 'YYYY-MM-DD'), COUNT(*) FROM \"case\" c WHERE {_r('c.created_at', '2026-11-16', '2026-11-23')} GROUP BY 1",
    },
    # -- accounts ----------------------------------------------------------------------------------
    {"q": "How many accounts", "sql": "SELECT COUNT(*) FROM account"},
    {"q": "How many accounts by country", "sql": "SELECT country, COUNT(*) FROM account GROUP BY country"},
    {"q": "Accounts by industry", "sql": "SELECT industry, COUNT(*) FROM account GROUP BY industry"},
    {
        "q": "Top 10 accounts by annual revenue",
        "ordered": True,
        "sql": "SELECT name, industry, region, country, employees, annual_revenue FROM account ORDER BY annual_revenue DESC, id LIMIT 10",
    },
    {
        "q": "Average annual revenue of accounts by region",
        "sql": "SELECT region, AVG(annual_revenue) FROM account GROUP BY region",
    },
    {
        "q": "How many accounts in technology with more than 1000 employees",
        "sql": "SELECT COUNT(*) FROM account WHERE industry = 'Technology' AND employees > 1000",
    },
    {"q": "Total employees of accounts in EMEA", "sql": "SELECT SUM(employees) FROM account WHERE region = 'EMEA'"},
    {"q": "How many customers in Germany", "sql": "SELECT COUNT(*) FROM account WHERE country = 'Germany'"},
    {
        "q": "Accounts created in 2025 by region",
        "sql": f"SELECT region, COUNT(*) FROM account a WHERE {_y('a.created_at', 2025)} GROUP BY region",
    },
    {
        "q": "Top 5 accounts by employees",
        "ordered": True,
        "sql": "SELECT name, industry, region, country, employees, annual_revenue FROM account ORDER BY employees DESC, id LIMIT 5",
    },
    # -- contacts ----------------------------------------------------------------------------------
    {"q": "How many contacts", "sql": "SELECT COUNT(*) FROM contact"},
    {"q": "Number of contacts by title", "sql": "SELECT title, COUNT(*) FROM contact GROUP BY title"},
    {
        "q": "Contacts by industry",
        "sql": "SELECT a.industry, COUNT(*) FROM contact ct JOIN account a ON ct.account_id = a.id GROUP BY a.industry",
    },
    {
        "q": "How many contacts were added last year",
        "sql": f"SELECT COUNT(*) FROM contact ct WHERE {_y('ct.created_at', 2025)}",
    },
    # -- campaigns ---------------------------------------------------------------------------------
    {"q": "How many campaigns by type", "sql": "SELECT type, COUNT(*) FROM campaign GROUP BY type"},
    {
        "q": "Total budget of campaigns by type in 2025",
        "sql": f"SELECT type, SUM(budget) FROM campaign WHERE {_y('start_date', 2025)} GROUP BY type",
    },
    {
        "q": "Total actual cost of campaigns by status",
        "sql": "SELECT status, SUM(actual_cost) FROM campaign GROUP BY status",
    },
    {"q": "Average budget of webinar campaigns", "sql": "SELECT AVG(budget) FROM campaign WHERE type = 'Webinar'"},
    {"q": "How many active campaigns", "sql": "SELECT COUNT(*) FROM campaign WHERE status = 'active'"},
    # -- users and products ---------------------------------------------------------------------------
    {"q": "How many users by department", "sql": 'SELECT department, COUNT(*) FROM "user" GROUP BY department'},
    {"q": "How many products by family", "sql": "SELECT family, COUNT(*) FROM product GROUP BY family"},
    {"q": "Average list price by product family", "sql": "SELECT family, AVG(list_price) FROM product GROUP BY family"},
    # -- paraphrases ---------------------------------------------------------------------------------
    {
        "q": "What is the total pipeline value by stage?",
        "sql": f"SELECT o.stage, SUM(o.amount) FROM opportunity o WHERE {OPEN} GROUP BY o.stage",
    },
    {
        "q": "Count contacts by account industry",
        "sql": "SELECT a.industry, COUNT(*) FROM contact ct JOIN account a ON ct.account_id = a.id GROUP BY a.industry",
    },
    {
        "q": "What is the total amount of won deals by quarter in 2025?",
        "sql": f"SELECT strftime('%Y', o.close_date) || '-Q' || ((CAST(strftime('%m', o.close_date) AS INTEGER) + 2) / 3), SUM(o.amount) FROM opportunity o WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY 1",
        "sql_pg": f"SELECT to_char(o.close_date, 'YYYY-\"Q\"Q'), SUM(o.amount) FROM opportunity o WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY 1",
    },
    {
        "q": "What's our revenue so far this year?",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-01-01', '2026-11-26')}",
    },
    {
        "q": "Campaign spend by type in 2025",
        "sql": f"SELECT type, SUM(actual_cost) FROM campaign WHERE {_y('start_date', 2025)} GROUP BY type",
    },
    {
        "q": "Average resolution time in hours by priority for 2025",
        "sql": f'SELECT c.priority, AVG({HOURS}) FROM "case" c WHERE {_y("c.created_at", 2025)} GROUP BY c.priority',
        "sql_pg": f'SELECT c.priority, AVG({HOURS_PG}) FROM "case" c WHERE {_y("c.created_at", 2025)} GROUP BY c.priority',
    },
    {
        "q": "Which rep has the largest pipeline?",
        "ordered": True,
        "sql": f'SELECT u.name, SUM(o.amount) s FROM opportunity o JOIN "user" u ON o.owner_id = u.id WHERE {OPEN} GROUP BY u.name ORDER BY s DESC, u.name LIMIT 1',
    },
    {
        "q": "How many accounts have more than 5000 employees?",
        "sql": "SELECT COUNT(*) FROM account WHERE employees > 5000",
    },
    {
        "q": "Which product family sells the most?",
        "ordered": True,
        "sql": f"SELECT p.family, SUM(o.amount) s FROM opportunity o JOIN product p ON o.product_id = p.id WHERE {WON} GROUP BY p.family ORDER BY s DESC, p.family LIMIT 1",
    },
    {
        "q": "How much did we sell in EMEA in Q4 2025?",
        "sql": f"SELECT SUM(o.amount) FROM {OA} WHERE {WON} AND a.region = 'EMEA' AND {_r('o.close_date', '2025-10-01', '2026-01-01')}",
    },
    {
        "q": "How many cases were opened yesterday?",
        "sql": f'SELECT COUNT(*) FROM "case" c WHERE {_r("c.created_at", "2026-11-24", "2026-11-25")}',
    },
    {
        "q": "Show me the top 5 customers by revenue in 2025",
        "ordered": True,
        "sql": f"SELECT a.name, SUM(o.amount) s FROM {OA} WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY a.name ORDER BY s DESC, a.name LIMIT 5",
    },
    {
        "q": "What percentage of leads converted in 2025?",
        "sql": f"SELECT {CONV} FROM lead l WHERE {_y('l.created_at', 2025)}",
    },
    {
        "q": "Number of cases by priority and status",
        "sql": 'SELECT priority, status, COUNT(*) FROM "case" GROUP BY priority, status',
    },
    {
        "q": "Win rate for renewal opportunities",
        "sql": f"SELECT {WINRATE} FROM opportunity o WHERE {CLOSED} AND o.type = 'renewal'",
    },
    {
        "q": "Average CSAT score by agent",
        "sql": 'SELECT u.name, AVG(c.csat) FROM "case" c JOIN "user" u ON c.owner_id = u.id GROUP BY u.name',
    },
    {"q": "Total spend on webinars", "sql": "SELECT SUM(actual_cost) FROM campaign WHERE type = 'Webinar'"},
    {
        "q": "What is the average amount of open opportunities?",
        "sql": f"SELECT AVG(o.amount) FROM opportunity o WHERE {OPEN}",
    },
    # -- manager questions by category, written before the vocabulary that answers them ---------------
    # record lists and rankings: the records themselves (display columns), not a total
    {
        "q": "Top 5 open opportunities by amount",
        "ordered": True,
        "sql": f"SELECT o.name, o.stage, o.type, o.amount, o.close_date FROM opportunity o WHERE {OPEN} ORDER BY o.amount DESC, o.id LIMIT 5",
    },
    {
        "q": "Top 5 opportunities in the pipeline by amount",
        "ordered": True,
        "sql": f"SELECT o.name, o.stage, o.type, o.amount, o.close_date FROM opportunity o WHERE {OPEN} ORDER BY o.amount DESC, o.id LIMIT 5",
    },
    {
        "q": "Our 10 biggest lost deals in 2025",
        "ordered": True,
        "sql": f"SELECT o.name, o.stage, o.type, o.amount, o.close_date FROM opportunity o WHERE o.stage = 'closed_lost' AND {_y('o.close_date', 2025)} ORDER BY o.amount DESC, o.id LIMIT 10",
    },
    {
        "q": "List the 3 largest deals won last quarter",
        "ordered": True,
        "sql": f"SELECT o.name, o.stage, o.type, o.amount, o.close_date FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-07-01', '2026-10-01')} ORDER BY o.amount DESC, o.id LIMIT 3",
    },
    {
        "q": "Top accounts by revenue in 2025",
        "ordered": True,
        "sql": f"SELECT a.name, SUM(o.amount) s FROM {OA} WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY a.name ORDER BY s DESC, a.name LIMIT 10",
    },
    # splits by a field's values
    {
        "q": "Revenue from new business vs renewals",
        "sql": f"SELECT o.type, SUM(o.amount) FROM opportunity o WHERE {WON} AND o.type IN ('new_business', 'renewal') GROUP BY o.type",
    },
    {
        "q": "Won vs lost deals in 2025",
        "sql": f"SELECT o.stage, COUNT(*) FROM opportunity o WHERE {CLOSED} AND {_y('o.close_date', 2025)} GROUP BY o.stage",
    },
    {
        "q": "Leads by source and status in Q1 2026",
        "sql": f"SELECT l.source, l.status, COUNT(*) FROM lead l WHERE {_r('l.created_at', '2026-01-01', '2026-04-01')} GROUP BY l.source, l.status",
    },
    # the date of the event the verb names
    {
        "q": "How many leads did we convert last month?",
        "sql": f"SELECT COUNT(*) FROM lead l WHERE l.status = 'converted' AND {_r('l.converted_at', '2026-10-01', '2026-11-01')}",
    },
    {
        "q": "How many deals did we win last quarter?",
        "sql": f"SELECT COUNT(*) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-07-01', '2026-10-01')}",
    },
    {
        "q": "How many cases did we resolve this month?",
        "sql": f'SELECT COUNT(*) FROM "case" c WHERE {_r("c.resolved_at", "2026-11-01", "2026-12-01")}',
    },
    # status groups declared in the catalogue
    {
        "q": "Open cases by priority",
        "sql": "SELECT c.priority, COUNT(*) FROM \"case\" c WHERE c.status IN ('open', 'in_progress') GROUP BY c.priority",
    },
    {"q": "How many open cases", "sql": "SELECT COUNT(*) FROM \"case\" c WHERE c.status IN ('open', 'in_progress')"},
    {
        "q": "Open pipeline by stage",
        "sql": f"SELECT o.stage, SUM(o.amount) FROM opportunity o WHERE {OPEN} GROUP BY o.stage",
    },
    # ratios and percentages
    {
        "q": "Win rate by owner in 2025",
        "sql": f'SELECT u.name, {WINRATE} FROM opportunity o JOIN "user" u ON o.owner_id = u.id WHERE {CLOSED} AND {_y("o.close_date", 2025)} GROUP BY u.name',
    },
    {
        "q": "Conversion rate by lead source last year",
        "sql": f"SELECT l.source, {CONV} FROM lead l WHERE {_y('l.created_at', 2025)} GROUP BY l.source",
    },
    {
        "q": "Share of revenue from EMEA in 2025",
        "sql": f"SELECT SUM(CASE WHEN a.region = 'EMEA' THEN o.amount ELSE 0 END) * 1.0 / SUM(o.amount) FROM {OA} WHERE {WON} AND {_y('o.close_date', 2025)}",
    },
    # explicit period comparisons: rows are the first period, cmp_sql the second
    {
        "q": "Q3 2026 revenue compared to Q3 2025",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-07-01', '2026-10-01')}",
        "cmp_sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2025-07-01', '2025-10-01')}",
    },
    {
        "q": "Revenue this month vs the same month last year",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2026-11-01', '2026-12-01')}",
        "cmp_sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2025-11-01', '2025-12-01')}",
    },
    {
        "q": "Case count in 2025 vs 2024",
        "sql": f'SELECT COUNT(*) FROM "case" c WHERE {_y("c.created_at", 2025)}',
        "cmp_sql": f'SELECT COUNT(*) FROM "case" c WHERE {_y("c.created_at", 2024)}',
    },
    # several measures at once
    {
        "q": "Campaign spend vs budget by type",
        "sql": "SELECT type, SUM(actual_cost), SUM(budget) FROM campaign GROUP BY type",
    },
    {
        "q": "Deals and amount by stage",
        "sql": "SELECT stage, COUNT(*), SUM(amount) FROM opportunity GROUP BY stage",
    },
    # durations
    {
        "q": "What is our average sales cycle length",
        "sql": f"SELECT AVG(julianday(o.close_date) - julianday(o.created_at)) FROM opportunity o WHERE {WON}",
        "sql_pg": f"SELECT AVG(EXTRACT(EPOCH FROM (o.close_date::timestamp - o.created_at)) / 86400) FROM opportunity o WHERE {WON}",
    },
    {
        "q": "Average sales cycle by deal type in 2025",
        "sql": f"SELECT o.type, AVG(julianday(o.close_date) - julianday(o.created_at)) FROM opportunity o WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY o.type",
        "sql_pg": f"SELECT o.type, AVG(EXTRACT(EPOCH FROM (o.close_date::timestamp - o.created_at)) / 86400) FROM opportunity o WHERE {WON} AND {_y('o.close_date', 2025)} GROUP BY o.type",
    },
    {
        "q": "Time to resolution by priority in 2025",
        "sql": f'SELECT c.priority, AVG({HOURS}) FROM "case" c WHERE {_y("c.created_at", 2025)} GROUP BY c.priority',
        "sql_pg": f'SELECT c.priority, AVG({HOURS_PG}) FROM "case" c WHERE {_y("c.created_at", 2025)} GROUP BY c.priority',
    },
    # named records as filters, matched against the data (case- and accent-insensitive)
    {
        "q": "Revenue from Iron Bank 3",
        "sql": f"SELECT SUM(o.amount) FROM {OA} WHERE {WON} AND a.name = 'Iron Bank 3'",
    },
    {
        "q": "How many cases for green retail 1",
        "sql": "SELECT COUNT(*) FROM \"case\" c JOIN account a ON c.account_id = a.id WHERE a.name = 'Green Retail 1'",
    },
    {
        "q": "Revenue from deals owned by Hiro Muller 01 in 2025",
        "sql": f"SELECT SUM(o.amount) FROM opportunity o JOIN \"user\" u ON o.owner_id = u.id WHERE {WON} AND u.name = 'Hiro Müller 01' AND {_y('o.close_date', 2025)}",
    },
    # typos and informal phrasing, corrected against the catalogue vocabulary
    {
        "q": "revnue by regoin last quater",
        "sql": f"SELECT a.region, SUM(o.amount) FROM {OA} WHERE {WON} AND {_r('o.close_date', '2026-07-01', '2026-10-01')} GROUP BY a.region",
    },
    {"q": "how many oportunities by stage", "sql": "SELECT stage, COUNT(*) FROM opportunity GROUP BY stage"},
    {
        "q": "averge deal size by industry",
        "sql": f"SELECT a.industry, AVG(o.amount) FROM {OA} WHERE {WON} GROUP BY a.industry",
    },
    {"q": "pipline by stage", "sql": f"SELECT o.stage, SUM(o.amount) FROM opportunity o WHERE {OPEN} GROUP BY o.stage"},
    # -- found by probing after the implementation (kept as regressions) ------------------------------
    {
        "q": "Which of our reps has the lowest win rate?",
        "ordered": True,
        "sql": f'SELECT u.name, {WINRATE} w FROM opportunity o JOIN "user" u ON o.owner_id = u.id WHERE {CLOSED} GROUP BY u.name ORDER BY w ASC, u.name LIMIT 1',
    },
    {
        "q": "Show the 5 most recent deals",
        "ordered": True,
        "sql": "SELECT o.name, o.stage, o.type, o.amount, o.close_date FROM opportunity o ORDER BY o.created_at DESC, o.id LIMIT 5",
    },
    {
        "q": "Which campaign had the highest spend?",
        "ordered": True,
        "sql": "SELECT name, type, status, budget, actual_cost, start_date FROM campaign ORDER BY actual_cost DESC, id LIMIT 1",
    },
    {
        "q": "What was our revenue on 2026-03-15?",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND o.close_date = '2026-03-15'",
    },
    {
        "q": "What percentage of deals did we win in 2025?",
        "sql": f"SELECT SUM(CASE WHEN o.stage = 'closed_won' THEN 1 ELSE 0 END) * 1.0 / COUNT(*) FROM opportunity o WHERE {_y('o.close_date', 2025)}",
    },
    # -- a different "now" ---------------------------------------------------------------------------
    {
        "q": "Revenue last quarter",
        "now": "2025-02-10",
        "sql": f"SELECT SUM(amount) FROM opportunity o WHERE {WON} AND {_r('o.close_date', '2024-10-01', '2025-01-01')}",
    },
    {
        "q": "How many cases this month",
        "now": "2024-06-15",
        "sql": f'SELECT COUNT(*) FROM "case" c WHERE {_r("c.created_at", "2024-06-01", "2024-07-01")}',
    },
    {
        "q": "Win rate in Q3",
        "now": "2025-12-01",
        "sql": f"SELECT {WINRATE} FROM opportunity o WHERE {CLOSED} AND {_r('o.close_date', '2025-07-01', '2025-10-01')}",
    },
]


# Questions that must be refused (understood=False): answering any of them would be a guess, because a
# word that changes the answer (a verb, a measure, a grouping, a name) maps to nothing in the catalogue.
MUST_REFUSE: list[str] = [
    "How many leads did we churn last month?",
    "Cases by channel and priority",
    "Revenue by reason",
    "What is our NPS by region",
    "Forecast revenue next quarter",
    "Median deal size",
    "How many leads did we email last week",
    "Total revenue for Zyxcorp Holdings",
    "Deals escalated by Bob last month",
    "Revenue per employee by region",
    "How many customers churned this year",
    "Deals stuck in negotiation for 90 days",
    "Revenue by manager",
    "How many refunds did we issue in 2025",
    "Average discount on won deals",
    "Cases reopened last month",
    "Revenue not in EMEA",
    "Predicted revenue by region",
    "Revenue by account owner",
    "Cases opened vs resolved this month",
]
