"""PagerDuty REST API v2 incidents."""

from connectors.pagerduty.connector import PagerDutyConnector

__all__ = ["PagerDutyConnector"]
