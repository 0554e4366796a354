"""Salesforce Service Cloud: cases by SOQL (``SystemModstamp``), ``CaseMilestone`` as the
vendor's SLA, ``CaseComment`` and ``EmailMessage`` as the conversation, deletions from
getDeleted, over OAuth 2.0 client credentials."""

from connectors.salesforce.connector import SalesforceConnector

__all__ = ["SalesforceConnector"]
