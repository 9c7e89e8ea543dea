"""Natural-language reporting over a real CRM database, read-only (see docs/reporting.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["ReportResult", "ReportingEngine", "RulesTranslator"]


def __getattr__(name: str) -> Any:  # lazy: importing the package must not import SQLAlchemy
    if name in ("ReportingEngine", "ReportResult"):
        from hotcrm_ai.reporting import engine

        return getattr(engine, name)
    if name == "RulesTranslator":
        from hotcrm_ai.reporting.rules import RulesTranslator

        return RulesTranslator
    raise AttributeError(name)
