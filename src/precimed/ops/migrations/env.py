"""Alembic environment: the caller hands over an open connection (precimed.ops.migrate)."""

from alembic import context

from precimed.ops.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
