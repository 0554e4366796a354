"""ConnectWise PSA (Manage): service tickets through the REST 3.0 API."""

from connectors.connectwise.connector import ConnectWiseConnector

__all__ = ["ConnectWiseConnector"]
