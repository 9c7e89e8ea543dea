"""The core's ``llm`` translator without any vendor SDK: how it is configured, and what happens when the
model it names sits on a provider without structured output (the base class's typed refusal)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.providers import LogitProvider, Plugin, logit_model
from support.reporting import make_demo_sqlite

from hotcrm_ai import AICloud, Settings
from hotcrm_ai.config import ReportingSettings
from hotcrm_ai.errors import ConfigError, ModelNotFoundError, ProviderCapabilityError, ReportingError
from hotcrm_ai.reporting.engine import ReportingEngine


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_sqlite(tmp_path_factory.mktemp("llm-core"))


def _ai(demo: Path, **options: object) -> AICloud:
    settings = Settings(
        models=(logit_model("scorer-v1"),),
        reporting=ReportingSettings(database_url=f"sqlite:///{demo}", translator="llm", options=dict(options)),
    )
    return AICloud(settings, plugins=[Plugin({"test-logit": LogitProvider})], load_entrypoints=False, env={})


def test_llm_is_a_builtin_translator_and_names_its_model(demo: Path) -> None:
    with _ai(demo) as ai:
        assert {"rules", "llm"} <= set(ai.plugins.translators)
        with pytest.raises(ConfigError, match=r"reporting\.llm_model: expected the id of a registered model"):
            ai.reporting.translator()
    with _ai(demo, llm_model="scorer-v1", llm_api_key="sk-old") as ai, pytest.raises(ConfigError) as info:
        ai.reporting.translator()
    assert "reporting.llm_api_key: no longer read" in str(info.value) and "sk-old" not in str(info.value)


def test_a_provider_without_structured_output_is_a_typed_refusal(demo: Path) -> None:
    with _ai(demo, llm_model="scorer-v1") as ai:
        provider = ai.provider_for("scorer-v1")
        model = ai.registry.get("scorer-v1")
        with pytest.raises(ProviderCapabilityError) as info:
            provider.complete_structured(model, system="s", user="u", schema={"type": "object"})
        assert info.value.retryable is False and "structured output" in str(info.value)
        with pytest.raises(ReportingError, match="does not offer structured output"):
            ai.ask("revenue by industry", now="2026-11-25")
        stats = ai.stats("scorer-v1")
        assert stats.total == 1 and stats.failures == 1  # recorded under the model, not retried


def test_an_unknown_model_is_an_error_naming_it(demo: Path) -> None:
    with _ai(demo, llm_model="no-such-model") as ai, pytest.raises(ModelNotFoundError, match="no-such-model"):
        ai.ask("revenue by industry", now="2026-11-25")


def test_an_engine_without_models_says_so(demo: Path) -> None:
    with _ai(demo, llm_model="scorer-v1") as ai:
        engine = ReportingEngine(ai.settings.reporting, ai.plugins.translators)
        with pytest.raises(ReportingError, match="no models to ask"):
            engine.ask("revenue by industry", now="2026-11-25")
        engine.close()
