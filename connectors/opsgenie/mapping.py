"""Opsgenie alert dict → :class:`TicketRecord`, purely, plus the per-tenant overrides.

Kept apart from HTTP so the real capture and hand-made payloads can be mapped
without a server. Choices the reference leaves open (see ``vendor-apis.md`` §9):

* An alert's state is three fields (``status``, ``acknowledged``, ``snoozed``);
  they are folded into one raw status word — ``closed``, ``snoozed``,
  ``acknowledged`` or ``open``, in that order of precedence — which is what
  ``raw_status`` shows and what ``status_map`` overrides are keyed on.
* Alerts have no separate resolved and closed: a closed alert is ``resolved``
  (the problem went away or was handled), so the closed column stays for
  vendors that really have a second, final state.
* ``report.ackTime`` and ``report.closeTime`` are durations in milliseconds since
  ``createdAt``, not instants; they give ``first_response_at`` and ``resolved_at``.
* ``asset`` is the alert's ``entity`` (the thing the alert is about), else its
  ``source`` (the reporting host or tool, by default the sender's IP address).
  List answers carry neither ``entity`` nor ``description`` (see the capture):
  only ``GET /v2/alerts/{id}`` does, so the connector maps that answer when it
  reads it (the setting ``details``) and the list item otherwise.
  ``requester`` stays ``None``: nobody "requests" an alert.
* ``description`` is plain text (Opsgenie shows it as written); it is tidied,
  not rendered.
* Conversations: notes (``/notes``) are internal, every log line (``/logs``,
  ``system`` and ``alertRecipient`` types) a system entry. Neither has an id of
  its own: the ``offset`` Opsgenie pages them by is unique within the alert, so
  an entry's id is ``<alert id>/note/<offset>`` or ``<alert id>/log/<offset>``.
* ``group`` is the first team responder's name; list answers carry only team
  ids, so names come from ``team_names`` (the connector reads ``/v2/teams``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from connectors.errors import BadPayload, ConfigurationError
from connectors.records import ConversationEntry, Priority, TicketRecord, TicketStatus, Visibility
from connectors.richtext import markdown_to_text
from connectors.timestamps import parse_iso

__all__ = [
    "PRIORITY_MAP",
    "STATUS_MAP",
    "alert_to_record",
    "alert_url",
    "log_to_entry",
    "note_to_entry",
    "priority_overrides",
    "raw_status",
    "status_overrides",
    "team_ids",
]

STATUS_MAP: Mapping[str, TicketStatus] = {
    "open": TicketStatus.OPEN,
    "acknowledged": TicketStatus.OPEN,
    "snoozed": TicketStatus.PENDING,
    "closed": TicketStatus.RESOLVED,
}
"""The folded raw status word → normalized status (an acknowledged alert is still worked on)."""

PRIORITY_MAP: Mapping[str, Priority] = {p.value: p for p in Priority}
"""Opsgenie priorities are already P1–P5."""

_E = TypeVar("_E", TicketStatus, Priority)

DEFAULT_PRIORITY = Priority.P3
"""What Opsgenie gives an alert created without a priority."""


def status_overrides(value: Any) -> dict[str, TicketStatus]:
    """The ``status_map`` setting, checked: raw status word → normalized status."""
    return {
        key: _enum_value(TicketStatus, target, "status_map", key)
        for key, target in _override_items(value, "status_map", str.lower)
    }


def priority_overrides(value: Any) -> dict[str, Priority]:
    """The ``priority_map`` setting, checked: raw priority text → ``P1``..``P5``."""
    return {
        key: _enum_value(Priority, target, "priority_map", key)
        for key, target in _override_items(value, "priority_map", str.upper)
    }


def raw_status(alert: Mapping[str, Any]) -> str:
    """One word for the alert's state: ``closed``, ``snoozed``, ``acknowledged`` or ``open``.

    A status Opsgenie may add later is passed through as it is sent.
    """
    status = alert.get("status")
    if not isinstance(status, str) or not status.strip():
        raise BadPayload(f"Opsgenie alert {alert.get('id')!r} has no status")
    status = status.strip().lower()
    if status != "open":
        return status
    if alert.get("snoozed") is True:
        return "snoozed"
    if alert.get("acknowledged") is True:
        return "acknowledged"
    return "open"


def alert_url(ui_url: str, alert_id: str) -> str:
    """The alert in the Opsgenie web UI, from the configured UI host and the id only."""
    return f"{ui_url.rstrip('/')}/alert/detail/{alert_id}/details"


def alert_to_record(
    alert: Any,
    *,
    ui_url: str | None = None,
    status_map: Mapping[str, TicketStatus] | None = None,
    priority_map: Mapping[str, Priority] | None = None,
    team_names: Mapping[str, str] | None = None,
) -> TicketRecord:
    """Map one element of a ``GET /v2/alerts`` page's ``data``."""
    if not isinstance(alert, Mapping):
        raise BadPayload("Opsgenie alert is not an object")
    alert_id = alert.get("id")
    if not isinstance(alert_id, str) or not alert_id.strip():
        raise BadPayload("Opsgenie alert id missing or not text")
    word = raw_status(alert)
    overrides = status_map or {}
    # An unknown state (a future one) must stay visible, so it counts as open.
    status = overrides.get(word) or STATUS_MAP.get(word, TicketStatus.OPEN)
    created_at = parse_iso(alert.get("createdAt"))
    if created_at is None:
        raise BadPayload(f"Opsgenie alert {alert_id} has no createdAt")
    report = alert.get("report")
    report = report if isinstance(report, Mapping) else {}
    acknowledged = alert.get("acknowledged") is True
    closed = word == "closed"
    raw_priority, priority = _priority(alert.get("priority"), priority_map or {})
    return TicketRecord(
        external_id=alert_id,
        key=_key(alert, alert_id),
        title=_text(alert.get("message")) or "(no message)",
        status=status,
        raw_status=word,
        priority=priority,
        raw_priority=raw_priority,
        created_at=created_at,
        updated_at=parse_iso(alert.get("updatedAt")) or created_at,
        assignee=_text(alert.get("owner")),
        group=_team(alert.get("responders"), team_names or {}),
        requester=None,
        asset=_text(alert.get("entity")) or _text(alert.get("source")),
        resolved_at=_after(created_at, report.get("closeTime")) if closed else None,
        first_response_at=_after(created_at, report.get("ackTime")) if acknowledged else None,
        url=alert_url(ui_url, alert_id) if ui_url else None,
        description=_description(alert.get("description")),
        raw=alert,  # the page's own decoded object: no copy
    )


def note_to_entry(note: Mapping[str, Any], alert_id: str) -> ConversationEntry:
    """One item of ``GET /v2/alerts/{id}/notes``: an internal note."""
    return _entry(note, alert_id, "note", Visibility.INTERNAL)


def log_to_entry(log: Mapping[str, Any], alert_id: str) -> ConversationEntry:
    """One item of ``GET /v2/alerts/{id}/logs``: a system entry."""
    return _entry(log, alert_id, "log", Visibility.SYSTEM)


def _entry(
    item: Mapping[str, Any], alert_id: str, kind: str, visibility: Visibility
) -> ConversationEntry:
    offset = item.get("offset")
    created = parse_iso(item.get("createdAt"))
    if not isinstance(offset, str) or not offset or created is None:
        raise BadPayload(f"Opsgenie alert {kind} without offset or createdAt")
    text = item.get(kind)
    raw = text if isinstance(text, str) else ""
    return ConversationEntry(
        ticket_external_id=alert_id,
        external_id=f"{alert_id}/{kind}/{offset}",
        created_at=created,
        visibility=visibility,
        body=markdown_to_text(raw),
        author=_text(item.get("owner")),
        raw_format="text",
        raw_body=raw,
    )


def _description(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return markdown_to_text(value) or None


def team_ids(alert: Any) -> list[str]:
    """Ids of the alert's team responders, in order (for looking their names up)."""
    responders = alert.get("responders") if isinstance(alert, Mapping) else None
    if not isinstance(responders, list):
        return []
    return [
        r["id"]
        for r in responders
        if isinstance(r, Mapping) and r.get("type") == "team" and isinstance(r.get("id"), str)
    ]


def _key(alert: Mapping[str, Any], alert_id: str) -> str:
    tiny = alert.get("tinyId")
    if isinstance(tiny, (str, int)) and not isinstance(tiny, bool) and str(tiny).strip():
        return f"#{str(tiny).strip()}"
    return alert_id  # tinyId is always sent; the long id is still a usable key


def _priority(value: Any, overrides: Mapping[str, Priority]) -> tuple[str | None, Priority | None]:
    """``(raw_priority, priority)``: absent means Opsgenie's default P3; unknown text → None."""
    if value is None or value == "":
        return None, DEFAULT_PRIORITY
    if not isinstance(value, str):
        raise BadPayload("Opsgenie alert priority is not text")
    text = value.strip()
    return text, overrides.get(text.upper()) or PRIORITY_MAP.get(text.upper())


def _team(responders: Any, team_names: Mapping[str, str]) -> str | None:
    if not isinstance(responders, list):
        return None
    for responder in responders:
        if not isinstance(responder, Mapping) or responder.get("type") != "team":
            continue
        name = _text(responder.get("name"))
        if name:
            return name
        team_id = responder.get("id")
        if isinstance(team_id, str) and team_names.get(team_id):
            return team_names[team_id]
    return None


def _after(created_at: datetime, millis: Any) -> datetime | None:
    """``createdAt`` plus a ``report`` duration in milliseconds (absent or odd → ``None``)."""
    if isinstance(millis, bool) or not isinstance(millis, (int, float)) or millis < 0:
        return None
    return created_at + timedelta(milliseconds=millis)


def _text(value: Any) -> str | None:
    """Opsgenie sends ``""`` for unset text fields (``owner``, ``ownerTeamId``)."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _override_items(value: Any, name: str, fold: Callable[[str], str]) -> list[tuple[str, Any]]:
    if value is None or value == "":
        return []
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{name} must be a table of raw value = normalized value")
    return [(fold(str(key).strip()), target) for key, target in value.items()]


def _enum_value(enum: type[_E], target: Any, name: str, key: str) -> _E:
    text = str(target).strip() if target is not None else ""
    for member in enum:
        if member.value.lower() == text.lower():
            return member
    allowed = ", ".join(m.value for m in enum)
    raise ConfigurationError(f"{name}: {key!r} = {target!r} is not one of {allowed}")
