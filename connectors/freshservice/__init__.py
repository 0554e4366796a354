"""Freshservice: the filter endpoint and ``updated_since`` list passes, conversations per ticket."""

from connectors.freshservice.connector import FreshserviceConnector

__all__ = ["FreshserviceConnector"]
