"""The built-in ``sql`` store (SQLite by default, PostgreSQL with the ``postgres`` extra)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from hotcrm_ai.descriptors import StoreSpec
from hotcrm_ai.hookspecs import hookimpl
from hotcrm_ai.interfaces import Store
from hotcrm_ai.secrets import Secret


@attrs.frozen
class SQLStoreOptions:
    """The ``sql`` store's keys of ``[store]``: ``url``, a SQLAlchemy URL, ``"default"`` (the SQLite
    file in the data directory) or ``{ env = "NAME" }``; a ``Secret``, so it is read when the store
    connects and never printed whole."""

    url: Secret


def _sql(options: Mapping[str, Any]) -> Store:
    from hotcrm_ai.options import parse_options
    from hotcrm_ai.store.sql import SQLStore

    return SQLStore(parse_options(SQLStoreOptions, options, section="store"))


@hookimpl
def register_stores(register: Callable[[StoreSpec], None]) -> None:
    register(StoreSpec("sql", _sql, "SQLAlchemy: SQLite file (WAL) or PostgreSQL (psycopg 3)", options=SQLStoreOptions))
