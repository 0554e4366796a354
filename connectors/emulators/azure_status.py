"""Azure's public status RSS feed on loopback: ``/en-us/status/feed/``.

The channel has the shape of the real capture (``azure-status-feed.xml``;
``vendor-apis-2.md`` §4.9): ``<rss version="2.0">`` with the Atom namespace as
``a10``, a channel ``title``/``link``/``description``/``language`` and a
``lastBuildDate`` in RFC 822 with a bare ``Z`` zone, rebuilt every minute (the
clock's minute; set :attr:`AzureStatusEmulator.frozen_at` to play a feed that
is no longer rebuilt). It lists **active incidents only**: no ``<item>`` when
all is well.

Each open incident is an ``<item>`` with ``title``, ``link``, ``guid``
(``isPermaLink="false"``), ``pubDate``, ``description`` (HTML),
one ``category`` per affected component and ``a10:updated``. These item
fields are assumed from RSS 2.0 and other clients' parsers; no captured item
confirms them [U]. Resolved incidents and maintenance windows are not listed
(no maintenance has been seen in this feed [U]).

Like a careless feed, text goes out escaped for XML markup (``<``, ``&``) but
not filtered: a control character in a title reaches the wire as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import ClassVar
from xml.sax.saxutils import escape

from connectors.emulators._status_feed import (
    DEFAULT_COMPONENTS,
    Document,
    FeedEvent,
    StatusFeedEmulator,
    _utc_now,
)

__all__ = ["EMULATOR", "AzureStatusEmulator", "rfc822"]

CONTENT_TYPE = "application/rss+xml; charset=utf-8"
PAGE = "https://azure.status.microsoft/en-us/status/"


def rfc822(value: datetime) -> str:
    """``Sat, 01 Aug 2026 00:22:00 Z``: Azure's date form (RFC 822 with a bare ``Z``)."""
    return value.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S Z")


class AzureStatusEmulator(StatusFeedEmulator):
    """``azure.status.microsoft``'s RSS feed of active incidents."""

    kind: ClassVar[str] = "azure_status"
    id_alphabet: ClassVar[str] = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    id_length: ClassVar[int] = 7

    def __init__(
        self,
        *,
        components: Iterable[tuple[str, str | None]] = DEFAULT_COMPONENTS,
        clock: Callable[[], datetime] = _utc_now,
        latency: float = 0.0,
        validators: Sequence[str] = ("etag", "last_modified"),
        frozen_at: datetime | None = None,
    ) -> None:
        self.frozen_at = frozen_at
        """When set, ``lastBuildDate`` stays at this time: a feed nobody rebuilds."""
        super().__init__(
            page_name="Azure Status",
            components=components,
            clock=clock,
            latency=latency,
            validators=validators,
        )

    def __enter__(self) -> AzureStatusEmulator:
        self.start()
        return self

    def documents(self) -> dict[str, Callable[[], Document]]:
        """The feed (with and without its trailing slash)."""
        return {"/en-us/status/feed/": self._render, "/en-us/status/feed": self._render}

    def render_key(self, path: str) -> object:
        """The feed is rebuilt every minute, changed or not."""
        return self.frozen_at or self.clock().replace(second=0, microsecond=0)

    def built_at(self) -> datetime:
        """The ``lastBuildDate`` a request now would see."""
        return self.frozen_at or self.clock().replace(second=0, microsecond=0)

    # -- wire format -------------------------------------------------------------

    def _render(self) -> Document:
        items = "".join(self._item(e) for e in self.open_events(maintenance=False))
        text = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<rss xmlns:a10="http://www.w3.org/2005/Atom" version="2.0">'
            '<channel xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            "<title>Azure Status</title>"
            f"<link>{PAGE}</link>"
            "<description>Azure Status</description>"
            "<language>en-us</language>"
            f"<lastBuildDate>{rfc822(self.built_at())}</lastBuildDate>"
            f"{items}"
            "</channel></rss>"
        )
        return Document(text.encode("utf-8", "surrogatepass"), CONTENT_TYPE)

    def _item(self, event: FeedEvent) -> str:
        categories = "".join(
            f"<category>{escape(c.name)}</category>" for c in self.affected_components(event)
        )
        latest = event.updates[0].body if event.updates else ""
        return (
            "<item>"
            f'<guid isPermaLink="false">{event.id}</guid>'
            f"<link>{PAGE}?trackingId={event.id}</link>"
            f"<title>{escape(event.name)}</title>"
            f"<description>{escape('<p>' + latest + '</p>')}</description>"
            f"<pubDate>{rfc822(event.created_at)}</pubDate>"
            f"{categories}"
            f"<a10:updated>{event.updated_at.astimezone(UTC).isoformat(timespec='seconds')}"
            "</a10:updated>"
            "</item>"
        )


EMULATOR = AzureStatusEmulator
