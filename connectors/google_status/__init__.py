"""Google Cloud and Google Workspace status: the public incident history, as one snapshot.

Kind ``google_status``. Both dashboards publish the same ``incidents.json``
schema; ``base_url`` picks which (``https://status.cloud.google.com`` or
``https://www.google.com/appsstatus/dashboard``). Built on the status-feed
kit (:mod:`connectors.feeds`).
"""

from connectors.google_status.connector import GoogleStatusConnector

__all__ = ["GoogleStatusConnector"]
