"""Alembic environment: runs on the connection handed over by tolmach.store.db.migrate."""

from alembic import context

from tolmach.store import desk  # noqa: F401  (its tables join Base.metadata)
from tolmach.store.tables import Base

connection = context.config.attributes.get("connection")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
