"""The prediction log: per answer, the model version, config digest and variant that served it."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prediction_log",
        sa.Column("prediction_id", sa.String(64), primary_key=True),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column("config_digest", sa.String(64)),
        sa.Column("features", sa.JSON),
    )
    op.create_index("ix_prediction_log_time", "prediction_log", ["timestamp"])
