"""ConnectWise PSA (Manage): service tickets and their notes through the REST 3.0 API.

``connector`` reads (two-phase keyset sync, notes fan-out), ``actions`` writes
(dry run from settings alone), ``mapping`` turns vendor JSON into records,
``settings`` declares every key of the vendor's config section.
"""

from connectors.connectwise.connector import ConnectWiseConnector
from connectors.connectwise.settings import ConnectWiseSettings

__all__ = ["ConnectWiseConnector", "ConnectWiseSettings"]
