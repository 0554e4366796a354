"""Datto RMM alert dict → :class:`TicketRecord`, purely (no HTTP), plus its timestamps.

Choices the reference (``vendor-apis-2.md`` §2.1) leaves open:

* **State.** ``resolved`` is the only lifecycle flag: a resolved alert is
  ``resolved`` (raw status ``resolved``); an open one ``open``. ``muted`` alerts
  (a state Datto removed in 8.9.0, still sent as ``false``) read ``pending``
  with raw status ``muted``, so an old tenant's muted alerts do not count as
  work owed. ``status_map`` overrides key on these three words.
* **Priority.** Critical P1, High P2, Moderate P3, Low P4, Information P5;
  ``Unknown`` (and anything new) stays without a normalized priority.
* **Title.** The alert type from ``alertContext["@class"]`` (``comp_script_ctx`` →
  "Component script"; an unknown class is spelled out from its name), then the
  first non-empty value of ``alertContext.samples`` (its keys differ per type and
  it is often empty), else a few descriptive context fields, else the first line
  of ``diagnostics``.
* **Key.** Alerts have no short number; the key is the first eight characters of
  ``alertUid`` (what an operator reads out), the external id the whole uid.
* **Asset.** ``alertSourceInfo.deviceName`` with its ``siteName`` in brackets:
  the device and the MSP customer (site) it belongs to.
* **Times.** ``created_at`` is the alert's ``timestamp``; ``resolved_at`` its
  ``resolvedOn``; ``updated_at`` the latest of those and the response actions'
  ``actionTime`` (alerts carry no modification time of their own).
* **Description.** ``diagnostics``, the context's samples, the PSA ticket the
  monitor raised (``ticketNumber``) and the response actions, as plain text.
* **Link.** Only from the ``alert_url`` setting (ids URL-quoted into it); the
  payload's own URLs are never used.

Datto RMM encodes instants three ways (``LESSONS.md`` of a live tenant, and the
DattoRMM.Core module's parser): epoch milliseconds (alert ``timestamp``), epoch
seconds with decimals (activity logs) and ISO 8601 strings (device fields); the
OpenAPI calls all of them ``date-time``. .NET's ``DateTime.MinValue``
(-62135596800000 ms, or ``0001-01-01T00:00:00``) means "no date".
:func:`parse_datto_time` reads all of them, so ``resolvedOn`` and
``actionTime`` (whose encoding no capture shows) are safe either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from connectors.errors import BadPayload
from connectors.records import Priority, TicketRecord, TicketStatus
from connectors.richtext import markdown_to_text
from connectors.sanitize import clean_optional, one_line
from connectors.timestamps import parse_iso

__all__ = [
    "CONTEXT_LABELS",
    "MIN_VALUE_MS",
    "PRIORITY_MAP",
    "STATUS_MAP",
    "alert_link",
    "alert_to_record",
    "parse_datto_time",
    "raw_status",
]

MIN_VALUE_MS = -62_135_596_800_000
""".NET ``DateTime.MinValue`` in epoch milliseconds: Datto's "no date"."""
_MIN_VALUE_S = MIN_VALUE_MS // 1000
_MS_THRESHOLD = 100_000_000_000
"""Above this a number is milliseconds (1973 in ms; the year 5138 in seconds)."""

STATUS_MAP: Mapping[str, TicketStatus] = {
    "open": TicketStatus.OPEN,
    "muted": TicketStatus.PENDING,
    "resolved": TicketStatus.RESOLVED,
}
PRIORITY_MAP: Mapping[str, Priority] = {
    "critical": Priority.P1,
    "high": Priority.P2,
    "moderate": Priority.P3,
    "low": Priority.P4,
    "information": Priority.P5,
}
CONTEXT_LABELS: Mapping[str, str] = {
    "action_ctx": "Software change",
    "antivirus_ctx": "Antivirus",
    "backup_management_ctx": "Backup",
    "comp_script_ctx": "Component script",
    "custom_snmp_ctx": "Custom SNMP",
    "disk_health_ctx": "Disk health",
    "disk_usage_ctx": "Disk usage",
    "perf_disk_usage_ctx": "Disk usage",
    "endpoint_security_threat_ctx": "Endpoint security threat",
    "endpoint_security_windows_defender_ctx": "Windows Defender",
    "eventlog_ctx": "Event log",
    "fan_ctx": "Fan",
    "filesystem_ctx": "File system",
    "fs_object_ctx": "File system",
    "network_monitor_ctx": "Network monitor",
    "online_offline_status_ctx": "Online status",
    "patch_ctx": "Patch",
    "ping_ctx": "Ping",
    "printer_ctx": "Printer",
    "psu_ctx": "Power supply",
    "ransomware_ctx": "Ransomware",
    "resource_usage_ctx": "Resource usage",
    "process_resource_usage_ctx": "Process resource usage",
    "snmp_probe_ctx": "SNMP probe",
    "seccenter_ctx": "Security Center",
    "security_management_ctx": "Security management",
    "status_ctx": "Service status",
    "process_status_ctx": "Process status",
    "temperature_ctx": "Temperature",
    "windows_performance_ctx": "Windows performance",
    "wmi_ctx": "WMI",
}
"""``alertContext["@class"]`` → a short label (the classes DRMM-OAS and DattoRMM.Core name)."""
_CONTEXT_FIELDS = (
    "status",
    "diskName",
    "processName",
    "packageName",
    "serviceName",
    "logName",
    "code",
    "description",
    "ipAddress",
    "type",
)
"""Context fields that describe an alert when it carries no samples, in order of use."""
_TITLE_LIMIT = 200


def parse_datto_time(value: object) -> datetime | None:
    """Any of Datto RMM's instant encodings as aware UTC; ``None`` for absent or MinValue."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadPayload("Datto RMM timestamp is a boolean")
    number: float | None = None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return _iso(text)
    else:
        raise BadPayload(f"Datto RMM timestamp is a {type(value).__name__}")
    if number in (MIN_VALUE_MS, _MIN_VALUE_S) or number <= _MIN_VALUE_S:
        return None
    seconds = number / 1000 if abs(number) >= _MS_THRESHOLD else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadPayload(f"Datto RMM timestamp out of range: {str(value)[:40]!r}") from None


def _iso(text: str) -> datetime | None:
    if text.startswith("0001-01-01"):
        return None  # DateTime.MinValue written as a date
    if len(text) >= 19 and text[10] in "T " and not _has_zone(text):
        text += "Z"  # Datto's ISO fields are UTC; one without a zone is read as UTC
    return parse_iso(text)


def _has_zone(text: str) -> bool:
    tail = text[19:]
    return tail.endswith(("Z", "z")) or "+" in tail or "-" in tail


def raw_status(alert: Mapping[str, Any]) -> str:
    """``resolved``, ``muted`` or ``open``: the word ``status_map`` overrides key on."""
    if alert.get("resolved") is True:
        return "resolved"
    if alert.get("muted") is True:
        return "muted"
    return "open"


def alert_link(template: str, alert: Mapping[str, Any]) -> str:
    """The ``alert_url`` template with the alert's ids URL-quoted into it."""
    source = alert.get("alertSourceInfo")
    source = source if isinstance(source, Mapping) else {}
    values = {
        "alert_uid": alert.get("alertUid"),
        "device_uid": source.get("deviceUid"),
        "site_uid": source.get("siteUid"),
    }
    link = template
    for name, value in values.items():
        link = link.replace("{" + name + "}", quote(str(value or ""), safe=""))
    return link


def alert_to_record(alert: Any, *, alert_url: str | None = None) -> TicketRecord:
    """Map one element of an alerts page's ``alerts`` (or a ``GET /v2/alert/{uid}`` answer)."""
    if not isinstance(alert, Mapping):
        raise BadPayload("Datto RMM alert is not an object")
    uid = alert.get("alertUid")
    if not isinstance(uid, str) or not uid.strip():
        raise BadPayload("Datto RMM alert without an alertUid")
    uid = uid.strip()
    word = raw_status(alert)
    resolved_on = parse_datto_time(alert.get("resolvedOn"))
    created = parse_datto_time(alert.get("timestamp")) or resolved_on
    if created is None:
        raise BadPayload(f"Datto RMM alert {uid[:40]!r} has no timestamp")
    actions = _list(alert.get("responseActions"))
    action_times = [
        parse_datto_time(a.get("actionTime")) for a in actions if isinstance(a, Mapping)
    ]
    updated = max([created, *(t for t in (resolved_on, *action_times) if t is not None)])
    raw_priority = _text(alert.get("priority"))
    source = alert.get("alertSourceInfo")
    source = source if isinstance(source, Mapping) else {}
    resolved = word == "resolved"
    return TicketRecord(
        external_id=uid,
        key=uid[:8],
        title=_title(alert),
        status=STATUS_MAP[word],
        raw_status=word,
        priority=PRIORITY_MAP.get((raw_priority or "").lower()),
        raw_priority=raw_priority,
        created_at=created,
        updated_at=updated,
        assignee=_text(alert.get("resolvedBy")) if resolved else None,
        asset=_asset(source),
        resolved_at=(resolved_on or updated) if resolved else None,
        url=alert_link(alert_url, alert) if alert_url else None,
        description=_description(alert, actions) or None,
        raw=alert,
    )


def _title(alert: Mapping[str, Any]) -> str:
    context = alert.get("alertContext")
    context = context if isinstance(context, Mapping) else {}
    label = _label(context.get("@class"))
    detail = _detail(context) or _first_line(alert.get("diagnostics"))
    title = f"{label}: {detail}" if label and detail else label or detail or "(no details)"
    return one_line(title, _TITLE_LIMIT)


def _label(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    name = value.strip()
    known = CONTEXT_LABELS.get(name)
    if known:
        return known
    words = name.removesuffix("_ctx").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else None  # a class Datto added later


def _detail(context: Mapping[str, Any]) -> str | None:
    samples = context.get("samples")
    if isinstance(samples, Mapping):
        for value in samples.values():
            text = clean_optional(value)
            if text:
                return text
    parts = []
    for name in _CONTEXT_FIELDS:
        value = context.get(name)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = clean_optional(value)
            if text:
                parts.append(text)
        if len(parts) == 2:
            break
    return " · ".join(parts) or None


def _first_line(value: Any) -> str | None:
    text = clean_optional(value)
    if not text:
        return None
    return next((line.strip() for line in text.splitlines() if line.strip()), None)


def _asset(source: Mapping[str, Any]) -> str | None:
    device = _text(source.get("deviceName"))
    site = _text(source.get("siteName"))
    if device and site:
        return f"{device} ({site})"
    return device or site


def _description(alert: Mapping[str, Any], actions: list[Any]) -> str:
    lines: list[str] = []
    diagnostics = alert.get("diagnostics")
    if isinstance(diagnostics, str) and diagnostics.strip():
        lines += [diagnostics.strip(), ""]
    context = alert.get("alertContext")
    samples = context.get("samples") if isinstance(context, Mapping) else None
    if isinstance(samples, Mapping):
        for key, value in samples.items():
            text = clean_optional(value)
            if text:
                lines.append(f"{key}: {text}")
    ticket = _text(alert.get("ticketNumber"))
    if ticket:
        lines.append(f"PSA ticket: {ticket}")
    for action in actions:
        if not isinstance(action, Mapping):
            continue
        kind = _text(action.get("actionType")) or "action"
        what = _text(action.get("description")) or _text(action.get("actionReference")) or ""
        lines.append(f"{kind}: {what}".rstrip(": "))
    return markdown_to_text("\n".join(lines))


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
