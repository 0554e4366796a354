"""When the vendor's own SLA word contradicts the contract clock (DESIGN: show both, flag it).

The contract is the customer's; where a vendor reports a due time or a
breach flag of its own, a view shows both and marks the ticket when they
disagree. This is the one rule for that mark.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from paneglass.sla.states import ClockState, live_state

__all__ = ["DISAGREE_AFTER", "vendor_disagrees"]

DISAGREE_AFTER = timedelta(minutes=15)
"""How far the vendor's due time may drift from the contract's before it is flagged."""


def vendor_disagrees(
    *,
    state: ClockState,
    due_at: datetime | None,
    vendor_breached: bool | None,
    vendor_due_at: datetime | None,
    now: datetime,
) -> bool:
    """Does the vendor's breach flag or due time contradict the contract clock at ``now``?"""
    breached = live_state(state, due_at, now) is ClockState.BREACHED
    if vendor_breached is not None and vendor_breached != breached:
        return True
    if vendor_due_at is not None and due_at is not None:
        return abs(vendor_due_at - due_at) > DISAGREE_AFTER
    return False
