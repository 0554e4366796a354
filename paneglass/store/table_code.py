"""Write :mod:`paneglass.store.tables` from the SQLModel classes of the schema.

Run ``python -m paneglass.store.table_code`` after changing :mod:`paneglass.store.schema`.

The schema is written once, as SQLModel classes (:mod:`paneglass.store.schema`),
and Alembic compares migrations with them. Importing those classes builds a
pydantic model and an ORM mapper per table, about a fifth of the console's
start, yet the store only ever runs Core SQL against the tables. So the tables
are also kept as plain Core code, generated here from the classes; a test
fails when the generated file is not what this module writes today.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TextClause,
    UniqueConstraint,
)
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlalchemy.types import TypeDecorator

from paneglass.store.column_types import DONE_CHANGES, STATUS_TIMES, UTCDateTime

__all__ = ["TABLES_FILE", "render"]

TABLES_FILE = Path(__file__).with_name("tables.py")

_TYPES: tuple[tuple[type, str], ...] = (
    (UTCDateTime, "UTCDateTime()"),
    (Boolean, "Boolean()"),
    (Float, "Float()"),
    (Integer, "Integer()"),
    (Text, "Text()"),
    (String, "String()"),
)
_WORDS = {DONE_CHANGES: "DONE_CHANGES", STATUS_TIMES: "STATUS_TIMES"}
"""SQL texts the generated code names rather than repeats."""

_HEADER = '''"""GENERATED from :mod:`paneglass.store.schema` by :mod:`paneglass.store.table_code`.

Do not edit: change the schema's classes and run the command again (a test
fails while the two differ). The same tables as plain SQLAlchemy Core, which
is all the store's queries need, without SQLModel's import cost.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from paneglass.store.column_types import DONE_CHANGES, STATUS_TIMES, UTCDateTime

__all__ = [
{names}
]

metadata = MetaData()
'''


def _type(column: Column[object]) -> str:
    kind = column.type
    if isinstance(kind, TypeDecorator) and not isinstance(kind, UTCDateTime):
        kind = kind.impl_instance  # SQLModel's AutoString: a String underneath
    for cls, code in _TYPES:
        if isinstance(kind, cls):
            return code
    raise TypeError(f"{column.table.name}.{column.name}: no Core spelling for {column.type!r}")


def _sql(clause: object) -> str:
    if not isinstance(clause, TextClause):
        raise TypeError(f"only text() conditions are supported, not {clause!r}")
    return f"text({_WORDS.get(clause.text, repr(clause.text))})"


def _column(column: Column[object]) -> str:
    parts = [repr(column.name), _type(column)]
    for key in sorted(column.foreign_keys, key=lambda k: k.target_fullname):
        parts.append(f"ForeignKey({key.target_fullname!r})")
    if column.primary_key:
        parts.append("primary_key=True")
    elif not column.nullable:
        parts.append("nullable=False")
    default = column.default
    if default is not None:
        if not isinstance(default, ScalarElementColumnDefault):
            raise TypeError(f"{column.table.name}.{column.name}: only scalar defaults")
        parts.append(f"default={default.arg!r}")
    return f"    Column({', '.join(parts)}),"


def _index(index: Index, handle: str) -> str:
    columns = ", ".join(f"{handle}.c.{c.name}" for c in index.columns)
    # SQLite's own: PostgreSQL's are set on the schema only when Alembic runs there.
    options = "".join(
        f", {key}={_sql(value)}"
        for key, value in sorted(index.dialect_kwargs.items())
        if key.startswith("sqlite_")
    )
    unique = ", unique=True" if index.unique else ""
    return f"Index({index.name!r}, {columns}{unique}{options})"


def _table(table: Table, handle: str) -> list[str]:
    lines = [f"{handle} = Table(", f"    {table.name!r},", "    metadata,"]
    lines += [_column(column) for column in table.columns]
    for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
        if isinstance(constraint, UniqueConstraint):
            names = ", ".join(repr(c.name) for c in constraint.columns)
            named = f", name={constraint.name!r}" if constraint.name else ""
            lines.append(f"    UniqueConstraint({names}{named}),")
        elif isinstance(constraint, ForeignKeyConstraint) and len(constraint.columns) > 1:
            raise TypeError(f"{table.name}: composite foreign keys are not supported")
    lines.append(")")
    lines += [_index(index, handle) for index in sorted(table.indexes, key=lambda i: str(i.name))]
    return lines


def render(metadata: MetaData, handles: dict[str, str]) -> str:
    """The source of :mod:`paneglass.store.tables`: ``handles`` maps table name to constant."""
    missing = set(metadata.tables) - set(handles)
    if missing:
        raise KeyError(f"tables without a handle in the schema: {sorted(missing)}")
    ordered = sorted(handles.values())
    out = [_HEADER.format(names="\n".join(f'    "{name}",' for name in ordered))]
    for table in metadata.sorted_tables:
        out.append("\n".join(_table(table, handles[table.name])))
    return "\n\n".join(out) + "\n"


def schema_source() -> str:
    """What :data:`TABLES_FILE` must hold for today's schema classes."""
    from sqlmodel import SQLModel

    from paneglass.store import schema

    handles = {
        value.name: name
        for name, value in vars(schema).items()
        if isinstance(value, Table) and name.isupper()
    }
    return render(SQLModel.metadata, handles)


def main() -> int:
    TABLES_FILE.write_text(schema_source(), "utf-8")
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(TABLES_FILE)], check=False)
    print(f"wrote {TABLES_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
