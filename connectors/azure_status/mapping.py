"""Azure's status RSS feed → :class:`StatusSnapshot`, as pure functions.

The feed (``vendor-apis-2.md`` §4.9, the ``azure-status-feed.xml`` capture) is
RSS 2.0 listing **active incidents only**: the healthy state is a channel with
no ``<item>`` at all. An abandoned or broken feed is empty too, so emptiness
is believed only while ``lastBuildDate``, which Azure rebuilds about every
minute, is recent: an older one raises :class:`BadPayload` and the vendor
shows as failing rather than falsely green.

``lastBuildDate`` is an RFC 822 date with a bare ``Z`` zone
(``Sat, 01 Aug 2026 00:22:00 Z``); :func:`email.utils.parsedate_to_datetime`
reads ``Z`` as UTC (checked here, Python 3.11).

Each ``<item>`` becomes an incident: id its ``guid`` (else its ``link``, else a
digest of title and date), name its ``title``, latest update its
``description`` (HTML, made plain), created at its ``pubDate``, updated at its
Atom ``a10:updated`` where present, status ``active``, affected components its
``<category>`` values. Item fields are not confirmed by a captured item [U];
the impact of an item is not published and is taken as ``major`` [U]: the page
lists only incidents of broad impact. No maintenance windows are read from
this feed [U: none seen].

Parsing is defensive: a document with a DTD (``<!DOCTYPE``/``<!ENTITY``) is
refused before it reaches the XML parser, and characters XML 1.0 forbids
(raw C0 controls a careless feed might carry) are dropped first, so one bad
title cannot hide every incident.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree

from connectors.errors import BadPayload
from connectors.feeds.payload import PayloadReader, decode_text
from connectors.feeds.rollup import ACTIVE, rollup
from connectors.records import IncidentRecord, StatusSnapshot
from connectors.richtext import html_to_text

__all__ = ["ATOM", "IMPACT", "check_fresh", "feed_to_snapshot", "parse_rfc822"]

READ = PayloadReader("Azure status")
ATOM = "{http://www.w3.org/2005/Atom}"
IMPACT = "major"
"""The impact an item is given (Azure publishes none)."""
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_DTD = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_rfc822(value: str | None, what: str) -> datetime | None:
    """An RSS date (``Sat, 01 Aug 2026 00:22:00 Z``) as aware UTC; None when absent."""
    if value is None or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        raise READ.fail(f"{what} is not an RFC 822 date: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise READ.fail(f"{what} has no zone: {value[:40]!r}")
    return parsed.astimezone(UTC)


def check_fresh(last_build: datetime, now: datetime, max_age: timedelta) -> None:
    """Refuse a feed not rebuilt within ``max_age``: its emptiness proves nothing."""
    age = now - last_build
    if age > max_age:
        minutes = int(age.total_seconds() // 60)
        raise BadPayload(
            f"Azure status feed was last rebuilt {minutes} min ago "
            f"(lastBuildDate {last_build.isoformat()}): an old feed is no proof of health"
        )


def _parse(content: bytes, content_type: str | None) -> ElementTree.Element:
    text = decode_text(content, content_type, "Azure status")
    if _DTD.search(text):
        raise READ.fail("feed carries a DTD; refused")
    text = _NOT_XML.sub("", text)
    if text.startswith("<?xml"):  # the declaration's encoding no longer applies to a str
        text = text[text.find("?>") + 2 :]
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise READ.fail(f"feed is not XML: {exc}") from None
    if root.tag != "rss":
        raise READ.fail(f"document is not RSS (root <{root.tag[:30]}>)")
    return root


def feed_to_snapshot(
    content: bytes,
    content_type: str | None,
    page_url: str,
    *,
    now: datetime,
    max_age: timedelta,
) -> StatusSnapshot:
    """Map the feed's bytes; refuse it when ``lastBuildDate`` is older than ``max_age``."""
    channel = _parse(content, content_type).find("channel")
    if channel is None:
        raise READ.fail("feed has no <channel>")
    last_build = parse_rfc822(channel.findtext("lastBuildDate"), "lastBuildDate")
    if last_build is None:
        raise READ.fail("feed has no lastBuildDate: an empty feed could not be trusted")
    check_fresh(last_build, now, max_age)
    incidents = tuple(_incident(item, page_url, last_build) for item in channel.findall("item"))
    indicator, description = rollup((), incidents)
    return StatusSnapshot(
        indicator=indicator,
        description=description,
        incidents=incidents,
        page_url=page_url,
        updated_at=last_build,
    )


def _incident(item: ElementTree.Element, page_url: str, last_build: datetime) -> IncidentRecord:
    title = READ.text(item.findtext("title"), "item title").strip()
    published = parse_rfc822(item.findtext("pubDate"), "item pubDate") or last_build
    updated = _atom_time(item.findtext(f"{ATOM}updated")) or published
    identity = _first(item.findtext("guid"), item.findtext("link"))
    if identity is None:
        identity = hashlib.sha256(f"{title}|{published.isoformat()}".encode()).hexdigest()[:24]
    description = item.findtext("description")
    categories: Iterable[str] = (c.text.strip() for c in item.findall("category") if c.text)
    return IncidentRecord(
        external_id=identity[:200],
        name=title,
        status=ACTIVE,
        impact=IMPACT,
        created_at=published,
        updated_at=max(updated, published),
        latest_update=html_to_text(description) if description else None,
        url=page_url,
        components=tuple(dict.fromkeys(c for c in categories if c)),
    )


def _first(*values: str | None) -> str | None:
    return next((v.strip() for v in values if v and v.strip()), None)


def _atom_time(value: str | None) -> datetime | None:
    try:
        return READ.time(value.strip() if value else None, "a10:updated")
    except BadPayload:
        return None  # an optional refinement of pubDate; a bad one is not worth the feed
