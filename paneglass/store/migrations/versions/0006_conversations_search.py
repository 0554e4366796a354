"""conversations, attachments, mirroring ledger, ticket descriptions, full-text search (#14)

SQLite: one FTS5 index, ``ticket_search``, with one document per ticket: its
key, title, description, requester, assignee and whole conversation (the view
``ticket_document``), over external content (no second copy of the text), so
a search's rowids are ticket ids and a count needs no table at all. Triggers
keep it when a ticket is written; the store's apply path keeps it when a
conversation changes, both in the writing transaction.
PostgreSQL: GIN indexes over ``to_tsvector('simple', …)`` expressions, which
the server keeps in the writing transaction itself. Both tokenize the same
way: runs of letters and digits, everything else a separator (see
``paneglass/store/search.py``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TICKET_COLUMNS = ("key", "title", "description", "requester", "assignee")
_TOKENIZE = "unicode61 remove_diacritics 2"


def _pg_words(expression: str) -> str:
    """The expression PostgreSQL indexes: runs of letters and digits, as SQLite's unicode61 cuts."""
    words = f"regexp_replace({expression}, '[^[:alnum:]]+', ' ', 'g')"
    return f"to_tsvector('simple'::regconfig, {words})"


PG_TICKET_WORDS = _pg_words(
    " || ' ' || ".join(f"coalesce({column}, '')" for column in _TICKET_COLUMNS)
)
PG_ENTRY_WORDS = _pg_words("body")


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))

    op.create_table(
        "ticketentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("ticket_external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("visibility", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("raw_format", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("raw_body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "vendor_id", "ticket_external_id", "external_id", name="uq_entry_vendor_ticket_external"
        ),
    )
    with op.batch_alter_table("ticketentry", schema=None) as batch_op:
        batch_op.create_index("ix_entry_ticket_created", ["ticket_id", "created_at"], unique=False)

    op.create_table(
        "entryattachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("ticket_external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entry_external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "vendor_id", "ticket_external_id", "external_id", name="uq_attachment_vendor_external"
        ),
    )

    op.create_table(
        "entrymirror",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["ticketentry.id"]),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    with op.batch_alter_table("entrymirror", schema=None) as batch_op:
        batch_op.create_index("ix_mirror_state", ["state"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_ticket_search ON ticket USING gin ({PG_TICKET_WORDS})")
        op.execute(f"CREATE INDEX ix_entry_search ON ticketentry USING gin ({PG_ENTRY_WORDS})")
        return
    _sqlite_search()


_CONVERSATION = (
    "(SELECT group_concat(body, char(10)) FROM ticketentry WHERE ticketentry.ticket_id = {0}.id)"
)
"""A ticket's whole conversation as the index reads it: the same text for insert and delete."""


def _sqlite_search() -> None:
    """The FTS5 index of ticket documents, its view, and the triggers on ``ticket``."""
    listed = ", ".join((*_TICKET_COLUMNS, "conversation"))
    fields = ", ".join(_TICKET_COLUMNS)
    op.execute(
        f"CREATE VIEW ticket_document AS SELECT id, {fields}, "
        f"{_CONVERSATION.format('ticket')} AS conversation FROM ticket"
    )
    op.execute(
        f"CREATE VIRTUAL TABLE ticket_search USING fts5({listed}, content='ticket_document', "
        f"content_rowid='id', tokenize='{_TOKENIZE}', prefix='2 3')"
    )
    new = ", ".join(f"new.{c}" for c in _TICKET_COLUMNS) + ", " + _CONVERSATION.format("new")
    old = ", ".join(f"old.{c}" for c in _TICKET_COLUMNS) + ", " + _CONVERSATION.format("old")
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _TICKET_COLUMNS)
    forget = (
        f"INSERT INTO ticket_search(ticket_search, rowid, {listed}) "
        f"VALUES ('delete', old.id, {old});"
    )
    index = f"INSERT INTO ticket_search(rowid, {listed}) VALUES (new.id, {new});"
    op.execute(f"CREATE TRIGGER ticket_search_insert AFTER INSERT ON ticket BEGIN {index} END")
    op.execute(f"CREATE TRIGGER ticket_search_delete AFTER DELETE ON ticket BEGIN {forget} END")
    op.execute(
        f"CREATE TRIGGER ticket_search_update AFTER UPDATE OF {fields} ON ticket "
        f"WHEN {changed} BEGIN {forget} {index} END"
    )
    op.execute("INSERT INTO ticket_search(ticket_search) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_entry_search")
        op.execute("DROP INDEX IF EXISTS ix_ticket_search")
    else:
        for suffix in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS ticket_search_{suffix}")
        op.execute("DROP TABLE IF EXISTS ticket_search")
        op.execute("DROP VIEW IF EXISTS ticket_document")
    with op.batch_alter_table("entrymirror", schema=None) as batch_op:
        batch_op.drop_index("ix_mirror_state")
    op.drop_table("entrymirror")
    op.drop_table("entryattachment")
    with op.batch_alter_table("ticketentry", schema=None) as batch_op:
        batch_op.drop_index("ix_entry_ticket_created")
    op.drop_table("ticketentry")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("description")
