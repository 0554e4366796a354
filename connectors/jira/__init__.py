"""Jira Cloud and Jira Service Management: issues by JQL, SLAs from the JSM API."""

from connectors.jira.connector import JiraConnector

__all__ = ["JiraConnector"]
