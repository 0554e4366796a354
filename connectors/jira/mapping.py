"""Jira issue (its JSM SLA fields, comments and attachments) → records, purely.

Kept apart from HTTP so the real capture and hand-made payloads can be mapped
in tests without a server. Jira reports a status as a tenant-defined name plus
one of three fixed categories (``new``, ``indeterminate``, ``done``); the
category is the reliable part, the name refines it (waiting states, closed vs
resolved). JSM SLAs are custom fields of the issue (type
``com.atlassian.servicedesk:sd-sla-field``) holding cycles, the same shape
``/rest/servicedeskapi/request/{key}/sla`` serves; only their ``epochMillis``
instants are used (the other renderings follow the API user's locale and zone).

Comments are ADF (v3); their JSM visibility is ``jsdPublic`` (false for an
internal note), a ``visibility`` role/group restriction also makes one
internal, and a comment written by an app account (automation) is a system
entry. Jira keeps attachments on the issue, not on a comment: an attachment
goes with the comment its author wrote within :data:`ATTACHED_WITH` of it
(a portal reply with a screenshot), else it becomes an entry of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
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
from connectors.richtext import adf_to_text, fold_quoted, markdown_to_text
from connectors.timestamps import from_epoch_seconds, parse_iso

__all__ = [
    "ATTACHED_WITH",
    "PRIORITY_MAP",
    "SlaState",
    "attachment_record",
    "comment_visibility",
    "conversation",
    "field_text",
    "issue_to_record",
    "issue_url",
    "jira_offset",
    "jira_time",
    "normalise_status",
    "search_issues",
    "sla_state",
    "sla_values",
]

CATEGORY_MAP: Mapping[str, TicketStatus] = {
    "new": TicketStatus.NEW,
    "indeterminate": TicketStatus.OPEN,
}
"""``statusCategory.key`` of statuses that still need work (``done`` is decided by name)."""

CLOSED_NAMES = frozenset({"closed", "canceled", "cancelled"})
"""Done-category status names that mean closed rather than resolved."""

WAITING_WORDS = ("waiting", "pending")
"""A status name with one of these words waits on someone other than the agent."""

AGENT_QUEUE_NAMES = frozenset({"waiting for support"})
"""JSM's default queue status: it waits on the *agent*, so it is work, not pending."""

PRIORITY_MAP: Mapping[str, Priority] = {
    "highest": Priority.P1,
    "high": Priority.P2,
    "medium": Priority.P3,
    "low": Priority.P4,
    "lowest": Priority.P5,
    # The older default scheme, still found on long-lived tenants.
    "blocker": Priority.P1,
    "critical": Priority.P1,
    "major": Priority.P2,
    "minor": Priority.P4,
    "trivial": Priority.P5,
}

FIRST_RESPONSE_WORDS = "first response"
"""JSM's default "Time to first response" SLA; its first completed cycle ends at the reply."""

_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[1-9][0-9]*$")
_OFFSET = re.compile(r"(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2}))$")


def normalise_status(name: str, category_key: str | None) -> TicketStatus:
    """The normalised status for a Jira status name and its category key."""
    lowered = name.strip().lower()
    if category_key == "done":
        return TicketStatus.CLOSED if lowered in CLOSED_NAMES else TicketStatus.RESOLVED
    if lowered not in AGENT_QUEUE_NAMES and any(word in lowered for word in WAITING_WORDS):
        return TicketStatus.PENDING
    # An unknown category (``undefined`` on broken workflows) must stay visible: open.
    return CATEGORY_MAP.get(category_key or "", TicketStatus.OPEN)


def issue_url(base_url: str, key: str) -> str | None:
    """``{site}/browse/{key}``, only for a key shaped like a Jira key (never vendor-sent URLs)."""
    if not _ISSUE_KEY.match(key):
        return None
    return f"{base_url.rstrip('/')}/browse/{quote(key, safe='-_')}"


def jira_offset(value: str) -> timezone | None:
    """The UTC offset a Jira timestamp was written in (the API user's profile zone)."""
    match = _OFFSET.search(value.strip())
    if match is None:
        return None
    if match["z"]:
        return UTC
    minutes = int(match["hh"]) * 60 + int(match["mm"])
    return timezone(timedelta(minutes=-minutes if match["sign"] == "-" else minutes))


@dataclass(frozen=True)
class SlaState:
    """What a request's JSM SLAs say, reduced to the unified record's fields."""

    due_at: datetime | None = None
    breached: bool | None = None
    first_response_at: datetime | None = None


def sla_state(values: Sequence[Any] | None, now: datetime) -> SlaState:
    """``vendor_due_at``, ``vendor_breached`` and first response from SLA ``values``.

    The due time is the earliest ``breachTime`` among running (not paused)
    ongoing cycles: a paused clock's breach time moves, so it is no deadline.
    Breached is true when any ongoing or completed cycle says so, or a running
    cycle's breach time has passed (JSM updates the flag lazily). With no SLA
    at all we know nothing, so both stay ``None``. Odd entries are skipped.
    """
    metrics = [m for m in values or () if isinstance(m, dict)]
    if not metrics:
        return SlaState()
    deadlines: list[datetime] = []
    breached = False
    first_response: datetime | None = None
    for metric in metrics:
        ongoing = metric.get("ongoingCycle")
        if isinstance(ongoing, dict):
            breached = breached or ongoing.get("breached") is True
            deadline = _instant(ongoing.get("breachTime"))
            if deadline is not None and ongoing.get("paused") is not True:
                deadlines.append(deadline)
                breached = breached or deadline <= now
        completed = [c for c in _as_list(metric.get("completedCycles")) if isinstance(c, dict)]
        breached = breached or any(c.get("breached") is True for c in completed)
        name = metric.get("name")
        if isinstance(name, str) and FIRST_RESPONSE_WORDS in name.lower():
            stops = [s for c in completed if (s := _instant(c.get("stopTime"))) is not None]
            if first_response is not None:
                stops.append(first_response)
            first_response = min(stops, default=None)
    return SlaState(min(deadlines) if deadlines else None, breached, first_response)


def jira_time(value: object) -> datetime | None:
    """A Jira timestamp (``2025-03-04T09:12:44.123+0300``) as aware UTC; ``None`` when empty.

    :meth:`datetime.fromisoformat` (C) reads Jira's own shape directly, about
    fifteen times faster than the general parser, which handles the rest.
    """
    if isinstance(value, str) and len(value) > 19:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    return parse_iso(value)


def search_issues(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ``issues`` of a ``search/jql`` answer (none when absent)."""
    issues = page.get("issues")
    if issues is None:
        return []
    if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
        raise BadPayload("Jira search issues is not a list of objects")
    return issues


def sla_values(fields: Mapping[str, Any], sla_fields: Mapping[str, str]) -> list[Any] | None:
    """The issue's JSM SLA field values (``sla_fields``: field id → SLA name).

    A value without its own ``name`` takes the field's (first response is found
    by name). ``None`` when the issue has none set (not a service desk request).
    """
    values: list[Any] = []
    for field_id, name in sla_fields.items():
        value = fields.get(field_id)
        if isinstance(value, dict):
            values.append(value if "name" in value else {**value, "name": name})
    return values or None


def issue_to_record(
    issue: Any,
    *,
    base_url: str,
    group_field: str | None = None,
    slas: Sequence[Any] | None = None,
    sla_fields: Mapping[str, str] | None = None,
    now: datetime,
) -> TicketRecord:
    """Map one issue of a ``search/jql`` page (or ``GET /issue/{key}``).

    Its JSM SLAs are ``slas`` when given, else read from the ``sla_fields`` of
    the issue itself. The raw payload keeps everything but the comments (they
    travel as conversation entries).
    """
    if not isinstance(issue, dict):
        raise BadPayload("Jira issue is not an object")
    issue_id, key = issue.get("id"), issue.get("key")
    if not isinstance(issue_id, str | int) or isinstance(issue_id, bool) or not str(issue_id):
        raise BadPayload("Jira issue without an id")
    if not isinstance(key, str) or not key:
        raise BadPayload(f"Jira issue {issue_id} has no key")
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        raise BadPayload(f"Jira issue {key} has no fields (were they requested?)")
    status = fields.get("status")
    raw_status = status.get("name") if isinstance(status, dict) else None
    if not isinstance(raw_status, str) or not raw_status.strip():
        raise BadPayload(f"Jira issue {key} has no status name")
    category = status.get("statusCategory") if isinstance(status, dict) else None
    category_key = category.get("key") if isinstance(category, dict) else None
    raw_priority = _name(fields.get("priority"), "name")
    created_at = jira_time(fields.get("created"))
    if created_at is None:
        raise BadPayload(f"Jira issue {key} has no created time")
    if slas is None and sla_fields:
        slas = sla_values(fields, sla_fields)
    sla = sla_state(slas, now)
    raw: dict[str, Any] = dict(issue)
    if "comment" in fields:
        raw["fields"] = kept = dict(fields)
        del kept["comment"]
    if slas is not None:
        raw["sla"] = list(slas)
    return TicketRecord(
        external_id=str(issue_id),
        key=key,
        title=_title(fields.get("summary")),
        status=normalise_status(
            raw_status, category_key if isinstance(category_key, str) else None
        ),
        raw_status=raw_status.strip(),
        priority=PRIORITY_MAP.get(raw_priority.lower()) if raw_priority else None,
        raw_priority=raw_priority,
        created_at=created_at,
        updated_at=jira_time(fields.get("updated")) or created_at,
        assignee=_name(fields.get("assignee"), "displayName"),
        group=_group(fields, group_field),
        requester=_name(fields.get("reporter"), "displayName"),
        resolved_at=jira_time(fields.get("resolutiondate")),
        first_response_at=sla.first_response_at,
        vendor_due_at=sla.due_at,
        vendor_breached=sla.breached,
        url=issue_url(base_url, key),
        description=_rich_text(fields.get("description")) or None,
        raw=raw,
    )


# -- conversations -------------------------------------------------------------------

ATTACHED_WITH = timedelta(seconds=60)
"""An attachment its author added this close to one of their comments belongs to it."""

ATTACHMENT_CONTENT = "/rest/api/3/attachment/content/{id}"


def comment_visibility(comment: Mapping[str, Any]) -> Visibility:
    """Who reads the comment: internal when JSM keeps it from the customer, system for apps."""
    if comment.get("jsdPublic") is False or _restricted(comment) or _internal_property(comment):
        return Visibility.INTERNAL
    author = comment.get("author")
    if isinstance(author, dict) and author.get("accountType") == "app":
        return Visibility.SYSTEM
    return Visibility.PUBLIC


def attachment_record(attachment: Any, api_root: str) -> AttachmentRecord | None:
    """Attachment metadata; the URL is built from our base URL and the numeric id only."""
    if not isinstance(attachment, dict):
        return None
    attachment_id = attachment.get("id")
    if not isinstance(attachment_id, str | int) or isinstance(attachment_id, bool):
        return None
    ident = str(attachment_id)
    size = attachment.get("size")
    mime = attachment.get("mimeType")
    url = None
    if ident.isascii() and ident.isdigit():
        url = api_root.rstrip("/") + ATTACHMENT_CONTENT.format(id=quote(ident, safe=""))
    return AttachmentRecord(
        external_id=ident,
        name=str(attachment.get("filename") or ident),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        content_type=mime if isinstance(mime, str) else None,
        url=url,
    )


def conversation(
    issue_id: str,
    comments: Sequence[Any],
    attachments: Sequence[Any],
    *,
    api_root: str,
    since: datetime | None = None,
) -> list[ConversationEntry]:
    """The issue's comments (and stray attachments) as entries, oldest first.

    With ``since``, only entries created or edited at or after it (an
    incremental poll re-reads an issue because its ``updated`` moved; its old
    comments are already stored).
    """
    parsed = [c for c in (_comment(c) for c in comments) if c is not None]
    files = [f for f in (_attachment(a, api_root) for a in attachments) if f is not None]
    attached: dict[str, list[AttachmentRecord]] = {}
    stray: list[tuple[datetime, str | None, AttachmentRecord]] = []
    for at, author_id, author, record in files:
        owner = _owner(parsed, at, author_id)
        if owner is None:
            stray.append((at, author, record))
        else:
            attached.setdefault(owner, []).append(record)
    entries: list[ConversationEntry] = []
    for comment in parsed:
        if since is not None and max(comment.created, comment.updated or comment.created) < since:
            continue
        body, raw_format, raw_body = _comment_body(comment.payload.get("body"))
        entries.append(
            ConversationEntry(
                ticket_external_id=issue_id,
                external_id=comment.id,
                created_at=comment.created,
                visibility=comment_visibility(comment.payload),
                body=body,
                author=comment.author,
                raw_format=raw_format,
                raw_body=raw_body,
                updated_at=comment.updated,
                attachments=tuple(attached.get(comment.id, ())),
            )
        )
    for at, author, record in stray:
        if since is not None and at < since:
            continue
        entries.append(
            ConversationEntry(
                ticket_external_id=issue_id,
                external_id=f"attachment-{record.external_id}",
                created_at=at,
                visibility=Visibility.SYSTEM,
                body=f"Attached {record.name}",
                author=author,
                attachments=(record,),
            )
        )
    entries.sort(key=lambda e: e.created_at)
    return entries


@dataclass(frozen=True, slots=True)
class _Comment:
    id: str
    created: datetime
    updated: datetime | None
    author_id: str | None
    author: str | None
    payload: Mapping[str, Any]


def _comment(value: Any) -> _Comment | None:
    """A comment's identity and times; one without an id or a creation time is skipped."""
    if not isinstance(value, dict):
        return None
    comment_id = value.get("id")
    if not isinstance(comment_id, str | int) or isinstance(comment_id, bool):
        return None
    try:
        created = jira_time(value.get("created"))
        updated = jira_time(value.get("updated"))
    except BadPayload:
        return None
    if created is None:
        return None
    author = value.get("author")
    return _Comment(
        str(comment_id),
        created,
        updated,
        _name(author, "accountId"),
        _name(author, "displayName"),
        value,
    )


def _attachment(
    value: Any, api_root: str
) -> tuple[datetime, str | None, str | None, AttachmentRecord] | None:
    record = attachment_record(value, api_root)
    if record is None:
        return None
    assert isinstance(value, dict)
    try:
        at = jira_time(value.get("created"))
    except BadPayload:
        at = None
    if at is None:
        return None
    author = value.get("author")
    return at, _name(author, "accountId"), _name(author, "displayName"), record


def _owner(comments: Sequence[_Comment], at: datetime, author_id: str | None) -> str | None:
    """The comment by the same author closest in time to ``at``, within :data:`ATTACHED_WITH`."""
    if author_id is None:
        return None
    best: tuple[timedelta, str] | None = None
    for comment in comments:
        if comment.author_id != author_id:
            continue
        gap = abs(comment.created - at)
        if gap <= ATTACHED_WITH and (best is None or gap < best[0]):
            best = (gap, comment.id)
    return best[1] if best else None


def _comment_body(body: Any) -> tuple[str, str, str]:
    """``(plain text, raw format, raw body)``: ADF (v3) or wiki text (v2), quoted mail folded."""
    if isinstance(body, dict):
        text = adf_to_text(body)
        raw_format, raw_body = "adf", json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    elif isinstance(body, str):
        text, raw_format, raw_body = markdown_to_text(body), "text", body
    else:
        return "", "text", ""
    visible, _quoted = fold_quoted(text)
    return visible, raw_format, raw_body


def _rich_text(value: Any) -> str:
    if isinstance(value, dict):
        return adf_to_text(value)
    if isinstance(value, str):
        return markdown_to_text(value)
    return ""


def _restricted(comment: Mapping[str, Any]) -> bool:
    """A role or group ``visibility`` keeps the comment from everyone else (customers too)."""
    visibility = comment.get("visibility")
    return isinstance(visibility, dict) and bool(visibility.get("value"))


def _internal_property(comment: Mapping[str, Any]) -> bool:
    """JSM's ``sd.public.comment`` property (with ``expand=properties``) says internal."""
    for prop in _as_list(comment.get("properties")):
        if isinstance(prop, dict) and prop.get("key") == "sd.public.comment":
            value = prop.get("value")
            return isinstance(value, dict) and value.get("internal") in (True, "true")
    return False


def field_text(value: Any) -> str | None:
    """Readable text of a custom field: a string, an option, a user, a team, or a list of them."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        for key in ("value", "name", "displayName", "title", "key"):
            text = value.get(key)
            if isinstance(text, str) and text.strip():
                return text.strip()
        return None
    if isinstance(value, list):
        parts = [text for item in value if (text := field_text(item))]
        return ", ".join(parts) or None
    return None


def _group(fields: Mapping[str, Any], group_field: str | None) -> str | None:
    """The configured group field's text, else the project key."""
    if group_field:
        text = field_text(fields.get(group_field))
        if text:
            return text
    return _name(fields.get("project"), "key")


def _title(summary: Any) -> str:
    if isinstance(summary, str) and summary.strip():
        return summary.strip()
    return "(no summary)"


def _name(value: Any, key: str) -> str | None:
    text = value.get(key) if isinstance(value, dict) else None
    return (text.strip() or None) if isinstance(text, str) else None


def _instant(value: Any) -> datetime | None:
    """A JSM DateDTO as UTC: ``epochMillis`` first, ``iso8601`` as a fallback; else ``None``."""
    if not isinstance(value, dict):
        return None
    millis = value.get("epochMillis")
    if isinstance(millis, int | float) and not isinstance(millis, bool):
        try:
            return from_epoch_seconds(millis / 1000)
        except BadPayload:
            return None
    try:
        return jira_time(value.get("iso8601"))
    except BadPayload:
        return None


def _as_list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else ()
