"""The registry kept in the store: every process sees one set of statuses, aliases and history.

Models from plugins and config are upserted at start (their definition comes from the plugin);
status changes, aliases and models registered through the API live in the store and win. Each write
goes to the store first, in one transaction with its history row and an optimistic revision check,
and only then into this process's in-memory view; changes by other processes are picked up by
``refresh()`` (the writer thread calls it every ``[store] refresh_s``).
"""

from __future__ import annotations

import getpass
import time
from typing import TYPE_CHECKING, Any

import attrs

from hotcrm_ai.errors import ModelNotFoundError, RegistryError, StoreUnavailableError
from hotcrm_ai.registry import HistoryEntry, ModelRegistry
from hotcrm_ai.store import tables as t
from hotcrm_ai.store.digest import definition

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from hotcrm_ai.store.link import StoreLink
    from hotcrm_ai.store.records import RegistrySnapshot
    from hotcrm_ai.types import ModelConfig


def default_actor() -> str:
    """Who made a change when the caller does not say: the OS user."""
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


class StoreRegistry(ModelRegistry):
    def __init__(self, link: StoreLink, path: str | None = None) -> None:
        super().__init__(path)
        self.link = link
        self._sources: dict[tuple[str, str], str] = {}  # (id, version) -> plugin:<name> | config
        self._revisions: dict[str, int] = {}
        self._token = -1
        self._stored_status: dict[tuple[str, str], str] = {}
        link.on_connect(self._publish)

    # -- start-up -----------------------------------------------------------------------------

    def register(self, model: ModelConfig, *, actor: str | None = None, persist: bool = True) -> ModelConfig:
        who = actor or default_actor()
        if not persist:  # a plugin's or the config file's model: adopt the stored status
            self._sources[(model.id, model.version)] = who
            stored = self._stored_status.get((model.id, model.version))
            if stored is not None and stored != model.status:
                model = attrs.evolve(model, status=stored)
            return super().register(model, actor=who, persist=False)
        if self.find(model.id, model.version) is not None:
            raise RegistryError(f"model {model.id} version {model.version} is already registered")
        row = {
            "model_id": model.id,
            "version": model.version,
            "definition": definition(model),
            "status": model.status,
            "source": "api",
            "updated_at": time.time(),
        }

        def apply(conn: Connection) -> None:
            conn.execute(t.models.insert().values(**row))

        self._write(model.id, who, "registered", model.version, None, {"status": model.status}, apply)
        return super().register(model, actor=who, persist=self.path is not None)

    def _publish(self) -> None:
        """On (re)connect: upsert plugin and config models, then load what the store says."""
        rows = []
        with self._lock:
            for (model_id, version), source in self._sources.items():
                model = self._models.get(model_id, {}).get(version)
                if model is not None:
                    rows.append(
                        {
                            "model_id": model_id,
                            "version": version,
                            "definition": definition(model),
                            "status": model.status,
                            "source": source,
                        }
                    )
        self.link.store.upsert_models(rows)
        self._apply(self.link.store.load_registry())

    def refresh(self) -> None:
        """Pick up changes other processes made (cheap when there are none)."""
        if not self.link.ready:
            return
        try:
            token = self.link.store.registry_token()
            if token != self._token:
                self._apply(self.link.store.load_registry())
        except StoreUnavailableError:
            self.link.lost()

    def _apply(self, snap: RegistrySnapshot) -> None:
        from hotcrm_ai.converter import structure
        from hotcrm_ai.types import ModelConfig

        with self._lock:
            self._stored_status = {(r["model_id"], r["version"]): r["status"] for r in snap.models}
            for row in snap.models:
                versions = self._models.setdefault(row["model_id"], {})
                current = versions.get(row["version"])
                if current is None:  # registered through the API, maybe by another process
                    try:
                        current = structure(row["definition"], ModelConfig, subject=f"store model {row['model_id']}")
                    except Exception:
                        continue
                if current.status != row["status"]:
                    current = attrs.evolve(current, status=row["status"])
                versions[row["version"]] = current
            for model_id in [m for m, v in self._models.items() if not v]:
                del self._models[model_id]
            self._aliases = {m: dict(a) for m, a in snap.aliases.items()}
            self._revisions = dict(snap.revisions)
            self._token = snap.token
            self._current.clear()

    # -- writes: store first, then this process's view ------------------------------------------

    def _write(self, model_id: str, actor: str, action: str, version: str, before: Any, after: Any, apply: Any) -> None:
        try:
            self.link.ensure()
            revision = self.link.store.change(
                model_id,
                self._revisions.get(model_id, 0),
                actor=actor,
                action=action,
                version=version,
                before=before,
                after=after,
                apply=apply,
            )
        except StoreUnavailableError:
            self.link.lost()
            raise
        self._revisions[model_id] = revision

    def set_status(
        self, model_id: str, status: str, *, version: str | None = None, actor: str | None = None
    ) -> ModelConfig:
        from sqlalchemy import update

        who = actor or default_actor()
        if "@" in model_id:
            model_id, version = self.resolve(model_id)
        model = self._exact(model_id, version)
        super()._check_status(status)
        row = {
            "model_id": model.id,
            "version": model.version,
            "definition": definition(model),
            "status": status,
            "source": self._sources.get((model.id, model.version), "api"),
        }

        def apply(conn: Connection) -> None:
            c = t.models.c
            hit = conn.execute(
                update(t.models)
                .where(c.model_id == model.id, c.version == model.version)
                .values(status=status, updated_at=time.time())
            )
            if hit.rowcount == 0:
                conn.execute(t.models.insert().values(**row, updated_at=time.time()))

        self._write(model.id, who, "status", model.version, {"status": model.status}, {"status": status}, apply)
        return super().set_status(model.id, status, version=model.version, actor=who)

    def set_alias(self, model_id: str, alias: str, version: str, *, actor: str | None = None) -> None:
        from sqlalchemy import delete

        who = actor or default_actor()
        self._check_alias(alias)
        self._exact(model_id, version)
        before = self._aliases.get(model_id, {}).get(alias)

        def apply(conn: Connection) -> None:
            c = t.aliases.c
            conn.execute(delete(t.aliases).where(c.model_id == model_id, c.alias == alias))
            conn.execute(t.aliases.insert().values(model_id=model_id, alias=alias, version=version))

        self._write(model_id, who, "alias", version, _alias(alias, before), _alias(alias, version), apply)
        super().set_alias(model_id, alias, version, actor=who)

    def delete_alias(self, model_id: str, alias: str, *, actor: str | None = None) -> None:
        from sqlalchemy import delete

        who = actor or default_actor()
        version = self._aliases.get(model_id, {}).get(alias)
        if version is None:
            raise ModelNotFoundError(f"{model_id}@{alias}")

        def apply(conn: Connection) -> None:
            c = t.aliases.c
            conn.execute(delete(t.aliases).where(c.model_id == model_id, c.alias == alias))

        self._write(model_id, who, "alias", version, _alias(alias, version), _alias(alias, None), apply)
        super().delete_alias(model_id, alias, actor=who)

    def unregister(self, model_id: str, *, version: str | None = None, actor: str | None = None) -> None:
        from sqlalchemy import delete

        who = actor or default_actor()
        targets = [self._exact(model_id, version)] if version else self.versions(model_id)
        for model in targets:

            def apply(conn: Connection, m: ModelConfig = model) -> None:
                conn.execute(delete(t.models).where(t.models.c.model_id == m.id, t.models.c.version == m.version))
                conn.execute(delete(t.aliases).where(t.aliases.c.model_id == m.id, t.aliases.c.version == m.version))

            self._write(model.id, who, "unregistered", model.version, {"status": model.status}, None, apply)
            self._sources.pop((model.id, model.version), None)
            with self._lock:
                self._aliases[model.id] = {
                    a: v for a, v in self._aliases.get(model.id, {}).items() if v != model.version
                }
            super().unregister(model.id, version=model.version, actor=who)

    # -- history ------------------------------------------------------------------------------

    def history(self, model_id: str | None = None) -> list[HistoryEntry]:
        """The store's append-only history (every process's changes) when connected."""
        try:
            self.link.ensure()
            rows = self.link.store.history(model_id)
        except StoreUnavailableError:
            return super().history(model_id)
        return [
            HistoryEntry(
                r["timestamp"],
                r["action"],
                r["model_id"],
                r["version"],
                r["actor"],
                {"before": r["before"], "after": r["after"]},
            )
            for r in rows
        ]


def _alias(alias: str, version: str | None) -> dict[str, Any]:
    return {"alias": alias, "version": version}
