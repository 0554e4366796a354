"""The shared kit of the public status feeds (Statuspage, Google, AWS, Azure, incident.io, …).

A status feed has no tickets and no change feed: each poll reads one
published snapshot (a JSON document, an RSS channel) and maps it onto
:class:`~connectors.records.StatusSnapshot`. What every such source shares
lives here, one concept per module:

* :mod:`connectors.feeds.connector`: :class:`StatusFeedConnector`, the base
  whose ``pages()`` yields the one snapshot page of a poll;
* :mod:`connectors.feeds.documents`: conditional GETs (``ETag`` /
  ``Last-Modified`` kept in the cursor, ``304`` means unchanged);
* :mod:`connectors.feeds.payload`: strict reading of a vendor's document
  (byte-order marks and declared charsets, vendor-named :class:`BadPayload`);
* :mod:`connectors.feeds.rollup`: the shared vocabulary (indicator, impact,
  incident and maintenance statuses) and the worst-of rollup;
* :mod:`connectors.feeds.settings`: the settings every feed shares.

Kinds built on it: ``statuspage``, ``google_status`` (Google Cloud and Google
Workspace), ``aws_health``, ``azure_status``, ``incidentio``, ``instatus`` and
``statusio``. Kind names are Python identifiers because the emulator of a kind
is the module ``connectors.emulators.<kind>``.
"""

from connectors.feeds.connector import StatusFeedConnector
from connectors.feeds.settings import StatusFeedSettings

__all__ = ["StatusFeedConnector", "StatusFeedSettings"]
