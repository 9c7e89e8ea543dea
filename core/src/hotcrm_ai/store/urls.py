"""Turning ``[store] url`` into a SQLAlchemy URL: the default file, env references, redaction."""

from __future__ import annotations

from typing import Any

from hotcrm_ai.errors import ConfigError
from hotcrm_ai.paths import data_dir
from hotcrm_ai.secrets import Secret, as_secret

MEMORY = "memory"
DEFAULT = "default"
FILE_NAME = "store.sqlite"


def default_url() -> str:
    return f"sqlite:///{data_dir() / FILE_NAME}"


def resolve(url: Any) -> str:
    """The real URL to connect with (revealing an env reference). ``memory`` is not a SQL URL."""
    text = as_secret(url, field="[store] url").reveal() if isinstance(url, (Secret, dict)) else url
    if not isinstance(text, str) or not text:
        raise ConfigError(f"[store] url: expected a SQLAlchemy URL, 'default' or 'memory', got {text!r:.40}")
    if text == DEFAULT:
        return default_url()
    if text.startswith("postgresql://") or text.startswith("postgres://"):
        # psycopg 3 is the driver the [postgres] extra installs
        text = "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def is_memory(url: Any) -> bool:
    text = url.reveal() if isinstance(url, Secret) else url
    return text == MEMORY


def redacted(url: str) -> str:
    """The URL with its password hidden, for ``store info``, logs and errors."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable store url>"
