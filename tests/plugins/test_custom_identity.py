"""The ``custom`` provider: two models differing only in a config value (``artifact_dir``) are served
by their own instances reading their own artifacts; equal configs share one instance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import attrs
import pytest

import hotcrm_ai_plugins
from hotcrm_ai import AICloud, Settings
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.types import ProviderConfig
from hotcrm_ai_plugins.models import default_models
from hotcrm_ai_plugins.models.examples import EXAMPLES
from hotcrm_ai_plugins.runners import default_artifact_dir


def test_models_differing_in_artifact_dir_read_their_own_artifacts(tmp_path: Path) -> None:
    shutil.copytree(default_artifact_dir(), tmp_path, dirs_exist_ok=True)
    artifact = tmp_path / "lead_scoring.json"
    doc = json.loads(artifact.read_text())
    doc["intercept"] = doc["intercept"] - 50.0  # the copy scores every lead cold
    artifact.write_text(json.dumps(doc))
    lead = next(m for m in default_models() if m.id == "lead-scoring-v1")
    shipped = attrs.evolve(lead, provider_config=ProviderConfig(provider="custom"), cache_ttl_s=0)
    copied = attrs.evolve(
        lead,
        id="lead-scoring-copy",
        provider_config=ProviderConfig(provider="custom", config={"artifact_dir": str(tmp_path)}),
        cache_ttl_s=0,
    )
    twin = attrs.evolve(shipped, id="lead-scoring-twin")
    settings = Settings(models=(shipped, copied, twin))
    with AICloud(settings, plugins=[hotcrm_ai_plugins], load_entrypoints=False) as ai:
        row = EXAMPLES["lead-scoring-v1"]
        hot, cold = ai.predict("lead-scoring-v1", row), ai.predict("lead-scoring-copy", row)
        assert hot.prediction != cold.prediction
        assert ai.provider_for("lead-scoring-v1") is not ai.provider_for("lead-scoring-copy")
        assert ai.provider_for("lead-scoring-v1") is ai.provider_for("lead-scoring-twin")


def test_custom_options_are_declared() -> None:
    lead = next(m for m in default_models() if m.id == "lead-scoring-v1")
    bad = attrs.evolve(lead, provider_config=ProviderConfig(provider="custom", config={"artefact_dir": "x"}))
    with pytest.raises(ConfigError, match=r"unknown key 'artefact_dir'; did you mean `artifact_dir`\?"):
        AICloud(Settings(models=(bad,)), plugins=[hotcrm_ai_plugins], load_entrypoints=False)
