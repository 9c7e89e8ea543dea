"""First schema: registry (models, revisions, aliases, history), monitor events, outcomes, drops."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("model_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(100), primary_key=True),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "model_revisions",
        sa.Column("model_id", sa.String(200), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    op.create_table(
        "aliases",
        sa.Column("model_id", sa.String(200), primary_key=True),
        sa.Column("alias", sa.String(100), primary_key=True),
        sa.Column("version", sa.String(100), nullable=False),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
    )
    op.create_index("ix_history_model", "history", ["model_id", "id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("prediction_id", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("requested_model_id", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("variant", sa.String(100)),
        sa.Column("provider", sa.String(100)),
        sa.Column("tenant", sa.String(200)),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("cached", sa.Boolean, nullable=False),
        sa.Column("degraded", sa.Boolean, nullable=False),
        sa.Column("degraded_reason", sa.Text),
        sa.Column("error_type", sa.String(100)),
        sa.Column("error", sa.Text),
        sa.Column("usage", sa.JSON),
        sa.Column("prediction", sa.JSON),
    )
    op.create_index("ix_events_model_time", "events", ["model_id", "timestamp"])
    op.create_index("ix_events_prediction", "events", ["prediction_id"])
    op.create_index("ix_events_time", "events", ["timestamp"])
    op.create_table(
        "outcomes",
        sa.Column("prediction_id", sa.String(64), primary_key=True),
        sa.Column("recorded_at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("actual", sa.JSON),
        sa.Column("correct", sa.Boolean),
        sa.Column("abs_error", sa.Float),
    )
    op.create_table(
        "drops",
        sa.Column("process_id", sa.String(64), primary_key=True),
        sa.Column("model_id", sa.String(200), primary_key=True),
        sa.Column("dropped", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
