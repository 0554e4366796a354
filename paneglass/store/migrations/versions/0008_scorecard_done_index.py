"""scorecards: a partial covering index of changes into and out of resolved/closed

The scorecard's resolved and re-opened counts read every status change of the
period and looked up each event row; this index holds only the changes that
count (about one status event in ten) with every column the query reads, so a
month of a million-ticket store is counted from the index alone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DONE_CHANGES = (
    "field_name IN ('created', 'status') "
    "AND (new_value IN ('resolved', 'closed') OR old_value IN ('resolved', 'closed'))"
)


def upgrade() -> None:
    with op.batch_alter_table("ticketevent", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_done_time",
            ["vendor_time", "ticket_id", "field_name", "old_value", "new_value"],
            unique=False,
            sqlite_where=sa.text(_DONE_CHANGES),
            postgresql_where=sa.text(_DONE_CHANGES),
        )


def downgrade() -> None:
    with op.batch_alter_table("ticketevent", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_event_done_time",
            sqlite_where=sa.text(_DONE_CHANGES),
            postgresql_where=sa.text(_DONE_CHANGES),
        )
