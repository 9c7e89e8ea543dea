"""The ``hotcrm_ai`` entry points, scanned once per set of installed distributions.

``importlib.metadata.entry_points(group=...)`` opens every installed distribution's metadata: with 150
or more distributions (pandas, pyarrow, dask, grpc...) that is most of ``hotcrm-ai --help``. The
answer only changes when a distribution is installed, removed or reinstalled, so it is cached in a
small JSON file keyed on a fingerprint of the installed distributions: the ``sys.path`` entries and,
in each, the names and modification times of its ``*.dist-info`` / ``*.egg-info`` entries (one
directory listing per path entry, no file read). Any change gives a new fingerprint and a fresh scan.
The cache is an optimisation only: an unreadable or unwritable cache file means a plain scan.

``HOTCRM_AI_ENTRYPOINT_CACHE=0`` turns it off; the file lives in ``$HOTCRM_AI_HOME``, else
``$XDG_CACHE_HOME/hotcrm-ai`` (``~/.cache`` by default).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import attrs

CACHE_ENV = "HOTCRM_AI_ENTRYPOINT_CACHE"
FORMAT = 1


@attrs.frozen
class Found:
    """One entry point and the distribution that declares it."""

    name: str
    value: str
    group: str
    distribution: str | None
    version: str | None

    def load(self) -> Any:
        """The object ``value`` names (``module`` or ``module:attr.attr``), as ``EntryPoint.load``
        gives it, without importing ``importlib.metadata``."""
        module_name, _, attr = self.value.partition(":")
        obj = importlib.import_module(module_name.strip())
        for part in attr.split("[")[0].strip().split(".") if attr.strip() else ():
            obj = getattr(obj, part)
        return obj


def _cache_dir() -> Path:
    home = os.environ.get("HOTCRM_AI_HOME")
    if home:
        return Path(home)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hotcrm-ai"


def fingerprint(paths: list[str] | None = None) -> str:
    """A digest of what is installed on ``paths`` (default ``sys.path``): metadata entries and mtimes."""
    h = hashlib.sha256()
    for entry in sys.path if paths is None else paths:
        h.update(b"\0P" + os.fsencode(entry))
        try:
            with os.scandir(entry or ".") as it:
                found = sorted(
                    (e.name, e.stat(follow_symlinks=False).st_mtime_ns)
                    for e in it
                    if e.name.endswith((".dist-info", ".egg-info", ".egg-link", ".pth"))
                )
        except OSError:  # a zip file, a missing folder: its name is all we can key on
            continue
        for name, mtime in found:
            h.update(f"\0{name}\0{mtime}".encode())
    return h.hexdigest()[:32]


def _scan(group: str) -> list[Found]:
    from importlib import metadata  # tens of ms to import (email, zipfile...): only on a cache miss

    return [
        Found(ep.name, ep.value, ep.group, ep.dist.name if ep.dist else None, ep.dist.version if ep.dist else None)
        for ep in metadata.entry_points(group=group)
    ]


def entry_points(group: str, *, env: os._Environ[str] | dict[str, str] | None = None) -> list[Found]:
    """The entry points of ``group``, from the cache when the installed distributions are unchanged."""
    env = os.environ if env is None else env
    if env.get(CACHE_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return _scan(group)
    key = fingerprint()
    path = _cache_dir() / f"entry-points-{group}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") == FORMAT and doc.get("fingerprint") == key:
            return [Found(**item) for item in doc["entry_points"]]
    except (OSError, ValueError, TypeError, KeyError):
        pass
    found = _scan(group)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        doc = {"format": FORMAT, "fingerprint": key, "entry_points": [attrs.asdict(f) for f in found]}
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return found
