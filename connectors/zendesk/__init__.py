"""Zendesk Support: tickets through the cursor-based incremental export."""

from connectors.zendesk.connector import ZendeskConnector

__all__ = ["ZendeskConnector"]
