"""Atlassian Statuspage: public components, incidents and scheduled maintenances, as one snapshot.

Kind ``statuspage``; built on the status-feed kit (:mod:`connectors.feeds`).
"""

from connectors.statuspage.connector import StatuspageConnector

__all__ = ["StatuspageConnector"]
