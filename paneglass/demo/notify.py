"""The demo's contract and rules: a major incident whose response clock runs out in minutes.

The demo world opens a P1 in the "Major Incident" group a moment after it
starts (and another every ten minutes); its two-minute response target is
crossed at 50 %, 75 % and 100 % while you watch, and the demo's rules toast
and ring at each step. ``paneglass demo --config FILE`` replaces these rules
with the file's ``[notify]`` (e.g. a webhook on 127.0.0.1, see the README).
"""

from __future__ import annotations

from datetime import timedelta

from paneglass.notify.events import ALIASES, Event
from paneglass.notify.rules import NotifySettings, Rule
from paneglass.sla import DEFAULT_SETTINGS, Policy, SlaSettings

__all__ = ["DEMO_NOTIFY", "DEMO_SLA", "MAJOR_INCIDENT_GROUP"]

MAJOR_INCIDENT_GROUP = "Major Incident"

DEMO_SLA = SlaSettings(
    (
        Policy(
            "Major incident (demo)",
            response=timedelta(minutes=2),
            resolution=timedelta(minutes=30),
            priorities=frozenset({"P1"}),
            groups=frozenset({MAJOR_INCIDENT_GROUP.lower()}),
        ),
        *DEFAULT_SETTINGS.policies,
    )
)
"""The built-in targets, with a fast major-incident contract in front of them."""

DEMO_NOTIFY = NotifySettings(
    rules=(
        Rule(
            name="P1 SLA",
            events=ALIASES["sla"],
            channels=("toast", "bell"),
            priorities=frozenset({"P1"}),
        ),
        Rule(
            name="New P1/P2",
            events=frozenset({Event.TICKET_NEW}),
            channels=("toast",),
        ),
        Rule(
            name="Vendors",
            events=ALIASES["vendor"] | ALIASES["connector"],
            channels=("toast",),
        ),
    )
)
"""What the demo notifies (``[[notify.rules]]`` of a config given to ``paneglass demo``
replace these)."""
