"""The store's tables at the newest schema (SQLAlchemy Core). Migrations in ``migrations/versions``
build the same shape step by step; ``tests/core/test_store_migrations.py`` checks they agree.

Times are epoch seconds (float), JSON columns hold the converter's plain data, booleans are real
booleans, so the same statements run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

models = Table(
    "models",
    metadata,
    Column("model_id", String(200), primary_key=True),
    Column("version", String(100), primary_key=True),
    Column("definition", JSON, nullable=False),  # the ModelConfig as the plugin or config file gave it
    Column("status", String(20), nullable=False),  # registry changes win over the definition's status
    Column("source", String(200), nullable=False),  # plugin:<name> | config | api
    Column("updated_at", Float, nullable=False),
)

# one row per model id: the optimistic-concurrency counter every registry write for that id bumps
model_revisions = Table(
    "model_revisions",
    metadata,
    Column("model_id", String(200), primary_key=True),
    Column("revision", Integer, nullable=False),
)

aliases = Table(
    "aliases",
    metadata,
    Column("model_id", String(200), primary_key=True),
    Column("alias", String(100), primary_key=True),
    Column("version", String(100), nullable=False),
)

history = Table(
    "history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("timestamp", Float, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("model_id", String(200), nullable=False),
    Column("version", String(100), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_history_model", "model_id", "id"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("prediction_id", String(64), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("model_id", String(200), nullable=False),
    Column("requested_model_id", String(200), nullable=False),
    Column("model_version", String(100), nullable=False),
    Column("variant", String(100)),
    Column("provider", String(100)),
    Column("tenant", String(200)),
    Column("success", Boolean, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("cached", Boolean, nullable=False),
    Column("degraded", Boolean, nullable=False),
    Column("degraded_reason", Text),
    Column("error_type", String(100)),
    Column("error", Text),
    Column("usage", JSON),
    Column("prediction", JSON),
    Index("ix_events_model_time", "model_id", "timestamp"),
    Index("ix_events_prediction", "prediction_id"),
    Index("ix_events_time", "timestamp"),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("prediction_id", String(64), primary_key=True),
    Column("recorded_at", Float, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("actual", JSON),
    Column("correct", Boolean),
    Column("abs_error", Float),
)

# events each process's writer dropped (bounded queue full), per model: summed by stats and health
drops = Table(
    "drops",
    metadata,
    Column("process_id", String(64), primary_key=True),
    Column("model_id", String(200), primary_key=True),
    Column("dropped", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# schema 2: the prediction log ("which model version, config and variant served this answer?"): the
# sampled predictions, with the digest of the config that served them (and the input, when asked);
# everything else about the answer is its row in ``events``, so a logged prediction costs one small row
prediction_log = Table(
    "prediction_log",
    metadata,
    Column("prediction_id", String(64), primary_key=True),
    Column("timestamp", Float, nullable=False),
    Column("config_digest", String(64)),
    Column("features", JSON),
    Index("ix_prediction_log_time", "timestamp"),
)

ROW_COUNTED = ("models", "aliases", "history", "events", "outcomes", "prediction_log")
