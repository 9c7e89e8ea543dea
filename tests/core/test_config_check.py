"""The whole configuration is checked when ``AICloud`` starts: one policy for unknown keys (named,
with the closest valid name), installed names for backends, sinks, providers and models."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from support.providers import LogitProvider, Plugin

from hotcrm_ai import AICloud, hookimpl
from hotcrm_ai.config import load_settings, settings_from_dict
from hotcrm_ai.descriptors import ProviderSpec
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.options import between, parse_options
from hotcrm_ai.secrets import REDACTED
from hotcrm_ai.types import ModelConfig

MODEL = {"id": "m-v1", "name": "M", "type": "classification"}


def start(doc: dict[str, object]) -> AICloud:
    plugin = Plugin({"test-logit": LogitProvider})
    return AICloud(settings_from_dict(doc), plugins=[plugin], load_entrypoints=False)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"cache": {"backnd": "memory"}}, r"\[cache\] unknown key 'backnd'; did you mean `backend`\?"),
        ({"cache": {"default_ttl": 300}}, r"\[cache\] unknown key 'default_ttl'; did you mean `default_ttl_s`\?"),
        ({"cache": {"max_bytes": "big"}}, r"max_bytes.*integer"),
        ({"cache": {"backend": "memroy"}}, r"\[cache\] backend: unknown 'memroy'; did you mean `memory`\?"),
        ({"monitor": {"sinks": ["memori"]}}, r"\[monitor\] sinks: unknown 'memori'; did you mean `memory`\?"),
        ({"monitor": {"sink_options": {"memory": {"size": 1}}}}, r"sink_options.memory\] unknown key 'size'"),
        ({"providers": {"test-logti": {}}}, r"\[providers\]: unknown 'test-logti'; did you mean `test-logit`\?"),
        (
            {"models": [{**MODEL, "provider": "test-logti"}]},
            r"\[\[models\]\] #1 \(m-v1\) provider: unknown 'test-logti'; did you mean `test-logit`\?",
        ),
        ({"models": [{**MODEL, "provider": "test-logit", "explainer": "exakt"}]}, r"did you mean `exact`\?"),
        ({"reporting": {"translator": "rulez"}}, r"translator: unknown 'rulez'; did you mean `rules`\?"),
        ({"prediction": {"retires": 3}}, r"\[prediction\] unknown key 'retires'; did you mean `retries`\?"),
        ({"cahce": {}}, r"unknown section 'cahce'; did you mean `cache`\?"),
    ],
)
def test_typos_are_refused_at_start_with_the_key_named(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        start(doc)


def test_a_valid_config_starts_and_serves(tmp_path: Path) -> None:
    ai = start({"cache": {"backend": "memory", "max_bytes": 1 << 20}, "models": [{**MODEL, "provider": "test-logit"}]})
    assert ai.predict("m-v1", {"x1": 1.0, "x2": 2.0, "x3": 3.0}).model_id == "m-v1"


def test_database_url_takes_an_env_reference_and_is_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DB", "postgresql://crm:hunter2-pw@127.0.0.1/crm")
    file = tmp_path / "hotcrm-ai.toml"
    file.write_text('[reporting]\ndatabase_url = { env = "CRM_DB" }\n', encoding="utf-8")
    settings = load_settings(file, env={})
    url = settings.reporting.database_url
    assert url is not None and url.reveal().endswith("/crm")
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.reporting)
    literal = settings_from_dict({"reporting": {"database_url": "postgresql://u:hunter2-pw@h/db"}})
    assert "hunter2" not in repr(literal) and "hunter2" not in str(literal.reporting)
    assert literal.reporting.database_url is not None and literal.reporting.database_url.to_json() == REDACTED


def test_aliases_and_two_spellings() -> None:
    import attrs

    @attrs.frozen
    class Opts:
        ALIASES = {"timeout": "timeout_s"}
        timeout_s: float = 1.0

    assert parse_options(Opts, {"timeout": 2}, section="x").timeout_s == 2.0
    with pytest.raises(ConfigError, match=r"\[x\] 'timeout_s' and 'timeout' both given"):
        parse_options(Opts, {"timeout_s": 1, "timeout": 2}, section="x")
    with pytest.raises(ConfigError, match=r"timeout_s.*number"):
        parse_options(Opts, {"timeout_s": "soon"}, section="x")


@attrs.frozen
class _Threshold:
    """A third-party provider's per-model options: what a model's ``parameters`` may set."""

    threshold: float = attrs.field(default=0.5, validator=between(0, 1, integer=False))
    label: str | None = None


class _ThresholdPlugin:
    """Registers ``test-logit`` with declared per-model options, and one plugin model of its own."""

    def __init__(self, models: tuple[ModelConfig, ...] = ()) -> None:
        self.models = models

    @hookimpl
    def register_providers(self, register: Callable[[ProviderSpec], None]) -> None:
        register(ProviderSpec(name="test-logit", factory=LogitProvider, model_options=_Threshold))

    @hookimpl
    def register_models(self, register: Callable[[ModelConfig], None]) -> None:
        for model in self.models:
            register(model)


def _start_with(parameters: dict[str, object], plugin_models: tuple[ModelConfig, ...] = ()) -> AICloud:
    doc = {"models": [{**MODEL, "provider": "test-logit", "parameters": parameters}]}
    return AICloud(settings_from_dict(doc), plugins=[_ThresholdPlugin(plugin_models)], load_entrypoints=False)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"treshold": 0.2},
            "[models.m-v1.parameters] unknown key 'treshold'; did you mean `threshold`? (known: label, threshold)",
        ),
        ({"threshold": "high"}, "Invalid [models.m-v1.parameters]: threshold: expected a number, got str"),
        ({"threshold": 2}, "Invalid [models.m-v1.parameters]: threshold: expected a number >= 0 and <= 1, got 2.0"),
        ({"label": 3}, "Invalid [models.m-v1.parameters]: label: expected a string, got int"),
    ],
)
def test_model_parameters_are_checked_against_the_providers_declared_model_options(
    parameters: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _start_with(parameters)
    assert str(info.value) == message


def test_shared_parameters_pass_and_a_bad_plugin_model_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    bad = ModelConfig(id="p-v1", name="P", type="classification", provider="test-logit", parameters={"treshold": 1})
    with caplog.at_level(logging.WARNING, logger="hotcrm_ai"):
        ai = _start_with({"threshold": 0.7, "example": {"x1": 1.0}}, plugin_models=(bad,))
    assert [m.id for m in ai.registry.list()] == ["m-v1"]  # `example` is the core's own key
    assert "did you mean `threshold`?" in caplog.text and "p-v1" in caplog.text


def test_engine_options_are_declared_under_the_same_policy() -> None:
    from hotcrm_ai.scoring.local import local_engine

    assert local_engine({}).workers == 2 and local_engine({"workers": 4}).workers == 4
    with pytest.raises(ConfigError, match=r"\[engines.local\] unknown key 'workrs'; did you mean `workers`\?"):
        local_engine({"workrs": 3})
    with pytest.raises(ConfigError, match=r"\[engines.local\]: workers: expected an integer, got bool"):
        local_engine({"workers": True})


@attrs.frozen
class _Nested:
    name: str
    sizes: tuple[int, ...] = ()


@attrs.frozen
class _ServerLike:
    """A stand-in for a separately installed distribution's top-level table."""

    threads: int = 4
    entries: tuple[_Nested, ...] = ()


class _SectionPlugin:
    @hookimpl
    def register_sections(self, register: Callable[[object], None]) -> None:
        from hotcrm_ai.descriptors import SectionSpec

        register(
            SectionSpec(
                "server", lambda table: parse_options(_ServerLike, table, section="server"), options=_ServerLike
            )
        )


def _start_with_section(server: dict[str, object], *, installed: bool = True) -> AICloud:
    plugins: list[object] = [Plugin({"test-logit": LogitProvider})]
    if installed:
        plugins.append(_SectionPlugin())
    return AICloud(settings_from_dict({"server": server}), plugins=plugins, load_entrypoints=False)


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"thread": 8}, "[server] unknown key 'thread'; did you mean `threads`? (known: entries, threads)"),
        ({"threads": "8"}, "Invalid [server]: threads: expected an integer, got str"),
        (
            {"entries": [{"nam": "a"}]},
            "[server.entries[0]] unknown key 'nam'; did you mean `name`? (known: name, sizes)",
        ),
        ({"entries": [{"name": "a", "sizes": "12"}]}, "Invalid [server]: entries[0].sizes: expected a list, got '12'"),
        ({"entries": {"name": "a"}}, "Invalid [server]: entries: expected a list, got a table"),
    ],
)
def test_a_plugin_section_is_checked_at_start(server: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _start_with_section(server)
    assert str(info.value) == message


def test_a_plugin_section_nobody_installed_reads_is_refused_like_an_uninstalled_provider() -> None:
    with pytest.raises(ConfigError, match=r"^\[server\]: no installed plugin reads this section"):
        _start_with_section({"threads": 8}, installed=False)
    with pytest.raises(ConfigError, match=r"^\[providers\]: unknown 'openai'"):  # the same for a provider
        start({"providers": {"openai": {}}})
    _start_with_section({}, installed=False).close()  # no table: nothing to read
    ai = _start_with_section({"threads": 8, "entries": [{"name": "a", "sizes": [1, 2]}]})
    assert ai.plugins.sections["server"].factory(ai.settings.server) == _ServerLike(8, (_Nested("a", (1, 2)),))
    ai.close()
