"""Questions refused before any parsing: empty, too long, asking to change data, or carrying SQL.

The write-word and SQL patterns are deliberately narrow so ordinary English stays allowed ("why did
revenue drop", "accounts we created", "cold call leads"): a verb must take a database or record object.
"""

from __future__ import annotations

import re

from hotcrm_ai.reporting.ast import NotUnderstood

MAX_QUESTION = 500
_DDL_OBJECTS = (
    r"(?:table|tables|database|schema|index|view|column|constraint|trigger|function|procedure|user|role|sequence)"
)
_RECORDS = r"(?:the\s+|all\s+|every\s+|our\s+|this\s+|that\s+|these\s+|those\s+)?\S+"
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


def refusal(question: str, text: str) -> NotUnderstood | None:
    """Why ``question`` (``text`` is its normalized form) is refused outright, or None."""
    if not question.strip():
        return NotUnderstood("The question is empty.", suggestions=examples())
    if len(question) > MAX_QUESTION:
        return NotUnderstood(
            f"The question is too long ({len(question)} characters; at most {MAX_QUESTION}).",
            suggestions=examples(),
        )
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
            "The question contains SQL or database names; ask in plain words about CRM data (SQL text is never run).",
            unknown=[sql.group(0)[:40]],
            suggestions=examples(),
        )
    return None


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
