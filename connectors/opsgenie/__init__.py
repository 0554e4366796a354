"""Opsgenie: alerts through the Alert API v2 list, newest change first."""

from connectors.opsgenie.connector import OpsgenieConnector

__all__ = ["OpsgenieConnector"]
