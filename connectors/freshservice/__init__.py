"""Freshservice: tickets through the v2 list endpoint with ``updated_since``."""

from connectors.freshservice.connector import FreshserviceConnector

__all__ = ["FreshserviceConnector"]
