"""incident.io status pages: the Statuspage-compatible summary plus the widget API.

Kind ``incidentio``. Built on the status-feed kit (:mod:`connectors.feeds`).
"""

from connectors.incidentio.connector import IncidentioConnector

__all__ = ["IncidentioConnector"]
