"""Every hookspec has a documentation entry (docs/plugins.md) and at least one test that uses it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from hotcrm_ai import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(name for name, fn in vars(hookspecs).items() if inspect.isfunction(fn) and hasattr(fn, "hotcrm_ai_spec"))


def test_there_are_hooks() -> None:
    assert {
        "register_providers",
        "register_cache_backends",
        "register_explainers",
        "register_monitor_sinks",
        "register_models",
        "register_query_translators",
        "register_commands",
    } <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_signature_and_example(hook: str) -> None:
    doc = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = re.search(rf"^### `{hook}\((\w+)\)`\n(.*?)(?=^### |\Z)", doc, re.S | re.M)
    assert section, f"docs/plugins.md has no '### `{hook}(...)`' entry"
    param = inspect.signature(getattr(hookspecs, hook)).parameters
    assert section.group(1) in param, "documented signature differs from the hookspec"
    assert "```python" in section.group(2) and "@hookimpl" in section.group(2), "entry needs an example"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook: str) -> None:
    me = Path(__file__).name
    users = [p for p in (ROOT / "tests").rglob("test_*.py") if p.name != me and hook in p.read_text(encoding="utf-8")]
    assert users, f"no test under tests/ exercises {hook}"
