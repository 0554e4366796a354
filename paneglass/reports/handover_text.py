"""The shift handover as Markdown (for a terminal, a chat or an e-mail) or JSON."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from paneglass.metrics.handover import HandoverReport
from paneglass.store import HandoverRecord

__all__ = ["handover_lines", "handover_markdown"]


def _local(text: str | None, zone: tzinfo | None) -> str:
    if not text:
        return "—"
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when.astimezone(zone).strftime("%a %d %b %H:%M")


def _clean(text: Any) -> str:
    return " ".join(str(text or "").split()).replace("|", "/")


def handover_lines(report: HandoverReport, zone: tzinfo | None) -> list[tuple[str, list[str]]]:
    """The report as (section title, lines): shared by Markdown and the handover screen."""
    d = report.as_dict()
    due_hours = d.get("due_within_minutes", 240) / 60
    sections: list[tuple[str, list[str]]] = []

    def clock(c: dict[str, Any]) -> str:
        return (
            f"{_local(c['at'], zone)}  {c['vendor']} {_clean(c['key'])} {c['priority'] or '–'} "
            f"{c['metric']}  {_clean(c['title'])}"
        )

    sections.append(
        (
            f"Breaches since {_local(d.get('since'), zone)}",
            [clock(c) for c in d.get("breaches", [])],
        )
    )
    sections.append((f"Due in the next {due_hours:g} h", [clock(c) for c in d.get("due", [])]))
    sections.append(
        (
            "Open P1 / P2",
            [
                f"{t['priority']}  {t['vendor']} {_clean(t['key'])} {t['status']}  "
                f"{_clean(t['title'])}  ({_clean(t['assignee']) or 'unassigned'}, opened "
                f"{_local(t['created_at'], zone)})"
                for t in d.get("urgent", [])
            ],
        )
    )
    sections.append(
        (
            "New tickets",
            [f"{vendor}: {count}" for vendor, count in d.get("new_tickets", {}).items()],
        )
    )
    sections.append(
        (
            "Vendors stale or degraded",
            [
                f"{v['vendor']}: {', '.join(v['problems'])}"
                + (f" ({_clean(v['error'])})" if v.get("error") else "")
                + (
                    f"; {'; '.join(_clean(c) for c in v['components'])}"
                    if v.get("components")
                    else ""
                )
                for v in d.get("vendors", [])
            ],
        )
    )
    sections.append(
        (
            "Failed outbox actions",
            [
                f"{_local(a['at'], zone)}  {a['vendor']} {_clean(a['key'])}  {_clean(a['summary'])}"
                f" — {_clean(a['error'])}"
                for a in d.get("failed_actions", [])
            ],
        )
    )
    sections.append(
        (
            "Cases changed",
            [
                f"case {c['id']}  {_clean(c['title'])}" + (" (closed)" if c["closed"] else "")
                for c in d.get("cases", [])
            ],
        )
    )
    return sections


def handover_markdown(
    report: HandoverReport, zone: tzinfo | None, record: HandoverRecord | None = None
) -> str:
    """The report, with the signature and acknowledgement when it is a signed handover."""
    d = report.as_dict()
    lines = [f"# Shift handover: {_local(d.get('since'), zone)} to {_local(d.get('at'), zone)}", ""]
    if record is not None:
        lines.append(
            f"Signed by {record.signed_by} at {record.signed_at.astimezone(zone):%a %d %b %H:%M}"
            + (
                f"; acknowledged by {record.acknowledged_by} at "
                f"{record.acknowledged_at.astimezone(zone):%a %d %b %H:%M}."
                if record.acknowledged_at and record.acknowledged_by
                else "; not acknowledged yet."
            )
        )
        if record.note:
            lines += ["", "> " + "\n> ".join(record.note.splitlines())]
        lines.append("")
    for title, items in handover_lines(report, zone):
        lines += [f"## {title} ({len(items)})", ""]
        lines += [f"* {item}" for item in items] or ["* none"]
        lines.append("")
    return "\n".join(lines)
