"""Alembic environment: runs on the connection the store hands over."""

from alembic import context
from sqlmodel import SQLModel

import paneglass.store.schema  # registers the tables on SQLModel.metadata
from paneglass.store.search import declared_in_models

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic revision --autogenerate` from a developer shell
    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///migrations-dev.db"
    connection = create_engine(url).connect()
if connection.dialect.name == "postgresql":
    paneglass.store.schema.postgresql_options()

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
    compare_type=True,
    include_name=declared_in_models,  # full-text indexes live outside the models
)
with context.begin_transaction():
    context.run_migrations()
