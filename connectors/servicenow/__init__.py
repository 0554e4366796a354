"""ServiceNow: incidents from the Table API, vendor SLAs from ``task_sla``, comments and
work notes from ``sys_journal_field``, attachment metadata from ``sys_attachment``."""

from connectors.servicenow.connector import ServiceNowConnector

__all__ = ["ServiceNowConnector"]
