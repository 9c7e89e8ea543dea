"""The plugin host: discovers plugins, calls their registration hooks one plugin at a time, and
keeps what each registered and what went wrong.

Why not ``pm.load_setuptools_entrypoints``: one broken plugin would break the host, and two hosts in
one process could not differ. Here each ``AICloud`` owns its host, every plugin is imported and
called in isolation, and failures are recorded (or raised, with ``HOTCRM_AI_STRICT_PLUGINS=1``).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from hotcrm_ai import hookspecs
from hotcrm_ai.builtins import DEFAULT_PLUGINS
from hotcrm_ai.descriptors import (
    CacheBackendSpec,
    Descriptor,
    EngineSpec,
    ExplainerSpec,
    MonitorSinkSpec,
    ProviderSpec,
    QueryTranslatorSpec,
    SectionSpec,
    StoreSpec,
)
from hotcrm_ai.errors import PluginError

if TYPE_CHECKING:
    from hotcrm_ai.types import ModelConfig

log = logging.getLogger("hotcrm_ai.plugins")

GROUP = "hotcrm_ai"
STRICT_ENV = "HOTCRM_AI_STRICT_PLUGINS"
LOAD_ENV = "HOTCRM_AI_LOAD_PLUGINS"
DISABLE_ENV = "HOTCRM_AI_DISABLE_PLUGINS"
TRACE_ENV = "HOTCRM_AI_TRACE_PLUGINS"

# hook name -> (kind shown to users, descriptor type accepted by register); "models" takes ModelConfig,
# resolved when hooks are collected so that loading plugins for the CLI does not import the types.
REGISTRATION_HOOKS: dict[str, tuple[str, type | None]] = {
    "register_providers": ("providers", ProviderSpec),
    "register_cache_backends": ("cache_backends", CacheBackendSpec),
    "register_explainers": ("explainers", ExplainerSpec),
    "register_monitor_sinks": ("monitor_sinks", MonitorSinkSpec),
    "register_query_translators": ("translators", QueryTranslatorSpec),
    "register_stores": ("stores", StoreSpec),
    "register_engines": ("engines", EngineSpec),
    "register_sections": ("sections", SectionSpec),
    "register_models": ("models", None),
}
# every hook name the contract defines; anything else a plugin marks with @hookimpl is a typo
KNOWN_HOOKS = frozenset([*REGISTRATION_HOOKS, "register_commands"])


@attrs.define
class PluginRecord:
    """What ``hotcrm-ai plugins`` shows for one plugin."""

    name: str
    distribution: str | None
    version: str | None
    source: str  # "builtin", "entrypoint" or "code"
    registered: dict[str, list[str]] = attrs.field(factory=dict)
    errors: list[str] = attrs.field(factory=list)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _names(value: str | None) -> set[str]:
    return {n.strip() for n in (value or "").split(",") if n.strip()}


class PluginHost:
    """One pluggy manager and everything its plugins registered. Never process-global."""

    def __init__(
        self,
        *,
        plugins: Sequence[object] = (),
        load_entrypoints: bool = True,
        builtins: Sequence[str] = DEFAULT_PLUGINS,
        env: Mapping[str, str] | None = None,
        strict: bool | None = None,
        collect: bool = True,
    ) -> None:
        """``collect=False`` only imports and registers the plugins (what the CLI needs to add
        commands) without calling their registration hooks."""
        env = os.environ if env is None else env
        self.strict = _truthy(env.get(STRICT_ENV)) if strict is None else strict
        self.trace = _truthy(env.get(TRACE_ENV))
        self.pm = pluggy.PluginManager("hotcrm_ai")
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.providers: dict[str, ProviderSpec] = {}
        self.cache_backends: dict[str, CacheBackendSpec] = {}
        self.explainers: dict[str, ExplainerSpec] = {}
        self.monitor_sinks: dict[str, MonitorSinkSpec] = {}
        self.translators: dict[str, QueryTranslatorSpec] = {}
        self.stores: dict[str, StoreSpec] = {}
        self.engines: dict[str, EngineSpec] = {}
        self.sections: dict[str, SectionSpec] = {}
        self.models: list[ModelConfig] = []
        self._model_owner: dict[str, str] = {}

        from hotcrm_ai import __version__ as core_version  # not importlib.metadata: tens of ms at every start

        for module_name in builtins:
            self._add(
                partial(importlib.import_module, module_name),
                module_name.rsplit(".", 1)[-1],
                "hotcrm-ai",
                core_version,
                "builtin",
            )
        if load_entrypoints:
            self._load_entrypoints(env)
        for i, plugin in enumerate(plugins):
            name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{i}"
            self._add(partial(_identity, plugin), name, None, None, "code")
        if collect:
            self._collect()

    # -- discovery -------------------------------------------------------------------------

    def _load_entrypoints(self, env: Mapping[str, str]) -> None:
        only = _names(env.get(LOAD_ENV)) if LOAD_ENV in env else None
        disabled = _names(env.get(DISABLE_ENV))
        from hotcrm_ai.entrypoints import entry_points  # the scan, cached per set of installed distributions

        eps = sorted(entry_points(GROUP, env=dict(env)), key=lambda ep: ep.name)
        seen: set[str] = set()
        for ep in eps:
            if ep.name in seen:  # the same distribution found twice on sys.path
                continue
            seen.add(ep.name)
            if (only is not None and ep.name not in only) or ep.name in disabled:
                continue
            self._add(ep.load, ep.name, ep.distribution, ep.version, "entrypoint")

    def _add(self, load: Callable[[], object], name: str, dist: str | None, version: str | None, source: str) -> None:
        if name in self.records:
            name = f"{name}#{len(self.records)}"
        record = PluginRecord(name=name, distribution=dist, version=version, source=source)
        self.records[name] = record
        try:
            plugin = load()
            self.pm.register(plugin, name=name)
        except Exception as exc:  # a plugin that cannot even be imported
            self._fail(record, f"failed to load: {type(exc).__name__}: {exc}")
            return
        self._check_hook_names(plugin, record)

    def _check_hook_names(self, plugin: object, record: PluginRecord) -> None:
        """Report hooks the contract does not define, and contract hooks left unmarked.

        pluggy accepts an ``@hookimpl`` for any name and simply never calls one without a spec, so a
        plugin defining ``register_provider`` (singular) would load and do nothing, silently.
        """
        for attr in sorted(dir(plugin)):
            if not attr.startswith("register_"):
                continue
            fn = getattr(plugin, attr, None)
            if not callable(fn):
                continue
            marked = hasattr(fn, "hotcrm_ai_impl")
            if marked and attr not in KNOWN_HOOKS:
                hint = _closest(attr, KNOWN_HOOKS)
                self._fail(
                    record,
                    f"unknown hook {attr!r}"
                    + (f" (did you mean {hint!r}?)" if hint else "")
                    + f"; hooks are: {', '.join(sorted(KNOWN_HOOKS))}",
                )
            elif not marked and attr in KNOWN_HOOKS:
                self._fail(record, f"{attr} is not marked with @hookimpl, so it would never be called")

    # -- registration ----------------------------------------------------------------------

    def _collect(self) -> None:
        from hotcrm_ai.types import ModelConfig

        for hook_name, (kind, spec_type) in REGISTRATION_HOOKS.items():
            caller = getattr(self.pm.hook, hook_name)
            for impl in caller.get_hookimpls():  # registration order: built-ins first
                record = self.records.get(impl.plugin_name)
                if record is None:
                    continue
                self._call_one(impl, record, kind, spec_type or ModelConfig)

    def _call_one(self, impl: pluggy.HookImpl, record: PluginRecord, kind: str, spec_type: type) -> None:
        def register(item: Any) -> None:
            self._register(record, kind, spec_type, item)

        started = time.perf_counter()
        try:
            result = impl.function(register=register)
        except Exception as exc:
            self._fail(record, f"{kind}: hook raised {type(exc).__name__}: {exc}")
            return
        finally:
            if self.trace:
                ms = (time.perf_counter() - started) * 1000
                print(f"[hotcrm-ai] {record.name}.{impl.function.__name__} {ms:.2f} ms", file=sys.stderr)
        if result is not None:
            self._fail(
                record, f"{kind}: hook returned {type(result).__name__}; call register(...) instead of returning"
            )

    def _register(self, record: PluginRecord, kind: str, spec_type: type[Any], item: Any) -> None:
        if not isinstance(item, spec_type):
            self._fail(record, f"{kind}: expected {spec_type.__name__}, got {type(item).__name__}")
            return
        if kind == "models":
            owner = self._model_owner.get(item.key)
            if owner is not None:
                self._fail(record, f"models: {item.key} is already registered by plugin {owner}")
                return
            self._model_owner[item.key] = record.name
            self.models.append(item)
            record.registered.setdefault(kind, []).append(item.key)
            return
        spec: Descriptor[Any] = item
        table: dict[str, Any] = getattr(self, kind)
        existing = table.get(spec.name)
        if existing is not None and not spec.replace:
            owner = next((r.name for r in self.records.values() if spec.name in r.registered.get(kind, [])), "?")
            self._fail(
                record,
                f"{kind}: name {spec.name!r} is already registered by plugin {owner} "
                "(pass replace=True to take it over)",
            )
            return
        table[spec.name] = spec
        record.registered.setdefault(kind, []).append(spec.name)

    def _fail(self, record: PluginRecord, message: str) -> None:
        record.errors.append(message)
        text = f"plugin {record.name}" + (f" ({record.distribution})" if record.distribution else "") + f": {message}"
        if self.strict:
            raise PluginError(text + f" [strict mode: {STRICT_ENV}=1]")
        log.warning("%s; skipped", text)

    def add_commands(self, cli: Any) -> list[str]:
        """Call every plugin's ``register_commands(cli)`` in isolation; return the errors."""
        errors: list[str] = []
        for impl in self.pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(cli=cli)
            except Exception as exc:
                record = self.records.get(impl.plugin_name)
                message = f"commands: hook raised {type(exc).__name__}: {exc}"
                if record is not None:
                    self._fail(record, message)
                errors.append(f"{impl.plugin_name}: {message}")
        return errors

    # -- views -----------------------------------------------------------------------------

    def model_owner(self, model: ModelConfig) -> str:
        """The name of the plugin that registered ``model``."""
        return self._model_owner[model.key]

    @property
    def errors(self) -> list[str]:
        return [f"{r.name}: {e}" for r in self.records.values() for e in r.errors]

    def describe(self) -> list[PluginRecord]:
        return list(self.records.values())


def _closest(name: str, choices: frozenset[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.75)
    return found[0] if found else None


def _identity(obj: object) -> object:
    return obj
