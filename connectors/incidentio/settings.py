"""Every setting the incident.io connector reads, typed and checked once at config load.

::

    [vendors.openai-status]
    kind = "incidentio"
    base_url = "https://status.openai.com"
    widget = true          # read /api/v1/summary too (the page owner must enable it)

With ``widget = true`` (the default) each poll reads two documents: the
Statuspage-compatible ``/api/v2/summary.json`` (page rollup and every
component) and the widget API ``/api/v1/summary`` (ongoing incidents,
in-progress and scheduled maintenances, with their affected components). The
widget exists only when the page owner has switched it on; a page without it
answers 404 there, and ``widget = false`` then reads the v2 summary alone
(its incidents and maintenances, when it carries any).
"""

from __future__ import annotations

from connectors.feeds.settings import StatusFeedSettings

__all__ = ["IncidentioSettings"]


class IncidentioSettings(StatusFeedSettings):
    """A ``[vendors.NAME]`` section of kind ``incidentio``."""

    widget: bool = True
    """Also read the widget API for incidents and maintenance windows."""
