"""notifications: the transition log, its deliveries, the second SLA threshold (issue #15)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("slaclock", schema=None) as batch_op:
        batch_op.add_column(sa.Column("near_breach_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outboxaction", schema=None) as batch_op:
        batch_op.alter_column("vendor_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("channel", _TEXT(), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", _TEXT(), nullable=True))
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", _TEXT(), nullable=False),
        sa.Column("clock", _TEXT(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("event", _TEXT(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("vendor", _TEXT(), nullable=True),
        sa.Column("ticket_key", _TEXT(), nullable=True),
        sa.Column("priority", _TEXT(), nullable=True),
        sa.Column("group_name", _TEXT(), nullable=True),
        sa.Column("policy", _TEXT(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", _TEXT(), nullable=False),
        sa.Column("rules", _TEXT(), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acked_by", _TEXT(), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_by", _TEXT(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "subject", "clock", "cycle", "event", name="uq_notification_transition"
        ),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_state", ["state", "id"], unique=False)
        batch_op.create_index("ix_notification_open", ["acked_at", "id"], unique=False)
        batch_op.create_index("ix_notification_ticket", ["ticket_id"], unique=False)
    op.create_table(
        "notificationsend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe", _TEXT(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("rule", _TEXT(), nullable=False),
        sa.Column("kind", _TEXT(), nullable=False),
        sa.Column("local", _TEXT(), nullable=False),
        sa.Column("remote", _TEXT(), nullable=False),
        sa.Column("state", _TEXT(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe", name="uq_notification_send"),
    )
    with op.batch_alter_table("notificationsend", schema=None) as batch_op:
        batch_op.create_index("ix_send_state_due", ["state", "due_at"], unique=False)
        batch_op.create_index("ix_send_notification", ["notification_id"], unique=False)

    op.create_table(
        "notifierstate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_ticket_id", sa.Integer(), nullable=False),
        sa.Column("last_audit_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("notifierstate")
    op.drop_table("notificationsend")
    op.drop_table("notification")
    with op.batch_alter_table("outboxaction", schema=None) as batch_op:
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("channel")
        batch_op.alter_column("vendor_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("slaclock", schema=None) as batch_op:
        batch_op.drop_column("near_breach_at")
