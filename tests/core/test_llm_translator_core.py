"""The core's ``llm`` translator without any vendor SDK: how it is configured, and what happens when the
model it names sits on a provider without structured output (the base class's typed refusal)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.providers import LogitProvider, Plugin, logit_model
from support.reporting import make_demo_sqlite

from hotcrm_ai import AICloud, Settings
from hotcrm_ai.config import ReportingSettings, settings_from_dict
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
    with _ai(demo, llm_model="scorer-v1") as ai:
        assert {"rules", "llm"} <= set(ai.plugins.translators)
        assert ai.reporting.translator().model_id == "scorer-v1"
    with pytest.raises(ConfigError, match=r"\[reporting\]: llm_model: expected the id of a registered model"):
        _ai(demo)  # checked when AICloud starts, not at the first question
    with pytest.raises(ConfigError, match=r"llm_model: expected the id of a registered model.*got ' '"):
        _ai(demo, llm_model=" ")
    with pytest.raises(ConfigError, match=r"llm_model: expected a string, got int"):
        _ai(demo, llm_model=7)


@pytest.mark.parametrize("key", ["llm_base_url", "llm_api_key", "llm_timeout_s"])
def test_a_retired_key_points_to_llm_model_and_never_shows_its_value(demo: Path, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        _ai(demo, llm_model="scorer-v1", **{key: "sk-old-secret-value"})
    message = str(info.value)
    assert f"[reporting] {key!r} is no longer read" in message and "`llm_model`" in message
    assert "sk-old-secret-value" not in message


def test_reporting_keys_follow_the_one_policy(demo: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[reporting\] unknown key 'llm_modle'; did you mean `llm_model`\?"):
        _ai(demo, llm_modle="scorer-v1")
    doc = {"reporting": {"translater": "llm", "database_url": f"sqlite:///{demo}"}}
    settings = settings_from_dict(doc)  # the table holds translators' keys: the names are checked at start
    with pytest.raises(ConfigError, match=r"unknown key 'translater'; did you mean `translator`\?"):
        AICloud(settings, load_entrypoints=False, env={})


def test_the_rules_translator_keeps_the_llm_keys_for_a_request_that_picks_llm(demo: Path) -> None:
    reporting = ReportingSettings(database_url=f"sqlite:///{demo}", options={"llm_model": "scorer-v1"})
    settings = Settings(models=(logit_model("scorer-v1"),), reporting=reporting)
    with AICloud(settings, plugins=[Plugin({"test-logit": LogitProvider})], load_entrypoints=False, env={}) as ai:
        assert ai.reporting.translator().name == "rules"
        assert ai.reporting.translator("llm").model_id == "scorer-v1"
    retired = ReportingSettings(database_url=f"sqlite:///{demo}", options={"llm_api_key": "sk-old"})
    with pytest.raises(ConfigError, match="'llm_api_key' is no longer read; use `llm_model`"):
        AICloud(Settings(reporting=retired), load_entrypoints=False, env={})


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
