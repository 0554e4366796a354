"""Salesforce records (``Case``, ``CaseMilestone``, ``CaseComment``, ``EmailMessage``) to the
unified records.

Query answers are JSON objects with an ``attributes`` block, the selected
fields by API name, and relationship fields (``Owner.Name``) as nested
objects with their own ``attributes`` (``null`` when the reference is
empty). Datetimes are UTC with an offset without colon and milliseconds
(``2026-10-01T13:59:15.000+0000``); booleans and numbers are JSON values.

Statuses are org-defined picklist values, so the normalized status comes
from ``IsClosed`` (derived by Salesforce from the ``CaseStatus`` setup) and
a few common names; a tenant's ``status_map`` decides the rest
(:mod:`connectors.overrides`). ``OwnerId`` is a user (``005…``) or a queue
(``00G…``): a queue owner is shown as the group, a user as the assignee.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from connectors.errors import BadPayload
from connectors.records import (
    ConversationEntry,
    Priority,
    TicketRecord,
    TicketStatus,
    Visibility,
)
from connectors.richtext import fold_quoted, html_to_text, markdown_to_text
from connectors.timestamps import parse_iso

__all__ = [
    "PRIORITY_BY_NAME",
    "STATUS_BY_NAME",
    "MilestoneSummary",
    "case_to_record",
    "case_url",
    "comment_to_entry",
    "email_to_entry",
    "milestones_by_case",
]

STATUS_BY_NAME: Mapping[str, TicketStatus] = {
    "new": TicketStatus.NEW,
    "on hold": TicketStatus.PENDING,
    "pending": TicketStatus.PENDING,
    "waiting on customer": TicketStatus.PENDING,
    "awaiting customer": TicketStatus.PENDING,
    "resolved": TicketStatus.RESOLVED,
}
"""Open statuses read by name; any other open status is ``open``, any closed one ``closed``."""
PRIORITY_BY_NAME: Mapping[str, Priority] = {
    "critical": Priority.P1,
    "urgent": Priority.P1,
    "high": Priority.P2,
    "medium": Priority.P3,
    "low": Priority.P4,
}
"""The out-of-box Priority values (High, Medium, Low) plus common additions."""
QUEUE_PREFIX = "00G"


def text(record: Mapping[str, Any], name: str) -> str:
    """A scalar field as text (``""`` for null or missing); objects are refused."""
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise BadPayload(f"Salesforce field {name!r} has an unexpected {type(value).__name__}")


def related(record: Mapping[str, Any], relation: str, name: str) -> str:
    """``Owner.Name`` style: a field of a related record, ``""`` when the reference is empty."""
    value = record.get(relation)
    if value is None:
        return ""
    if not isinstance(value, Mapping):
        raise BadPayload(f"Salesforce relationship {relation!r} is not an object")
    return text(value, name)


def flag(record: Mapping[str, Any], name: str) -> bool | None:
    """A checkbox field; ``None`` when absent."""
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value == "true" or value == "false":
        return bool(value == "true")
    raise BadPayload(f"Salesforce field {name!r} is not a boolean")


def when(record: Mapping[str, Any], name: str) -> datetime | None:
    """A dateTime field (``…+0000``) as aware UTC; ``None`` when null."""
    return parse_iso(record.get(name))


def record_id(record: Mapping[str, Any], what: str) -> str:
    """The record's ``Id``, required."""
    value = record.get("Id")
    if not isinstance(value, str) or not value:
        raise BadPayload(f"Salesforce {what} without Id")
    return value


def case_url(base_url: str, case_id: str) -> str:
    """The case in Lightning Experience, built from our own base URL and the Id only."""
    return f"{base_url.rstrip('/')}/lightning/r/Case/{quote(case_id, safe='')}/view"


@dataclass(frozen=True)
class MilestoneSummary:
    """What a case's milestones say about its SLA."""

    due_at: datetime | None = None
    """The earliest ``TargetDate`` among milestones not yet completed."""
    breached: bool | None = None
    """Any milestone ``IsViolated`` (open and late, or completed late)."""
    first_response_at: datetime | None = None
    """``CompletionDate`` of the first-response milestone, once completed."""


def milestones_by_case(
    rows: Iterable[Mapping[str, Any]], first_response: str = "First Response"
) -> dict[str, MilestoneSummary]:
    """Each case's :class:`MilestoneSummary`, in one pass over ``CaseMilestone`` rows.

    A milestone type repeats when its clock restarts; the rows still running
    (``IsCompleted = false``) give the due time, every row gives "violated".
    """
    found: dict[str, MilestoneSummary] = {}
    wanted = first_response.strip().lower()
    for row in rows:
        case = text(row, "CaseId")
        if not case:
            raise BadPayload("Salesforce CaseMilestone without CaseId")
        summary = found.get(case, MilestoneSummary(breached=False))
        due, breached, first = summary.due_at, bool(summary.breached), summary.first_response_at
        completed = bool(flag(row, "IsCompleted"))
        target = when(row, "TargetDate")
        if not completed and target is not None and (due is None or target < due):
            due = target
        breached = breached or bool(flag(row, "IsViolated"))
        if completed and related(row, "MilestoneType", "Name").strip().lower() == wanted:
            done = when(row, "CompletionDate")
            if done is not None and (first is None or done < first):
                first = done
        found[case] = MilestoneSummary(due, breached, first)
    return found


def normalized_status(raw: str, is_closed: bool | None) -> TicketStatus:
    """``IsClosed`` first; open statuses by their common names, else ``open``."""
    by_name = STATUS_BY_NAME.get(raw.strip().lower())
    if is_closed:
        return TicketStatus.RESOLVED if by_name is TicketStatus.RESOLVED else TicketStatus.CLOSED
    if by_name is TicketStatus.RESOLVED:
        return TicketStatus.OPEN  # a "Resolved" the org does not count as closed
    return by_name or TicketStatus.OPEN


def case_to_record(
    case: Mapping[str, Any], base_url: str, sla: MilestoneSummary | None = None
) -> TicketRecord:
    """Map one ``Case`` row; :class:`BadPayload` if it cannot be read."""
    if not isinstance(case, Mapping):
        raise BadPayload(f"Salesforce case is a {type(case).__name__}, not an object")
    case_id = record_id(case, "Case")
    raw_status = text(case, "Status")
    raw_priority = text(case, "Priority")
    updated = when(case, "SystemModstamp") or when(case, "LastModifiedDate")
    if updated is None:
        raise BadPayload(f"Salesforce case {case_id[:20]!r} has no SystemModstamp")
    owner_id = text(case, "OwnerId")
    owner = related(case, "Owner", "Name") or owner_id
    queue = owner_id.startswith(QUEUE_PREFIX)
    requester = (
        related(case, "Contact", "Name")
        or text(case, "SuppliedName")
        or related(case, "Contact", "Email")
        or text(case, "SuppliedEmail")
    )
    is_closed = flag(case, "IsClosed")
    sla = sla or MilestoneSummary()
    description = markdown_to_text(text(case, "Description"))
    return TicketRecord(
        external_id=case_id,
        key=text(case, "CaseNumber") or case_id,
        title=text(case, "Subject"),
        status=normalized_status(raw_status, is_closed),
        raw_status=raw_status,
        priority=PRIORITY_BY_NAME.get(raw_priority.strip().lower()),
        raw_priority=raw_priority or None,
        created_at=when(case, "CreatedDate") or updated,
        updated_at=updated,
        assignee=None if queue else (owner or None),
        group=(owner or None) if queue else None,
        requester=requester or None,
        asset=related(case, "Asset", "Name") or None,
        resolved_at=when(case, "ClosedDate") if is_closed else None,
        first_response_at=sla.first_response_at,
        vendor_due_at=sla.due_at,
        vendor_breached=sla.breached,
        url=case_url(base_url, case_id),
        description=description or None,
        raw=case if isinstance(case, dict) else dict(case),
    )


def comment_to_entry(row: Mapping[str, Any]) -> ConversationEntry:
    """One ``CaseComment``: published ones reach the customer, the rest stay internal."""
    comment_id = record_id(row, "CaseComment")
    case = text(row, "ParentId")
    if not case:
        raise BadPayload("Salesforce CaseComment without ParentId")
    created = when(row, "CreatedDate")
    if created is None:
        raise BadPayload(f"Salesforce CaseComment {comment_id[:20]!r} has no CreatedDate")
    raw = text(row, "CommentBody")
    body, _quoted = fold_quoted(markdown_to_text(raw))
    published = flag(row, "IsPublished")
    return ConversationEntry(
        ticket_external_id=case,
        external_id=comment_id,
        created_at=created,
        visibility=Visibility.PUBLIC if published else Visibility.INTERNAL,
        body=body,
        author=related(row, "CreatedBy", "Name") or text(row, "CreatedById") or None,
        raw_format="text",
        raw_body=raw,
        updated_at=when(row, "LastModifiedDate"),
    )


def email_to_entry(row: Mapping[str, Any]) -> ConversationEntry:
    """One ``EmailMessage`` on a case: the HTML body as text, earlier quoted replies folded."""
    email_id = record_id(row, "EmailMessage")
    case = text(row, "ParentId")
    if not case:
        raise BadPayload("Salesforce EmailMessage without ParentId")
    created = when(row, "MessageDate") or when(row, "CreatedDate")
    if created is None:
        raise BadPayload(f"Salesforce EmailMessage {email_id[:20]!r} has no date")
    html = text(row, "HtmlBody")
    plain = text(row, "TextBody")
    converted = html_to_text(html) if html else markdown_to_text(plain)
    body, _quoted = fold_quoted(converted)
    sender = text(row, "FromName") or text(row, "FromAddress")
    return ConversationEntry(
        ticket_external_id=case,
        external_id=email_id,
        created_at=created,
        visibility=Visibility.PUBLIC,
        body=body,
        author=sender or None,
        raw_format="html" if html else "text",
        raw_body=html or plain,
        updated_at=when(row, "SystemModstamp"),
    )
