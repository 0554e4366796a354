"""Status.io public status pages: ``/1.0/status/{page_id}``, as one snapshot.

Kind ``statusio``. Built on the status-feed kit (:mod:`connectors.feeds`).
"""

from connectors.statusio.connector import StatusioConnector

__all__ = ["StatusioConnector"]
