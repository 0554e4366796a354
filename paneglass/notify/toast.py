"""The toast channel: what each console shows for a firing (title, message, severity).

Text is cleaned vendor text shown with ``markup=False``; the severity follows
the event (a breach or a failure is an error toast, the rest a warning).
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.sanitize import clean_text, one_line
from paneglass.store import SendView

__all__ = ["Toast", "toast_for"]

_ERRORS = {"sla-breached", "connector-failing", "outbox-failed"}
_KIND_TITLES = {
    "first": "",
    "repeat": "again: ",
    "escalation": "escalated: ",
    "digest": "quiet-hours digest: ",
}


@dataclass(frozen=True)
class Toast:
    """One toast."""

    title: str
    message: str
    severity: str


def toast_for(send: SendView) -> Toast:
    """The toast for one firing."""
    prefix = _KIND_TITLES.get(send.kind, "")
    severity = "error" if send.event in _ERRORS else "warning"
    if send.kind == "digest":
        severity = "information"
    return Toast(
        title=f"{prefix}{send.rule}"[:60],
        message=one_line(clean_text(send.summary), 300),
        severity=severity,
    )
