"""Instatus status pages: ``summary.json`` plus ``/api/v2/components.json``, as one snapshot.

Kind ``instatus``. Built on the status-feed kit (:mod:`connectors.feeds`).
"""

from connectors.instatus.connector import InstatusConnector

__all__ = ["InstatusConnector"]
