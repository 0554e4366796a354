"""The demo's config: the running world's vendors under the demo's contract and rules.

Built in each process from the vendors alone (the demo's process sends only
those to the console; the contract holds memos that stay in their process).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from connectors import VendorConfig
from paneglass.config import Config, DisplayConfig
from paneglass.demo.notify import DEMO_NOTIFY
from paneglass.demo.notify import DEMO_SLA as NOTIFY_SLA
from paneglass.sla import SlaSettings

__all__ = ["DEMO_SLA", "demo_config"]

DEMO_SLA = SlaSettings(tuple(replace(p, pause_in_maintenance=True) for p in NOTIFY_SLA.policies))
"""The demo's targets (the built-in ones behind a fast major-incident contract), paused
while a vendor's status feed announces maintenance."""


def demo_config(vendors: Iterable[VendorConfig]) -> Config:
    """The demo's config over these vendors."""
    return Config(
        display=DisplayConfig(),
        vendors=tuple(vendors),
        demo=True,
        sla=DEMO_SLA,
        notify=DEMO_NOTIFY,
    )
