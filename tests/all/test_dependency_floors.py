"""Minimum versions stay past the publicly advised security fixes: a floor that drops below one fails."""

from __future__ import annotations

from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

# package -> the first release with the advised fix
ADVISED = {
    "requests": "2.32.4",
    "azure-identity": "1.16.1",
    "orjson": "3.9.15",
    "scikit-learn": "1.5.0",
}
DISTRIBUTIONS = ("hotcrm-ai", "hotcrm-ai-plugins", "hotcrm-ai-openai", "hotcrm-ai-sagemaker", "hotcrm-ai-azureml")


def _floors() -> list[tuple[str, str, Requirement]]:
    found = []
    for dist in DISTRIBUTIONS:
        for text in metadata.requires(dist) or []:
            req = Requirement(text)
            if req.name.lower() in ADVISED:
                found.append((dist, req.name.lower(), req))
    return found


def test_each_advised_package_is_required_somewhere() -> None:
    assert {name for _, name, _ in _floors()} == set(ADVISED)


@pytest.mark.parametrize(("dist", "name", "req"), _floors(), ids=lambda v: str(v))
def test_floor_is_past_the_advised_fix(dist: str, name: str, req: Requirement) -> None:
    fixed = Version(ADVISED[name])
    minimums = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=", ">")]
    assert minimums, f"{dist} requires {req} with no lower bound"
    assert max(minimums) >= fixed, f"{dist} requires {req}: below {fixed}"
    assert (
        not req.specifier.contains(str(Version(f"{fixed.major}.{fixed.minor}.{max(fixed.micro - 1, 0)}")))
        or fixed.micro == 0
    )
