"""PostgreSQL: room on the contract clocks' pages for in-place (HOT) rewrites

Every page that changes a ticket rewrites its clocks (``computed_at`` and the
elapsed time move). Where a clock's indexed columns (state, due, stop and
breach times, its key) stay as they were, PostgreSQL can write the new row
version on the same page without a new entry in any of the table's five
indexes (a heap-only tuple), but only if the page has room: at the default
fill factor (100) a page filled by inserts has none, and every rewrite went
to another page with five index insertions. A fill factor of 50 leaves half
of each page for those rewrites, enough for every clock on a page to be
rewritten in place (74% of the ingest bench's rewrites; 80 made 20%); a table
filled by inserts takes about twice the pages (some 340 bytes a ticket).
Rows written before this migration keep their full pages until rewritten or
vacuumed. SQLite has no such setting: nothing changes there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOCK_FILLFACTOR = 50


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE slaclock SET (fillfactor = {CLOCK_FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE slaclock RESET (fillfactor)")
