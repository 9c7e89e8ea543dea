"""The model registry: validated model versions, status changes, an append-only history, and optional
persistence to a JSON file written atomically (temp file + fsync + rename)."""

from __future__ import annotations

import builtins
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from hotcrm_ai.errors import FieldError, ModelNotFoundError, RegistryError, ValidationError
from hotcrm_ai.types import MODEL_STATUSES, ModelConfig

_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")

SCHEMA = "hotcrm-ai/registry"
SCHEMA_VERSION = 1


@attrs.frozen
class HistoryEntry:
    """One change: what happened to which model version, when, and who asked (a caller label)."""

    timestamp: float
    action: str  # registered | status | unregistered
    model_id: str
    version: str
    actor: str = "api"
    detail: dict[str, Any] = attrs.field(factory=dict)


def version_key(version: str) -> tuple[Any, ...]:
    """Order versions numerically where they are numbers ("1.10.0" > "1.9.0"), textually elsewhere."""
    parts = re.split(r"[.\-+]", version)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


class ModelRegistry:
    """Model versions keyed by id and version. Thread-safe; never process-global."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.RLock()
        self._models: dict[str, dict[str, ModelConfig]] = {}
        self._history: list[HistoryEntry] = []
        self._persistent: set[str] = set()  # keys of models that belong in the file
        self._current: dict[str, ModelConfig] = {}  # id -> default version, rebuilt on change (hot path)
        self._aliases: dict[str, dict[str, str]] = {}  # id -> alias -> version
        self.path = Path(path) if path else None
        if self.path is not None and self.path.exists():
            self._load(self.path)

    # -- changes ---------------------------------------------------------------------------

    def register(self, model: ModelConfig, *, actor: str = "api", persist: bool = True) -> ModelConfig:
        """Add a model version. Ids+versions are unique: registering one again is an error.

        ``persist=False`` is for models contributed at start-up (plugins, the config file): they are
        not registry changes, so they are neither written to the file nor logged in the history, and
        when the file already holds that version (its status was changed earlier) the new definition
        is adopted with the recorded status."""
        if not isinstance(model, ModelConfig):
            raise RegistryError(f"register: expected a ModelConfig, got {type(model).__name__}")
        with self._lock:
            self._current.pop(model.id, None)
            versions = self._models.setdefault(model.id, {})
            existing = versions.get(model.version)
            if existing is not None:
                if not persist and model.key in self._persistent:
                    adopted = attrs.evolve(model, status=existing.status)
                    versions[model.version] = adopted
                    return adopted
                raise RegistryError(f"model {model.id} version {model.version} is already registered")
            versions[model.version] = model
            if not persist:
                return model
            self._persistent.add(model.key)
            self._log("registered", model, actor)
            try:
                self._save()
            except BaseException:
                del versions[model.version]
                if not versions:
                    del self._models[model.id]
                self._persistent.discard(model.key)
                self._history.pop()
                raise
        return model

    @staticmethod
    def _check_status(status: str) -> None:
        if status not in MODEL_STATUSES:
            raise RegistryError(f"status: expected one of {', '.join(MODEL_STATUSES)}, got {status!r:.40}")

    def set_status(self, model_id: str, status: str, *, version: str | None = None, actor: str = "api") -> ModelConfig:
        self._check_status(status)
        if "@" in model_id:
            model_id, version = self.resolve(model_id)
        with self._lock:
            model = self._exact(model_id, version)
            self._current.pop(model_id, None)
            updated = attrs.evolve(model, status=status)
            self._models[model_id][model.version] = updated
            newly_persistent = updated.key not in self._persistent
            self._persistent.add(updated.key)  # a changed status must survive a restart
            self._log("status", updated, actor, {"from": model.status, "to": status})
            try:
                self._save()
            except BaseException:
                self._models[model_id][model.version] = model
                if newly_persistent:
                    self._persistent.discard(updated.key)
                self._history.pop()
                raise
        return updated

    def unregister(self, model_id: str, *, version: str | None = None, actor: str = "api") -> None:
        """Remove one version (or every version when none is given)."""
        with self._lock:
            if model_id not in self._models:
                raise ModelNotFoundError(model_id, version)
            self._current.pop(model_id, None)
            targets = [self._exact(model_id, version)] if version else list(self._models[model_id].values())
            for model in targets:
                del self._models[model_id][model.version]
                self._persistent.discard(model.key)
                self._log("unregistered", model, actor)
                aliases = self._aliases.get(model_id, {})
                for alias in [a for a, v in aliases.items() if v == model.version]:
                    del aliases[alias]  # an alias never points at a version that is gone
            if not self._models[model_id]:
                del self._models[model_id]
            self._save()

    # -- queries ---------------------------------------------------------------------------

    def get(self, model_id: str, version: str | None = None) -> ModelConfig:
        """A given version, else the newest active one, else the newest of any status.

        ``model_id`` may be a reference ``"<model-id>@<alias>"``: the version the alias points to."""
        if version is None:
            current = self._current.get(model_id)
            if current is not None:
                return current
            if "@" in model_id:
                model_id, version = self.resolve(model_id)
        with self._lock:
            versions = self._models.get(model_id)
            if not versions:
                raise ModelNotFoundError(model_id, version)
            if version is not None:
                return self._exact(model_id, version)
            ordered = sorted(versions.values(), key=lambda m: version_key(m.version), reverse=True)
            chosen = next((m for m in ordered if m.status == "active"), ordered[0])
            self._current[model_id] = chosen
            return chosen

    def resolve(self, reference: str) -> tuple[str, str | None]:
        """``"id@alias"`` -> (id, the alias's version); a plain id -> (id, None). The one place a
        model reference is read, so predict, batch, explain and the CLI all accept aliases."""
        model_id, sep, alias = reference.partition("@")
        if not sep:
            return reference, None
        version = self._aliases.get(model_id, {}).get(alias)
        if version is None:
            raise ModelNotFoundError(reference)
        return model_id, version

    def aliases(self, model_id: str | None = None) -> dict[str, dict[str, str]]:
        """``{model_id: {alias: version}}`` (one model's, or all)."""
        with self._lock:
            if model_id is not None:
                return {model_id: dict(self._aliases.get(model_id, {}))} if model_id in self._aliases else {}
            return {m: dict(a) for m, a in self._aliases.items() if a}

    def set_alias(self, model_id: str, alias: str, version: str, *, actor: str = "api") -> None:
        """Point ``alias`` (e.g. champion, challenger) at one version of ``model_id``."""
        self._check_alias(alias)
        with self._lock:
            model = self._exact(model_id, version)
            before = self._aliases.get(model_id, {}).get(alias)
            self._aliases.setdefault(model_id, {})[alias] = version
            self._log("alias", model, actor, {"alias": alias, "before": before, "after": version})

    def delete_alias(self, model_id: str, alias: str, *, actor: str = "api") -> None:
        with self._lock:
            version = self._aliases.get(model_id, {}).get(alias)
            if version is None:
                raise ModelNotFoundError(f"{model_id}@{alias}")
            del self._aliases[model_id][alias]
            detail = {"alias": alias, "before": version, "after": None}
            self._history.append(HistoryEntry(time.time(), "alias", model_id, version, actor, detail))

    @staticmethod
    def _check_alias(alias: Any) -> None:
        if not isinstance(alias, str) or not _ALIAS.match(alias):
            raise ValidationError(
                [FieldError("alias", "a letter, then up to 99 letters, digits, '-' or '_'", repr(alias)[:60])],
                subject="alias",
            )

    def find(self, model_id: str, version: str | None = None) -> ModelConfig | None:
        try:
            return self.get(model_id, version)
        except ModelNotFoundError:
            return None

    def __contains__(self, model_id: object) -> bool:
        if isinstance(model_id, str) and "@" in model_id:
            try:
                self.resolve(model_id)
            except ModelNotFoundError:
                return False
            return True
        return model_id in self._models

    def __len__(self) -> int:
        return sum(len(v) for v in self._models.values())

    def list(
        self,
        *,
        type: str | None = None,
        status: str | None = None,
        provider: str | None = None,
        tag: str | None = None,
        all_versions: bool = False,
    ) -> list[ModelConfig]:
        """Models in registration order (newest version of each id unless ``all_versions``)."""
        with self._lock:
            if all_versions:
                models: Iterable[ModelConfig] = [m for v in self._models.values() for m in v.values()]
            else:
                models = [self.get(model_id) for model_id in self._models]
            return [
                m
                for m in models
                if (type is None or m.type == type)
                and (status is None or m.status == status)
                and (provider is None or m.provider == provider)
                and (tag is None or tag in m.tags)
            ]

    def versions(self, model_id: str) -> builtins.list[ModelConfig]:
        with self._lock:
            if model_id not in self._models:
                raise ModelNotFoundError(model_id)
            return sorted(self._models[model_id].values(), key=lambda m: version_key(m.version))

    def history(self, model_id: str | None = None) -> builtins.list[HistoryEntry]:
        with self._lock:
            return [h for h in self._history if model_id is None or h.model_id == model_id]

    # -- internals -------------------------------------------------------------------------

    def _exact(self, model_id: str, version: str | None) -> ModelConfig:
        if version is None:
            return self.get(model_id)
        model = self._models.get(model_id, {}).get(version)
        if model is None:
            raise ModelNotFoundError(model_id, version)
        return model

    def _log(self, action: str, model: ModelConfig, actor: str, detail: dict[str, Any] | None = None) -> None:
        self._history.append(HistoryEntry(time.time(), action, model.id, model.version, actor, detail or {}))

    def _document(self) -> dict[str, Any]:
        from hotcrm_ai.converter import unstructure

        models = [m for v in self._models.values() for m in v.values() if m.key in self._persistent]
        for m in models:
            literal = _literal_secrets(m)
            if literal:
                raise RegistryError(
                    f"model {m.key}: {', '.join(literal)} hold literal secrets; only "
                    '{env = "NAME"} references can be written to the registry file'
                )
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "models": unstructure(models),
            "history": unstructure(self._history),
        }

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            text = json.dumps(self._document(), indent=2, ensure_ascii=False, sort_keys=False)
        except (TypeError, ValueError) as exc:
            raise RegistryError(f"registry could not be saved to {self.path}: {exc}") from None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _load(self, path: Path) -> None:
        from hotcrm_ai.converter import structure

        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RegistryError(f"{path}: not a readable registry file ({exc}); left untouched") from None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise RegistryError(f"{path}: not a hotcrm-ai registry file (no schema {SCHEMA!r}); left untouched")
        if doc.get("schema_version") != SCHEMA_VERSION:
            raise RegistryError(
                f"{path}: registry schema version {doc.get('schema_version')!r} is not supported "
                f"(expected {SCHEMA_VERSION}); left untouched"
            )
        try:
            models = structure(doc.get("models", []), list[ModelConfig], subject=f"{path} models")
            history = structure(doc.get("history", []), list[HistoryEntry], subject=f"{path} history")
        except ValidationError as exc:
            raise RegistryError(f"{path}: {exc}; left untouched") from None
        for m in models:
            self._models.setdefault(m.id, {})[m.version] = m
            self._persistent.add(m.key)
        self._history = history


_SECRET_WORDS = ("key", "token", "password", "secret", "sig", "code")


def _literal_secrets(model: ModelConfig) -> list[str]:
    """Where ``model`` holds a secret as plain text: literal credentials, an endpoint with user info or
    a credential-bearing query, or a secret-sounding string in ``parameters`` or the provider config."""
    from hotcrm_ai.secrets import Secret, mask_url

    found: list[str] = []
    pc = model.provider_config
    if pc is not None:
        found += [f"provider_config.credentials.{k}" for k, v in pc.credentials.items() if v.env is None]
    for where, endpoint in (("endpoint", model.endpoint), ("provider_config.endpoint", pc.endpoint if pc else None)):
        if isinstance(endpoint, Secret):  # a reference is fine; a value set in code is not
            if endpoint.env is None:
                found.append(where)
        elif endpoint and mask_url(endpoint) != endpoint:
            found.append(where)
    tables = (("parameters", model.parameters), ("provider_config.config", pc.config if pc else {}))
    for where, table in tables:
        found += [
            f"{where}.{k}"
            for k, v in table.items()
            if isinstance(v, str) and v and any(w in k.lower() for w in _SECRET_WORDS)
        ]
    return found
