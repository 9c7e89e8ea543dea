"""The two example configurations in docs/providers/azureml.md load through the real config loader and
give providers that validate (no network: validate() only checks what each path needs)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from hotcrm_ai.config import settings_from_dict
from hotcrm_ai_azureml.provider import AzureMLProvider

DOC = Path(__file__).resolve().parents[2] / "docs" / "providers" / "azureml.md"


def _examples() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_both_examples_are_there() -> None:
    assert len(_examples()) == 2


@pytest.mark.parametrize("index", [0, 1])
def test_example_config_loads_and_validates(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZUREML_ENDPOINT_KEY", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.setenv(name, f"value-of-{name.lower()}")
    settings = settings_from_dict(tomllib.loads(_examples()[index]), source=f"{DOC.name} example {index + 1}")
    provider = AzureMLProvider(settings.provider_config("azure-ml"))
    for model in settings.models:
        assert provider.problems(model) == [], model.id
    assert provider.validate() is True
    assert "value-of" not in repr(provider) and "value-of" not in repr(settings)
