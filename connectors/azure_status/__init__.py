"""Microsoft Azure status: the public RSS feed of active incidents, as one snapshot.

Kind ``azure_status``. The feed lists active incidents only, so an empty feed
means healthy, but only while the feed proves it is alive: its
``lastBuildDate`` must be recent (``max_feed_age_seconds``). Built on the
status-feed kit (:mod:`connectors.feeds`).
"""

from connectors.azure_status.connector import AzureStatusConnector

__all__ = ["AzureStatusConnector"]
