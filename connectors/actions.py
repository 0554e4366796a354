"""Write-back actions: what an operator asks a vendor to do, in vendor-neutral terms.

An :class:`Action` is plain data so it can wait in the store's outbox, survive
a restart and be shown to the operator before it is sent. A connector turns it
into :class:`PlannedRequest` s (the dry-run view: exactly what would go on the
wire, never the credentials, which live on the HTTP client) and, when the
outbox sends it, into an :class:`ActionResult` carrying the vendor's answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from connectors.errors import ConnectorError
from connectors.records import Priority, TicketStatus
from connectors.sanitize import clean_text, one_line

__all__ = [
    "Action",
    "ActionKind",
    "ActionResult",
    "Handoff",
    "PlannedRequest",
    "PriorityChoice",
    "UnsupportedAction",
    "vendor_priority",
]

_V = TypeVar("_V")


class ActionKind(StrEnum):
    """The write-back verbs paneglass knows; a connector supports a subset."""

    COMMENT = "comment"
    ASSIGN = "assign"
    SET_STATUS = "set_status"
    SET_PRIORITY = "set_priority"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    CREATE = "create"

    @property
    def label(self) -> str:
        """How the verb reads on screen and in the audit log."""
        return {
            ActionKind.COMMENT: "comment",
            ActionKind.ASSIGN: "assign",
            ActionKind.SET_STATUS: "set status",
            ActionKind.SET_PRIORITY: "set priority",
            ActionKind.ACKNOWLEDGE: "acknowledge",
            ActionKind.RESOLVE: "resolve",
            ActionKind.CREATE: "hand off (create)",
        }[self]


class UnsupportedAction(ConnectorError):
    """The vendor (or this connector) cannot do what was asked."""

    kind = "unsupported"


@dataclass(frozen=True)
class Handoff:
    """What a hand-off carries to the receiving vendor's new ticket."""

    title: str
    description: str
    source_vendor: str
    source_key: str
    source_external_id: str
    correlation: str
    """Stable reference to the source ticket (``desktop:4201``): the vendor's correlation
    field where it has one, and the dedupe key that makes a retried create safe."""
    requester: str | None = None
    asset: str | None = None
    priority: Priority | None = None
    source_url: str | None = None

    def body_text(self) -> str:
        """The new ticket's description: the operator's text, then where the work came from."""
        lines = [
            self.description.strip(),
            "",
            f"Handed over from {self.source_vendor} {self.source_key} ({self.correlation}).",
        ]
        if self.requester:
            lines.append(f"Requester: {self.requester}")
        if self.asset:
            lines.append(f"Asset: {self.asset}")
        if self.source_url:
            lines.append(f"Source: {self.source_url}")
        return "\n".join(lines).strip()


@dataclass(frozen=True)
class Action:
    """One write-back request, addressed to one ticket (or, for ``CREATE``, to a vendor)."""

    kind: ActionKind
    ticket_id: str | None = None
    """The target ticket's external id at the vendor (``None`` for ``CREATE``)."""
    ticket_key: str | None = None
    """The human key (Jira addresses issues by key; others by id)."""
    text: str = ""
    """Comment body, or the note that goes with a status change or resolution."""
    public: bool = False
    """For comments: visible to the requester (public reply) or internal only."""
    assignee: str = ""
    status: TicketStatus | None = None
    handoff: Handoff | None = None
    priority: Priority | None = None
    """For ``SET_PRIORITY``: the priority the ticket gets, as paneglass reads it (P1..P5)."""

    def __post_init__(self) -> None:
        if self.kind is ActionKind.CREATE:
            if self.handoff is None:
                raise ValueError("a create action needs a handoff")
        elif not self.ticket_id:
            raise ValueError(f"a {self.kind} action needs the target ticket's id")
        if self.kind is ActionKind.COMMENT and not self.text.strip():
            raise ValueError("a comment needs text")
        if self.kind is ActionKind.ASSIGN and not self.assignee.strip():
            raise ValueError("assign needs an assignee")
        if self.kind is ActionKind.SET_STATUS and self.status is None:
            raise ValueError("set status needs a status")
        if self.kind is ActionKind.SET_PRIORITY:
            if self.priority is None:
                raise ValueError("set priority needs a priority (P1..P5)")
            if self.text.strip():
                # No vendor's priority change carries a note: a comment is its own action.
                raise ValueError("set priority carries no note: add a comment for that")

    @property
    def idempotent(self) -> bool:
        """Whether sending twice leaves the vendor as sending once (a comment would double)."""
        return self.kind in (
            ActionKind.ASSIGN,
            ActionKind.SET_STATUS,
            ActionKind.SET_PRIORITY,
            ActionKind.ACKNOWLEDGE,
            ActionKind.RESOLVE,
        )

    def summary(self) -> str:
        """One line for tables and the audit log (operator text shortened, never markup)."""
        what = self.kind.label
        if self.kind is ActionKind.COMMENT:
            what += f" ({'public' if self.public else 'internal'}): {_short(self.text)}"
        elif self.kind is ActionKind.ASSIGN:
            what += f" to {_short(self.assignee)}"
        elif self.kind is ActionKind.SET_STATUS and self.status is not None:
            what += f" → {self.status.value}"
        elif self.kind is ActionKind.SET_PRIORITY and self.priority is not None:
            what += f" → {self.priority.value}"
        elif self.kind is ActionKind.CREATE and self.handoff is not None:
            what += f" from {self.handoff.source_vendor} {self.handoff.source_key}"
        elif self.text:
            what += f": {_short(self.text)}"
        return what

    def to_json(self) -> str:
        """The outbox's stored form."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Action:
        """Inverse of :meth:`to_json`."""
        data: dict[str, Any] = json.loads(text)
        handoff = data.pop("handoff", None)
        if handoff is not None:
            priority = handoff.pop("priority", None)
            handoff = Handoff(**handoff, priority=Priority(priority) if priority else None)
        status = data.pop("status", None)
        priority = data.pop("priority", None)  # absent from actions stored before it existed
        return cls(
            kind=ActionKind(data.pop("kind")),
            status=TicketStatus(status) if status else None,
            handoff=handoff,
            priority=Priority(priority) if priority else None,
            **data,
        )


@dataclass(frozen=True)
class PriorityChoice(Generic[_V]):
    """One value a vendor's priority field can take, and how this connector reads it back."""

    value: _V
    """What goes on the wire (a name, a code, an id)."""
    shown: str
    """How the value reads to an operator (``"High"``, ``"4 Urgent"``)."""
    reads_as: Priority | None
    """The priority a poll shows for a ticket with this value (``priority_map`` included)."""


def vendor_priority(vendor: str, wanted: Priority, choices: Iterable[PriorityChoice[_V]]) -> _V:
    """The first of ``choices`` that this connector reads back as ``wanted``.

    Setting a priority is the reading mapping run backwards: a value is sent
    only if the next poll would show the ticket at ``wanted``, so a "raise to
    P1" never quietly becomes a P2. Nothing reads as ``wanted``: an
    :class:`UnsupportedAction` naming what this vendor can express.
    """
    offered = list(choices)
    for choice in offered:
        if choice.reads_as is wanted:
            return choice.value
    can = ", ".join(f"{c.shown} ({c.reads_as.value})" for c in offered if c.reads_as is not None)
    raise UnsupportedAction(
        f"{vendor}: no priority here reads as {wanted.value} (priority_map included); "
        f"it can set {can or 'none that paneglass reads as P1..P5'}"
    )


@dataclass(frozen=True)
class PlannedRequest:
    """One HTTP request an action will send: the dry-run shows these verbatim."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra non-secret headers (PagerDuty's ``From``); auth never appears here."""
    note: str = ""
    """What is filled in at send time (e.g. a transition id looked up first)."""

    def describe(self) -> str:
        """The request as an operator reads it: method, path, query, headers, JSON body."""
        line = f"{self.method} {self.path}"
        if self.params:
            line += "?" + urlencode(dict(self.params))
        lines = [line]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body is not None:
            lines.append(json.dumps(self.body, indent=2, ensure_ascii=False))
        if self.note:
            lines.append(f"({self.note})")
        return "\n".join(lines)


@dataclass(frozen=True)
class ActionResult:
    """The vendor's answer to a sent action."""

    summary: str
    """One line: the HTTP status and what the vendor said or made."""
    http_status: int | None = None
    created_id: str | None = None
    """For ``CREATE``: the new ticket's external id."""
    created_key: str | None = None
    """For ``CREATE``: the new ticket's human key."""
    existing: bool = False
    """For ``CREATE``: the vendor already had a ticket with this correlation (no new one made)."""

    def __post_init__(self) -> None:
        # Vendor text (a created key, a message) is cleaned here, once, like every record.
        object.__setattr__(self, "summary", one_line(clean_text(self.summary), 300))
        for name in ("created_id", "created_key"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, one_line(clean_text(value), 120))


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
