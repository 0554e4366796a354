"""The run-time Core tables are the schema's classes, and the console starts without SQLModel."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import MetaData, Table
from sqlmodel import SQLModel

from paneglass.store import schema, tables
from paneglass.store.table_code import TABLES_FILE, schema_source

ROOT = Path(__file__).resolve().parents[2]


def describe(table: Table) -> dict[str, object]:
    """What the store relies on, in comparable form."""

    def kind(column: object) -> str:
        found = column.type  # type: ignore[attr-defined]
        impl = getattr(found, "impl_instance", found)
        return (
            type(found).__name__ if type(found).__name__ == "UTCDateTime" else type(impl).__name__
        )

    return {
        "columns": [
            (
                c.name,
                kind(c),
                c.primary_key,
                c.nullable,
                getattr(c.default, "arg", None),
                sorted(k.target_fullname for k in c.foreign_keys),
            )
            for c in table.columns
        ],
        "indexes": sorted(
            (
                str(i.name),
                tuple(c.name for c in i.columns),
                i.unique,
                {k: str(v) for k, v in i.dialect_kwargs.items() if k.startswith("sqlite_")},
            )
            for i in table.indexes
        ),
        "unique": sorted(
            tuple(c.name for c in u.columns)
            for u in table.constraints
            if type(u).__name__ == "UniqueConstraint"
        ),
    }


def test_the_generated_file_is_what_the_schema_writes_today() -> None:
    written = ast.dump(ast.parse(TABLES_FILE.read_text("utf-8")))
    assert written == ast.dump(ast.parse(schema_source())), (
        "paneglass/store/tables.py is stale: run python -m paneglass.store.table_code"
    )


def test_every_table_matches_its_model_column_for_column() -> None:
    models: MetaData = SQLModel.metadata
    assert set(tables.metadata.tables) == set(models.tables)
    for name, model in models.tables.items():
        assert describe(tables.metadata.tables[name]) == describe(model), name
    assert tables.TICKETS is not schema.TICKETS  # two metadata objects, one shape


def test_a_changed_model_makes_the_comparison_fail() -> None:
    """The check above can fail: a column the runtime lacks shows as a difference."""
    ticket = schema.TICKETS
    runtime = describe(tables.TICKETS)
    columns = runtime["columns"]
    assert isinstance(columns, list)
    runtime["columns"] = columns[:-1]
    assert runtime != describe(ticket)


def test_the_console_opens_a_current_store_without_sqlmodel_or_the_orm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    db = f"sqlite:///{tmp_path / 'current.db'}"
    create = f"from paneglass.store import Store; Store({db!r}).close()"
    subprocess.run([sys.executable, "-c", create], env=env, cwd=ROOT, check=True)
    probe = (
        "import sys, paneglass.ui.app, paneglass.cli.console\n"
        "from paneglass.store import Store, TicketQuery\n"
        f"store = Store({db!r}); store.ticket_count(TicketQuery()); store.close()\n"
        "print(sorted(m for m in ('sqlmodel', 'sqlalchemy.orm', 'alembic') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]", out
