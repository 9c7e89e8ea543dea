"""The per-deployment secret that keys cache-key hashes (HMAC), so a listed key reveals nothing.

Where it comes from, first match wins:

1. ``[cache] key_secret`` (a literal or ``{ env = "NAME" }``): what a fleet sets, the same everywhere;
2. the in-memory backend: a random secret per process (its entries never leave the process);
3. otherwise a secret generated once and kept in the user's data directory (``cache-key.secret``,
   mode 0600), so a single user's processes share one Redis with no setup.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from hotcrm_ai.errors import ConfigError

if TYPE_CHECKING:
    from hotcrm_ai.config import CacheSettings

FILE_NAME = "cache-key.secret"
MIN_LENGTH = 16  # characters of a configured secret: shorter ones are guessable


def key_secret(settings: CacheSettings) -> bytes:
    """The HMAC key for this deployment's cache keys (see the module docstring)."""
    if settings.key_secret is not None:
        value = settings.key_secret.reveal()
        if len(value) < MIN_LENGTH:
            raise ConfigError(
                f"[cache] key_secret: expected at least {MIN_LENGTH} characters (a random string "
                "shared by every process of the deployment)"
            )
        return value.encode("utf-8")
    if settings.backend == "memory":
        return secrets.token_bytes(32)
    return _stored_secret()


def _stored_secret() -> bytes:
    from hotcrm_ai.paths import data_dir

    path = data_dir() / FILE_NAME
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except ValueError:
        raise ConfigError(f"{path}: not a cache key secret (hex); delete it to have a new one made") from None
    return _create(path)


def _create(path: Path) -> bytes:
    """Write a new secret without ever exposing a partial file; a concurrent creator's file wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value.hex())
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)  # fails if another process made one first: then use theirs
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    tmp.unlink(missing_ok=True)
    return value
