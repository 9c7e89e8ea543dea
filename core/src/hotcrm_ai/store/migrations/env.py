"""Alembic environment: always called with an open connection (see ``hotcrm_ai.store.schema``)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
