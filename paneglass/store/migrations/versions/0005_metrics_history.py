"""metrics: history for time travel, shift handovers, scorecard indexes (issue #16)

The history tables start with what the store holds at upgrade (valid from the
upgrade); from then on every change appends a version in its own transaction.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 02:09:06.370092
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("signed_terminal", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("acknowledged_terminal", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handover", schema=None) as batch_op:
        batch_op.create_index("ix_handover_signed", ["signed_at"], unique=False)

    op.create_table(
        "componentversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("raw_status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("group_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("componentversion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_component_version_vendor", ["vendor_id", "valid_to"], unique=False
        )

    op.create_table(
        "incidentversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("impact", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("latest_update", sa.Text(), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incidentversion", schema=None) as batch_op:
        batch_op.create_index("ix_incident_version_vendor", ["vendor_id", "valid_to"], unique=False)

    op.create_table(
        "statusversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("indicator", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("page_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("statusversion", schema=None) as batch_op:
        batch_op.create_index("ix_status_version_vendor", ["vendor_id", "valid_to"], unique=False)

    op.create_table(
        "clockversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("policy", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=False),
        sa.Column("elapsed_seconds", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("at_risk_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("near_breach_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("breach_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("clockversion", schema=None) as batch_op:
        batch_op.create_index("ix_clock_version_ticket", ["ticket_id", "valid_to"], unique=False)
        batch_op.create_index("ix_clock_version_window", ["valid_from", "valid_to"], unique=False)

    op.create_table(
        "ticketversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("raw_status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("raw_priority", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("assignee", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("group_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("requester", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("asset", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vendor_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vendor_breached", sa.Boolean(), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticketversion", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_version_ticket", ["ticket_id", "valid_to"], unique=False)
        batch_op.create_index("ix_ticket_version_window", ["valid_from", "valid_to"], unique=False)

    with op.batch_alter_table("slaclock", schema=None) as batch_op:
        batch_op.create_index("ix_sla_breach", ["breach_at"], unique=False)
        batch_op.create_index("ix_sla_stopped", ["stopped_at", "breach_at"], unique=False)

    with op.batch_alter_table("ticketevent", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_status_time",
            ["vendor_time"],
            unique=False,
            sqlite_where=sa.text("field_name IN ('created', 'status')"),
            postgresql_where=sa.text("field_name IN ('created', 'status')"),
        )

    _seed_history()


def _seed_history() -> None:
    """What the store holds now is the first version of every row (valid from the upgrade)."""
    ticket_fields = (
        "key, title, status, raw_status, priority, raw_priority, assignee, group_name, "
        "requester, asset, created_at, updated_at, resolved_at, first_response_at, "
        "vendor_due_at, vendor_breached, url"
    )
    op.execute(
        f"INSERT INTO ticketversion (ticket_id, valid_from, {ticket_fields}) "
        f"SELECT id, CURRENT_TIMESTAMP, {ticket_fields} FROM ticket"
    )
    clock_fields = (
        "ticket_id, metric, cycle, policy, target_seconds, elapsed_seconds, paused, due_at, "
        "at_risk_at, near_breach_at, state, breach_at, started_at, stopped_at"
    )
    op.execute(
        f"INSERT INTO clockversion ({clock_fields}, valid_from) "
        f"SELECT {clock_fields}, CURRENT_TIMESTAMP FROM slaclock"
    )
    status_fields = "vendor_id, indicator, description, page_url, updated_at, fetched_at"
    op.execute(
        f"INSERT INTO statusversion ({status_fields}, valid_from) "
        f"SELECT {status_fields}, CURRENT_TIMESTAMP FROM vendorstatus"
    )
    component_fields = (
        "vendor_id, external_id, name, state, raw_status, group_name, position, updated_at"
    )
    op.execute(
        f"INSERT INTO componentversion ({component_fields}, valid_from) "
        f"SELECT {component_fields}, CURRENT_TIMESTAMP FROM vendorcomponent"
    )
    incident_fields = (
        "vendor_id, external_id, name, status, impact, created_at, updated_at, resolved_at, "
        "latest_update, url, active"
    )
    op.execute(
        f"INSERT INTO incidentversion ({incident_fields}, valid_from) "
        f"SELECT {incident_fields}, CURRENT_TIMESTAMP FROM vendorincident"
    )


def downgrade() -> None:
    with op.batch_alter_table("ticketevent", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_event_status_time",
            sqlite_where=sa.text("field_name IN ('created', 'status')"),
            postgresql_where=sa.text("field_name IN ('created', 'status')"),
        )

    with op.batch_alter_table("slaclock", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_stopped")
        batch_op.drop_index("ix_sla_breach")

    with op.batch_alter_table("ticketversion", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_version_window")
        batch_op.drop_index("ix_ticket_version_ticket")

    op.drop_table("ticketversion")
    with op.batch_alter_table("clockversion", schema=None) as batch_op:
        batch_op.drop_index("ix_clock_version_window")
        batch_op.drop_index("ix_clock_version_ticket")

    op.drop_table("clockversion")
    with op.batch_alter_table("statusversion", schema=None) as batch_op:
        batch_op.drop_index("ix_status_version_vendor")

    op.drop_table("statusversion")
    with op.batch_alter_table("incidentversion", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_version_vendor")

    op.drop_table("incidentversion")
    with op.batch_alter_table("componentversion", schema=None) as batch_op:
        batch_op.drop_index("ix_component_version_vendor")

    op.drop_table("componentversion")
    with op.batch_alter_table("handover", schema=None) as batch_op:
        batch_op.drop_index("ix_handover_signed")

    op.drop_table("handover")
