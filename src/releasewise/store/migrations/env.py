"""Alembic environment: run migrations on the connection ``migrate.py`` passes in."""

from __future__ import annotations

from alembic import context

from releasewise.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through `alembic` run by hand
    raise RuntimeError("Run migrations with `releasewise db upgrade`, which supplies the connection.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
