"""ServiceNow: incidents from the Table API, with vendor SLAs from ``task_sla``."""

from connectors.servicenow.connector import ServiceNowConnector

__all__ = ["ServiceNowConnector"]
