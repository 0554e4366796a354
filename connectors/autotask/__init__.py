"""Autotask PSA (Datto/Kaseya): tickets through the zone's REST ``Tickets/query``."""

from connectors.autotask.connector import AutotaskConnector

__all__ = ["AutotaskConnector"]
