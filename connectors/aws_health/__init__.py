"""AWS Health Dashboard (public): current service events, as one snapshot.

Kind ``aws_health``; the public feed behind ``health.aws.amazon.com``, no AWS
account needed (the authenticated AWS Health API is another product). Built
on the status-feed kit (:mod:`connectors.feeds`).
"""

from connectors.aws_health.connector import AwsHealthConnector

__all__ = ["AwsHealthConnector"]
