"""The migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from paneglass.store import Store, schema
from paneglass.store.search import declared_in_models


def test_migrated_database_matches_the_declared_schema(any_db_url: str) -> None:
    store = Store(any_db_url)
    try:
        with store.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                schema.postgresql_options()
            opts = {"compare_type": False, "include_name": declared_in_models}  # not FTS/GIN
            context = MigrationContext.configure(conn, opts=opts)
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        store.close()
    assert differences == [], f"schema.py and the migrations disagree: {differences}"
