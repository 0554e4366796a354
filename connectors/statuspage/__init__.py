"""Atlassian Statuspage: public component and incident status, polled as one snapshot."""

from connectors.statuspage.connector import StatuspageConnector

__all__ = ["StatuspageConnector"]
