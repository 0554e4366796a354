"""vendor sync progress: the last committed page and how far a backfill has come (issue #13)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_page_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("sync_phase", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("sync_done", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sync_total", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.drop_column("sync_total")
        batch_op.drop_column("sync_done")
        batch_op.drop_column("sync_phase")
        batch_op.drop_column("last_page_at")
