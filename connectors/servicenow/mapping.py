"""ServiceNow payloads (``incident``, ``task_sla``, ``sys_journal_field``,
``sys_attachment``) to the unified records.

The Table API sends the same record in two shapes: with
``sysparm_display_value=all`` every field is ``{"display_value", "value"}``
(plus ``link`` on references), and by default every field is a flat string,
references being ``{"link", "value"}`` or ``""`` when empty. Logic only ever
reads the raw ``value`` (display values are localised: user time zone, date
format, language); display values are kept for people to read.

Journal entries (``comments``, ``work_notes``) and descriptions are plain
text, except that an agent may wrap HTML in ``[code]…[/code]``, which the
instance renders as HTML: those blocks go through
:func:`connectors.richtext.html_to_text`, the rest is only tidied, and an
e-mail reply's quoted history is folded away (:func:`connectors.richtext.fold_quoted`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from connectors.errors import BadPayload
from connectors.records import (
    AttachmentRecord,
    ConversationEntry,
    Priority,
    TicketRecord,
    TicketStatus,
    Visibility,
)
from connectors.richtext import fold_quoted, html_to_text, markdown_to_text
from connectors.timestamps import parse_servicenow

__all__ = [
    "PRIORITY_BY_CODE",
    "STATUS_BY_STATE",
    "attachment_entry",
    "attachment_url",
    "display",
    "incident_to_record",
    "incident_url",
    "journal_entry",
    "journal_text",
    "raw_value",
    "sla_summary",
    "slas_by_task",
]

STATUS_BY_STATE: Mapping[str, TicketStatus] = {
    "1": TicketStatus.NEW,
    "2": TicketStatus.OPEN,
    "3": TicketStatus.PENDING,
    "6": TicketStatus.RESOLVED,
    "7": TicketStatus.CLOSED,
    "8": TicketStatus.CLOSED,
}
"""Out-of-box incident ``state`` choices; instances may add more (those count as open)."""

PRIORITY_BY_CODE: Mapping[str, Priority] = {
    "1": Priority.P1,
    "2": Priority.P2,
    "3": Priority.P3,
    "4": Priority.P4,
    "5": Priority.P5,
}


def raw_value(payload: Mapping[str, Any], name: str) -> str:
    """The field's raw value as text in either shape; ``""`` when missing or empty."""
    field = payload.get(name)
    if type(field) is str:  # the common case, checked first (ABC checks are slow)
        return field
    if isinstance(field, dict | Mapping):
        field = field.get("value")
        if type(field) is str:
            return field
    if field is None:
        return ""
    if isinstance(field, dict | list):
        raise BadPayload(f"ServiceNow field {name!r} has an unexpected {type(field).__name__}")
    return str(field)


def display(payload: Mapping[str, Any], name: str) -> str | None:
    """The field's display value, else its raw value; ``None`` when both are empty.

    The flat shape carries no display values, so references fall back to the
    sys_id they hold: better an id than nothing in the assignee column.
    """
    field = payload.get(name)
    if type(field) is dict or isinstance(field, Mapping):
        shown = field.get("display_value")
        if shown is not None and shown != "":
            return shown if type(shown) is str else str(shown)
    value = raw_value(payload, name)
    return value or None


def incident_url(base_url: str, sys_id: str) -> str:
    """The incident's form in the instance UI, built only from our own base URL.

    Payload links are never trusted as where to send the operator.
    """
    return f"{base_url.rstrip('/')}/nav_to.do?uri=incident.do%3Fsys_id%3D{quote(sys_id, safe='')}"


def incident_to_record(
    payload: Mapping[str, Any],
    base_url: str,
    sla: tuple[datetime | None, bool | None] = (None, None),
) -> TicketRecord:
    """Map one incident in either wire shape; :class:`BadPayload` if it cannot be read.

    ``sla`` is the incident's vendor due time and breach flag (:func:`slas_by_task`),
    given here so the record is built (and its text cleaned) once.
    """
    if not isinstance(payload, Mapping):
        raise BadPayload(f"ServiceNow incident is a {type(payload).__name__}, not an object")
    sys_id = raw_value(payload, "sys_id")
    if not sys_id:
        raise BadPayload("ServiceNow incident without sys_id")
    state = raw_value(payload, "state")
    priority = raw_value(payload, "priority")
    updated_at = _required_time(payload, "sys_updated_on", sys_id)
    created_at = (
        parse_servicenow(raw_value(payload, "sys_created_on"))
        or parse_servicenow(raw_value(payload, "opened_at"))
        or updated_at
    )
    return TicketRecord(
        external_id=sys_id,
        key=raw_value(payload, "number") or sys_id,
        title=raw_value(payload, "short_description"),
        status=STATUS_BY_STATE.get(state, TicketStatus.OPEN),
        raw_status=display(payload, "state") or state,
        priority=PRIORITY_BY_CODE.get(priority),
        raw_priority=display(payload, "priority"),
        created_at=created_at,
        updated_at=updated_at,
        assignee=display(payload, "assigned_to"),
        group=display(payload, "assignment_group"),
        requester=display(payload, "caller_id"),
        asset=display(payload, "cmdb_ci"),
        resolved_at=parse_servicenow(raw_value(payload, "resolved_at")),
        vendor_due_at=sla[0],
        vendor_breached=sla[1],
        url=incident_url(base_url, sys_id),
        description=journal_text(raw_value(payload, "description")) or None,
        raw=payload if isinstance(payload, dict) else dict(payload),
    )


def sla_summary(rows: Iterable[Mapping[str, Any]]) -> tuple[datetime | None, bool | None]:
    """Earliest breach time and "any breached" over one incident's active ``task_sla`` rows."""
    return slas_by_task(rows, one_task=True).get("", (None, None))


def slas_by_task(
    rows: Iterable[Mapping[str, Any]], *, one_task: bool = False
) -> dict[str, tuple[datetime | None, bool | None]]:
    """Each task's earliest breach time and "any breached", in one pass over the rows.

    Every row is read (and its ``planned_end_time`` parsed) exactly once, however
    many tasks the rows of one ``taskIN…`` query belong to. ``one_task`` files
    every row under ``""`` (the rows of a single incident).
    """
    found: dict[str, tuple[datetime | None, bool | None]] = {}
    for row in rows:
        task = "" if one_task else raw_value(row, "task")
        due, breached = found.get(task, (None, None))
        planned = parse_servicenow(raw_value(row, "planned_end_time"))
        if planned is not None and (due is None or planned < due):
            due = planned
        flag = raw_value(row, "has_breached")
        if flag:
            breached = bool(breached) or flag == "true"
        found[task] = (due, breached)
    return found


_CODE_BLOCK = re.compile(r"\[code\](.*?)\[/code\]", re.IGNORECASE | re.DOTALL)
VISIBILITY_BY_ELEMENT: Mapping[str, Visibility] = {
    "comments": Visibility.PUBLIC,
    "work_notes": Visibility.INTERNAL,
}
"""``comments`` ("Additional comments") reach the caller; ``work_notes`` stay with agents."""
SYSTEM_AUTHORS = frozenset({"system"})
"""``sys_created_by`` of entries the platform wrote itself (business rules, flows)."""


def journal_text(value: str) -> str:
    """A journal value or description as plain text: ``[code]`` HTML converted, the rest tidied.

    Text outside ``[code]`` blocks is the user's own plain text, so it is never
    parsed as HTML (``<null>`` in an error message stays ``<null>``).
    """
    if not value:
        return ""
    if "[code]" not in value.lower():
        return markdown_to_text(value)
    parts: list[str] = []
    last = 0
    for block in _CODE_BLOCK.finditer(value):
        before = value[last : block.start()].rstrip(" \t")
        parts.append(before if last == 0 else before.lstrip(" \t"))
        parts.append("\n" + html_to_text(block.group(1)) + "\n")
        last = block.end()
    parts.append(value[last:].lstrip(" \t") if last else value[last:])
    return markdown_to_text("".join(parts))


def journal_entry(row: Mapping[str, Any]) -> ConversationEntry:
    """One ``sys_journal_field`` row (flat shape) as a conversation entry."""
    sys_id = raw_value(row, "sys_id")
    ticket = raw_value(row, "element_id")
    if not sys_id or not ticket:
        raise BadPayload("ServiceNow journal entry without sys_id or element_id")
    element = raw_value(row, "element")
    author = raw_value(row, "sys_created_by")
    visibility = VISIBILITY_BY_ELEMENT.get(element, Visibility.INTERNAL)
    if author in SYSTEM_AUTHORS:
        visibility = Visibility.SYSTEM
    value = raw_value(row, "value")
    body, _quoted = fold_quoted(journal_text(value))
    return ConversationEntry(
        ticket_external_id=ticket,
        external_id=sys_id,
        created_at=_required_time(row, "sys_created_on", sys_id),
        visibility=visibility,
        body=body,
        author=author or None,
        raw_format="html" if "[code]" in value.lower() else "text",
        raw_body=value,
    )


def attachment_url(base_url: str, sys_id: str) -> str:
    """The Attachment API's download URL, built only from our own base URL and the id."""
    return f"{base_url.rstrip('/')}/api/now/attachment/{quote(sys_id, safe='')}/file"


def attachment_entry(row: Mapping[str, Any], base_url: str) -> ConversationEntry:
    """One ``sys_attachment`` row as an activity entry carrying the file's metadata.

    The instance keeps no link from an attachment to the comment it came
    with, so each file is its own entry, as in the incident's activity stream
    ("attachment added"): stable ids whether or not its comment was read.
    """
    sys_id = raw_value(row, "sys_id")
    ticket = raw_value(row, "table_sys_id")
    if not sys_id or not ticket:
        raise BadPayload("ServiceNow attachment without sys_id or table_sys_id")
    name = raw_value(row, "file_name") or sys_id
    size = raw_value(row, "size_bytes")
    author = raw_value(row, "sys_created_by")
    attachment = AttachmentRecord(
        external_id=sys_id,
        name=name,
        size=int(size) if size.isdigit() else None,
        content_type=raw_value(row, "content_type") or None,
        url=attachment_url(base_url, sys_id),
    )
    return ConversationEntry(
        ticket_external_id=ticket,
        external_id=sys_id,
        created_at=_required_time(row, "sys_created_on", sys_id),
        visibility=Visibility.SYSTEM,
        body=f"Attachment added: {name}",
        author=author or None,
        attachments=(attachment,),
    )


def _required_time(payload: Mapping[str, Any], name: str, sys_id: str) -> datetime:
    value = parse_servicenow(raw_value(payload, name))
    if value is None:
        raise BadPayload(f"ServiceNow record {sys_id[:40]!r} has no {name}")
    return value
