"""One state for every process: the registry, the prediction log and monitor events in a database
(SQLite by default, PostgreSQL for a fleet), schema managed by Alembic. See docs/store.md.

Nothing here is imported by ``import hotcrm_ai``; ``AICloud`` builds it when ``[store] url`` is not
``memory``.
"""
