"""The plugin host: isolation of broken plugins, strict mode, selection, replacement, no SDK imports."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest
from support.providers import LogitProvider, Plugin, logit_model

from hotcrm_ai import CacheBackendSpec, ModelConfig, ProviderSpec, hookimpl
from hotcrm_ai.errors import PluginError
from hotcrm_ai.plugins import PluginHost


def _module(name: str, **hooks: Any) -> types.ModuleType:
    mod = types.ModuleType(name)
    for hook, fn in hooks.items():
        setattr(mod, hook, hookimpl(fn))
    return mod


def test_builtins_register_through_the_hooks() -> None:
    host = PluginHost(load_entrypoints=False)
    assert "memory" in host.cache_backends
    assert "memory" in host.monitor_sinks
    assert {"exact", "linear", "kernel"} <= set(host.explainers)
    assert all(r.source == "builtin" and r.distribution == "hotcrm-ai" for r in host.describe())


def test_code_plugin_registers_provider_and_model() -> None:
    plugin = Plugin({"test-logit": LogitProvider}, [logit_model()])
    host = PluginHost(plugins=[plugin], load_entrypoints=False)
    assert host.providers["test-logit"].name == "test-logit"
    assert [m.id for m in host.models] == ["logit-v1"]
    record = host.records["test-plugin"]
    assert record.registered == {"providers": ["test-logit"], "models": ["logit-v1@1.0.0"]}
    assert record.errors == []


def test_a_plugin_raising_in_a_hook_is_skipped_and_recorded() -> None:
    def boom(register: Any) -> None:
        raise RuntimeError("kaput")

    good = Plugin({"test-logit": LogitProvider})
    host = PluginHost(plugins=[_module("broken", register_providers=boom), good], load_entrypoints=False)
    assert "test-logit" in host.providers
    assert any("kaput" in e and "RuntimeError" in e for e in host.records["broken"].errors)


def test_garbage_is_refused() -> None:
    def returns(register: Any) -> list[str]:
        return ["not how it works"]

    def wrong_type(register: Any) -> None:
        register({"name": "x"})

    host = PluginHost(
        plugins=[_module("ret", register_providers=returns), _module("wrong", register_models=wrong_type)],
        load_entrypoints=False,
    )
    assert "call register" in host.records["ret"].errors[0]
    assert "expected ModelConfig, got dict" in host.records["wrong"].errors[0]
    assert host.models == []


def test_duplicate_names_need_explicit_replace() -> None:
    def dup(register: Any) -> None:
        register(CacheBackendSpec(name="memory", factory=lambda o: None))

    def takeover(register: Any) -> None:
        register(CacheBackendSpec(name="memory", factory=lambda o: "mine", replace=True))

    host = PluginHost(plugins=[_module("dup", register_cache_backends=dup)], load_entrypoints=False)
    assert "already registered by plugin memory_cache" in host.records["dup"].errors[0]
    assert host.cache_backends["memory"].factory({}) != "mine"
    host = PluginHost(plugins=[_module("takeover", register_cache_backends=takeover)], load_entrypoints=False)
    assert host.records["takeover"].errors == []
    assert host.cache_backends["memory"].factory({}) == "mine"


def test_duplicate_model_versions_are_refused() -> None:
    a = Plugin(models=[logit_model()], name="a")
    b = Plugin(models=[logit_model()], name="b")
    host = PluginHost(plugins=[a, b], load_entrypoints=False)
    assert len(host.models) == 1
    assert "already registered by plugin a" in host.records["b"].errors[0]


def test_strict_mode_turns_errors_into_failures() -> None:
    def boom(register: Any) -> None:
        raise ValueError("bad plugin")

    with pytest.raises(PluginError, match="bad plugin"):
        PluginHost(plugins=[_module("broken", register_providers=boom)], load_entrypoints=False, strict=True)
    with pytest.raises(PluginError, match="strict"):
        PluginHost(
            plugins=[_module("broken", register_providers=boom)],
            load_entrypoints=False,
            env={"HOTCRM_AI_STRICT_PLUGINS": "1"},
        )


def test_descriptors_validate_their_fields() -> None:
    with pytest.raises(ValueError, match="name"):
        ProviderSpec(name="has space", factory=LogitProvider)
    with pytest.raises(TypeError, match="callable"):
        ProviderSpec(name="ok", factory="not callable")  # type: ignore[arg-type]


def test_two_hosts_are_independent() -> None:
    one = PluginHost(plugins=[Plugin({"test-logit": LogitProvider})], load_entrypoints=False)
    two = PluginHost(load_entrypoints=False)
    assert "test-logit" in one.providers and "test-logit" not in two.providers
    assert one.pm is not two.pm


def test_registration_imports_no_sdk_and_selection_env() -> None:
    """Run in a fresh interpreter: loading every installed plugin imports no cloud SDK."""
    code = textwrap.dedent(
        """
        import sys, json
        from hotcrm_ai.plugins import PluginHost
        host = PluginHost()
        sdks = {'openai', 'boto3', 'botocore', 'azure', 'anthropic'}
        sdk = sorted(m for m in sys.modules if m.split('.')[0] in sdks)
        only = PluginHost(env={'HOTCRM_AI_LOAD_PLUGINS': ''})
        print(json.dumps({'sdk': sdk, 'loaded': sorted(host.records), 'only': sorted(only.records)}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    import json

    data = json.loads(out.strip().splitlines()[-1])
    assert data["sdk"] == []
    # LOAD_PLUGINS set but empty: only built-ins
    builtins = {
        "memory_cache",
        "memory_sink",
        "explainers",
        "rules_translator",
        "llm_translator",
        "sql_store",
        "local_engine",
    }
    assert all(name in builtins for name in data["only"])


def test_broken_entry_point_plugin_leaves_the_rest_working(tmp_path: Any) -> None:
    """A real distribution whose module raises on import, found through a real entry point."""
    dist = tmp_path / "site"
    pkg = dist / "broken_plugin_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise ImportError('this plugin is broken on purpose')\n")
    info = dist / "broken_plugin_pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin-pkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[hotcrm_ai]\nbroken = broken_plugin_pkg\n")
    code = textwrap.dedent(
        f"""
        import sys, json
        sys.path.insert(0, {str(dist)!r})
        from hotcrm_ai.plugins import PluginHost
        host = PluginHost()
        print(json.dumps({{'errors': host.records['broken'].errors, 'dist': host.records['broken'].distribution,
                          'memory': 'memory' in host.cache_backends}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    import json

    data = json.loads(out.strip().splitlines()[-1])
    assert data["memory"] is True
    assert data["dist"] == "broken-plugin-pkg"
    assert "broken on purpose" in data["errors"][0]
    strict = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(dist)!r}); from hotcrm_ai.plugins import PluginHost; PluginHost()",
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "HOTCRM_AI_STRICT_PLUGINS": "1"},
    )
    assert strict.returncode != 0 and "broken on purpose" in strict.stderr
    # the CLI keeps working around it, and strict mode is one clear line with exit code 2
    cli = str(Path(sys.executable).parent / "hotcrm-ai")
    env = {**os.environ, "PYTHONPATH": str(dist)}
    ok = subprocess.run([cli, "plugins", "--json"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and "broken on purpose" in ok.stdout
    failed = subprocess.run(
        [cli, "plugins"], capture_output=True, text=True, env={**env, "HOTCRM_AI_STRICT_PLUGINS": "1"}
    )
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith("error: plugin broken (broken-plugin-pkg)")


def test_models_from_plugins_must_be_model_configs() -> None:
    def reg(register: Any) -> None:
        register(ModelConfig(id="m-1", name="M", type="nlp", provider="x"))

    host = PluginHost(plugins=[_module("models", register_models=reg)], load_entrypoints=False)
    assert host.models[0].id == "m-1"


def test_a_misspelt_hook_is_reported_with_a_suggestion() -> None:
    def register_provider(register: Any) -> None:  # singular: not a hook of the contract
        register(ProviderSpec(name="never", factory=LogitProvider))

    host = PluginHost(plugins=[_module("typo", register_provider=register_provider)], load_entrypoints=False)
    (error,) = host.records["typo"].errors
    assert "unknown hook 'register_provider'" in error and "did you mean 'register_providers'" in error
    assert "never" not in host.providers


def test_a_misspelt_hook_fails_strict_mode() -> None:
    with pytest.raises(PluginError, match="unknown hook 'register_modles'"):
        PluginHost(
            plugins=[_module("typo", register_modles=lambda register: None)], load_entrypoints=False, strict=True
        )


def test_an_unmarked_contract_hook_is_reported() -> None:
    mod = types.ModuleType("unmarked")
    mod.register_providers = lambda register: None  # type: ignore[attr-defined]  # no @hookimpl
    host = PluginHost(plugins=[mod], load_entrypoints=False)
    assert "not marked with @hookimpl" in host.records["unmarked"].errors[0]


def test_stores_and_engines_register_through_their_hooks() -> None:
    from hotcrm_ai import EngineSpec, StoreSpec

    def register_stores(register: Any) -> None:
        register(StoreSpec(name="acme-store", factory=lambda options: dict(options)))

    def register_engines(register: Any) -> None:
        register(EngineSpec(name="acme-engine", factory=lambda options: dict(options)))

    host = PluginHost(
        plugins=[_module("acme", register_stores=register_stores, register_engines=register_engines)],
        load_entrypoints=False,
    )
    assert host.stores["acme-store"].factory({"a": 1}) == {"a": 1}
    assert host.engines["acme-engine"].kind == "engines"
    assert host.records["acme"].registered == {"stores": ["acme-store"], "engines": ["acme-engine"]}
