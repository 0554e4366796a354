"""When a ticket came under its policy: clocks start then, not retroactively from creation.

A ticket opened as P3 and raised to P1 at 10:00 gets the P1 contract's
clocks from 10:00 (as ServiceNow starts an SLA when its start condition first
holds, without "retroactive start"). Should the ticket leave the policy and
come back, its clocks start from the latest return: the time outside the
policy was not under this contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from paneglass.sla.policy import Policy

__all__ = ["FieldsChange", "covered_since"]


@dataclass(frozen=True)
class FieldsChange:
    """From ``at`` on, the ticket had this priority and group (as paneglass saw it)."""

    at: datetime
    priority: str | None
    group: str | None


def covered_since(
    policy: Policy, vendor: str, created_at: datetime, changes: Sequence[FieldsChange]
) -> datetime:
    """The start of the latest unbroken span in which ``policy`` covered the ticket.

    ``changes`` are the ticket's priority/group values in time order, the first
    one holding from creation. Without changes (or when the policy always
    covered it) the answer is ``created_at``.
    """
    since = created_at
    covered = True
    for change in sorted(changes, key=lambda c: c.at):
        now_covered = policy.matches(vendor, change.priority, change.group)
        if now_covered and not covered:
            since = max(change.at, created_at)
        covered = now_covered
    return since
