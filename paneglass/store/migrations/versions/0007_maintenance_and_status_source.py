"""maintenance windows kept, a vendor's status source, why a clock is paused (issue #17)

Time travel keeps them too: the clock history (``clockversion``) gains
``pause_reason`` and the incident history (``incidentversion``) the maintenance
columns; versions recorded before this migration have no pause reason and are
not maintenance.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vendorincident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("maintenance", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("scheduled_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("components", sa.Text(), nullable=True))
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status_source", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    with op.batch_alter_table("slaclock", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pause_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    with op.batch_alter_table("clockversion", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pause_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    with op.batch_alter_table("incidentversion", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("maintenance", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("scheduled_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("components", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidentversion", schema=None) as batch_op:
        batch_op.drop_column("components")
        batch_op.drop_column("scheduled_until")
        batch_op.drop_column("scheduled_for")
        batch_op.drop_column("maintenance")
    with op.batch_alter_table("clockversion", schema=None) as batch_op:
        batch_op.drop_column("pause_reason")
    with op.batch_alter_table("slaclock", schema=None) as batch_op:
        batch_op.drop_column("pause_reason")
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.drop_column("status_source")
    with op.batch_alter_table("vendorincident", schema=None) as batch_op:
        batch_op.drop_column("components")
        batch_op.drop_column("scheduled_until")
        batch_op.drop_column("scheduled_for")
        batch_op.drop_column("maintenance")
