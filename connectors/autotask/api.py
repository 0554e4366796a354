"""Autotask's REST plumbing: the tenant's zone, pacing under the hourly threshold, paged queries.

A tenant lives in one zone: the first call asks ``zoneInformation`` which
``webservicesN`` host serves the API user, and every later call goes there.
Zone and page URLs come from the vendor's answers while our credentials ride
on every request, so a URL is followed only to the configured host, to a host
of Autotask's documented ``webservicesN.autotask.net`` pattern when the
configured host is one too, or to loopback when the configured host is
loopback; anything else is refused before a byte is sent.

A query is ``POST V1.0/{Entity}/query`` with ``MaxRecords``, ``IncludeFields``
and a ``filter``; Autotask answers in id order and continues with
``pageDetails.nextPageUrl``, POSTed with the same body (a live tenant answers
405 to a GET there). A short or empty page with a next URL is not the end:
rows the API user's security level hides still count against ``MaxRecords``.
``V1.0/{Entity}/query/count`` answers ``{"queryCount": N}`` for the same filter.

Pacing: Autotask sends no rate-limit headers. It allows 10,000 requests per
rolling hour per database, shared by every integration, slows answers past
half of that and refuses all integrations at the cap. So :meth:`AutotaskApi.pace`
reads ``ThresholdInformation`` (only every five minutes while usage is under
half), feeds the reading into :class:`RateBudget` and counts its own requests
down from it: past three quarters used, every request waits a second; at the
cap the poll stops with :class:`RateLimited` instead of adding to an outage
every integration shares.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx2

from connectors.autotask.mapping import Picklists, display_name
from connectors.autotask.settings import AutotaskSettings
from connectors.base import VendorConfig
from connectors.errors import (
    AuthError,
    BadPayload,
    ConfigurationError,
    ConnectorError,
    RateLimited,
)
from connectors.http import RateBudget, RateHeaders, decode_json, send
from connectors.sanitize import clean_text, one_line

__all__ = [
    "IN_CHUNK",
    "NAME_FIELDS",
    "AutotaskApi",
    "Page",
    "Zone",
    "chunks",
    "is_trusted_api_url",
    "is_trusted_web_url",
]

ZONE_PATH = "/atservicesrest/v1.0/zoneInformation"
API_VERSION = "V1.0/"
IN_CHUNK = 250
"""Values per ``in`` condition: half the documented cap of 500 conditions per query, so a
page of 500 tickets costs two sub-queries per child entity."""
PICKLIST_TTL = 3600.0
"""Seconds before the tenant's picklists are read again (admins add queues and statuses)."""
THRESHOLD_RECHECK = 300.0
"""Seconds between ``ThresholdInformation`` reads while usage stays under half."""
THRESHOLD_SLOW_SHARE = 0.25
"""Remaining share of the hourly threshold below which every request waits a second."""
THRESHOLD_RETRY = 300.0
"""Seconds to wait when the tenant is at its cap (the window rolls; there is no reset time)."""
THRESHOLD_HEADERS = RateHeaders(remaining="threshold-remaining", limit="threshold-limit")
"""Names under which the ``ThresholdInformation`` reading is fed to the budget.

Autotask sends no such headers, so :meth:`RateBudget.observe` never finds them
on a response and only the connector's own readings change the budget.
"""
NAME_CACHE_LIMIT = 50_000
"""Names kept per entity; past this the cache starts again (memory stays bounded)."""
NAME_FIELDS: Mapping[str, tuple[str, ...]] = {
    "Resources": ("id", "firstName", "lastName"),
    "Contacts": ("id", "firstName", "lastName"),
    "Companies": ("id", "companyName"),
    "ConfigurationItems": ("id", "referenceTitle"),
}

_AUTOTASK_API_HOST = re.compile(r"^webservices\d*\.autotask\.net$")
_AUTOTASK_WEB_HOST = re.compile(r"^[a-z0-9-]+\.autotask\.net$")

Filter = list[dict[str, Any]]


@dataclass(frozen=True)
class Zone:
    """Where the tenant lives: the API root (ends in ``/``) and, when safe, the web UI root."""

    name: str
    api_url: str
    web_url: str | None

    def endpoint(self, path: str) -> str:
        """``V1.0/{path}`` under the zone's API root."""
        return f"{self.api_url}{API_VERSION}{path}"


@dataclass(frozen=True)
class Page:
    """One answer of a paged query: its items, and whether the vendor offered more."""

    items: tuple[Mapping[str, Any], ...]
    more: bool


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_trusted_api_url(url: str, base_url: str) -> bool:
    """May our credentials be sent to ``url``, given the configured ``base_url``?"""
    target, base = urlsplit(url), urlsplit(base_url)
    if target.scheme not in ("http", "https") or not target.hostname or target.username:
        return False
    if _is_loopback(base.hostname):
        return _is_loopback(target.hostname)
    if target.scheme != "https":
        return False
    if target.hostname == base.hostname and target.port == base.port:
        return True
    return (
        target.port is None
        and _AUTOTASK_API_HOST.match(target.hostname) is not None
        and _AUTOTASK_API_HOST.match(base.hostname or "") is not None
    )


def is_trusted_web_url(url: str, base_url: str) -> bool:
    """May ticket links point at ``url``: loopback for a loopback base, else Autotask https."""
    target, base = urlsplit(url), urlsplit(base_url)
    if target.scheme not in ("http", "https") or not target.hostname or target.username:
        return False
    if target.query or target.fragment:
        return False
    if _is_loopback(base.hostname):
        return _is_loopback(target.hostname)
    if target.scheme != "https":
        return False
    return target.hostname == base.hostname or (
        target.port is None and _AUTOTASK_WEB_HOST.match(target.hostname) is not None
    )


def chunks(values: Sequence[int], size: int = IN_CHUNK) -> list[list[int]]:
    """``values`` cut into lists of at most ``size`` (one ``in`` condition each)."""
    return [list(values[start : start + size]) for start in range(0, len(values), size)]


class AutotaskApi:
    """One tenant's REST API as the connector and its write-back use it."""

    def __init__(
        self, config: VendorConfig, settings: AutotaskSettings, client: httpx2.AsyncClient
    ) -> None:
        self.config = config
        self.settings = settings
        self.client = client
        self.budget = RateBudget(THRESHOLD_HEADERS, low_share=THRESHOLD_SLOW_SHARE)
        """Paces requests from the tenant's ``ThresholdInformation`` reading."""
        self.threshold_checked_at: float | None = None
        self.zone: Zone | None = None
        """The tenant's zone, looked up once per connector instance."""
        self.requests = 0
        """Requests sent so far (pages report the difference)."""
        self._picklists: dict[str, tuple[float, Mapping[str, Mapping[str, str]]]] = {}
        self._names: dict[str, dict[int, str | None]] = {}
        self._names_refused: set[str] = set()

    # -- zone and pacing -------------------------------------------------------------

    async def tenant_zone(self) -> Zone:
        """The tenant's zone, asked once per instance, every URL in it vetted."""
        if self.zone is not None:
            return self.zone
        url = f"{_service_root(self.config.base_url)}{ZONE_PATH}"
        body = await self.get(url, params={"user": self.settings.username or ""})
        api_url = body.get("url")
        if not isinstance(api_url, str) or not api_url.strip():
            raise BadPayload("Autotask zoneInformation named no API url for this user")
        api_url = _tidy_api_url(api_url)
        if not is_trusted_api_url(api_url, self.config.base_url):
            raise ConfigurationError(
                f"vendor {self.config.name!r}: Autotask zoneInformation points at "
                f"{_host(api_url)!r}, which is neither the configured host nor an Autotask "
                "webservices host; set base_url to your zone's host"
            )
        web_url = body.get("webUrl")
        safe_web = (
            web_url.strip()
            if isinstance(web_url, str)
            and is_trusted_web_url(web_url.strip(), self.config.base_url)
            else None
        )
        name = body.get("zoneName")
        self.zone = Zone(
            name=name.strip() if isinstance(name, str) and name.strip() else _host(api_url),
            api_url=api_url,
            web_url=safe_web,
        )
        return self.zone

    async def pace(self) -> None:
        """Read ``ThresholdInformation`` when due, and stop at the tenant's cap."""
        zone = await self.tenant_zone()
        checked = self.threshold_checked_at
        limit, remaining = self.budget.limit, self.budget.remaining
        relaxed = limit is not None and remaining is not None and remaining > limit / 2
        if checked is not None and relaxed and time.monotonic() - checked < THRESHOLD_RECHECK:
            return
        try:
            body = await self.get(zone.endpoint("ThresholdInformation"))
        except ConnectorError as exc:
            if not optional_extra_failed(exc):
                raise
            return  # pacing is advisory: a refused reading must not stop ticket polling
        threshold = _count(body.get("externalRequestThreshold"))
        used = _count(body.get("currentTimeframeRequestCount"))
        if threshold is None or used is None or threshold <= 0:
            return
        self.threshold_checked_at = time.monotonic()
        self.budget.observe(
            {
                THRESHOLD_HEADERS.remaining: str(max(threshold - used, 0)),
                str(THRESHOLD_HEADERS.limit): str(threshold),
            }
        )
        if used >= threshold:
            raise RateLimited(
                f"Autotask API threshold reached: {used:,} of {threshold:,} requests "
                "in the rolling hour",
                retry_after=THRESHOLD_RETRY,
                http_status=None,
            )

    # -- picklists and names ------------------------------------------------------------

    async def picklists(self, entity: str) -> Mapping[str, Mapping[str, str]]:
        """``{field (lower case): {code: label}}`` of an entity, cached for an hour.

        A refused or odd answer leaves it empty (codes still map; raw values show
        the code).
        """
        cached = self._picklists.get(entity)
        if cached is not None and time.monotonic() - cached[0] < PICKLIST_TTL:
            return cached[1]
        zone = await self.tenant_zone()
        try:
            body = await self.get(zone.endpoint(f"{entity}/entityInformation/fields"))
            lists = Picklists.labels_of(body)
        except ConnectorError as exc:
            if not optional_extra_failed(exc):
                raise
            lists = {}
        self._picklists[entity] = (time.monotonic(), lists)
        return lists

    async def ticket_picklists(self) -> Picklists:
        """Status, priority and queue labels of the tenant's tickets."""
        return Picklists.from_labels(await self.picklists("Tickets"))

    async def names_of(self, entity: str, ids: Iterable[int]) -> Mapping[int, str]:
        """Names for ``ids``, from a per-instance cache plus ``in`` queries for the rest."""
        cache = self._names.setdefault(entity, {})
        wanted = set(ids)
        missing = sorted(wanted - cache.keys())
        if missing and self.settings.resolve_names and entity not in self._names_refused:
            if len(cache) + len(missing) > NAME_CACHE_LIMIT:
                cache.clear()
            try:
                for chunk in chunks(missing):
                    cache.update(dict.fromkeys(chunk))  # ids we may not see stay unnamed
                    query = [{"op": "in", "field": "id", "value": chunk}]
                    async for row in self.query(entity, query, NAME_FIELDS[entity]):
                        row_id = row.get("id")
                        if isinstance(row_id, int) and not isinstance(row_id, bool):
                            cache[row_id] = display_name(entity, row)
            except ConnectorError as exc:
                if not optional_extra_failed(exc):
                    raise
                self._names_refused.add(entity)  # this security level cannot read them
        return {i: name for i in wanted if (name := cache.get(i))}

    # -- queries -----------------------------------------------------------------------------

    async def pages(
        self, entity: str, query: Filter, fields: Iterable[str]
    ) -> AsyncGenerator[Page, None]:
        """Every page of one query, following ``nextPageUrl`` until it is null."""
        zone = await self.tenant_zone()
        body = {
            "MaxRecords": self.settings.page_size,
            "IncludeFields": list(fields),
            "filter": query,
        }
        url = zone.endpoint(f"{entity}/query")
        visited = {url}
        for _ in range(self.settings.max_pages):
            answer = await self.post(url, body)
            items = answer.get("items")
            if not isinstance(items, list):
                raise BadPayload(f"Autotask {entity} query answer has no items list")
            for item in items:
                if not isinstance(item, Mapping):
                    raise BadPayload(f"Autotask {entity} query item is not an object")
            details = answer.get("pageDetails")
            next_url = details.get("nextPageUrl") if isinstance(details, Mapping) else None
            if next_url is not None and next_url != "" and not isinstance(next_url, str):
                raise BadPayload("Autotask nextPageUrl is not text")
            more = bool(next_url)
            yield Page(tuple(items), more)
            if not more:
                return
            assert isinstance(next_url, str)
            url = self._next_page_url(zone, next_url)
            if url in visited:
                raise BadPayload("Autotask nextPageUrl repeats a page already read: no progress")
            visited.add(url)
        raise BadPayload(f"Autotask offered more than {self.settings.max_pages} pages")

    async def query(
        self, entity: str, query: Filter, fields: Iterable[str]
    ) -> AsyncIterator[Mapping[str, Any]]:
        """Every item of one query (small lookups: names, a hand-off's externalID)."""
        async for page in self.pages(entity, query, fields):
            for item in page.items:
                yield item

    async def collect(
        self, entity: str, query: Filter, fields: Iterable[str]
    ) -> list[Mapping[str, Any]]:
        """Every item of one query as a list (one fan-out job)."""
        return [item async for item in self.query(entity, query, fields)]

    async def count(self, entity: str, query: Filter) -> int | None:
        """``query/count`` for the filter; ``None`` when the tenant will not say."""
        zone = await self.tenant_zone()
        try:
            body = await self.post(zone.endpoint(f"{entity}/query/count"), {"filter": query})
        except ConnectorError as exc:
            if not optional_extra_failed(exc):
                raise
            return None
        return _count(body.get("queryCount"))

    def _next_page_url(self, zone: Zone, next_url: str) -> str:
        """The next page's absolute URL, only on the zone's own API host and path."""
        url = next_url.strip()
        if not urlsplit(url).scheme:
            url = urljoin(zone.endpoint(""), url.lstrip("/"))
        target, api = urlsplit(url), urlsplit(zone.api_url)
        same_origin = (target.scheme, target.netloc.lower()) == (api.scheme, api.netloc.lower())
        if not same_origin or not target.path.lower().startswith(api.path.lower()):
            raise BadPayload(
                f"Autotask nextPageUrl leaves the zone's API ({_host(url)!r}); not followed"
            )
        return url

    # -- HTTP ------------------------------------------------------------------------------

    async def get(self, url: str, params: dict[str, str] | None = None) -> Mapping[str, Any]:
        self.requests += 1
        response = await send(self.client, "GET", url, params=params, budget=self.budget)
        return self.answer(response, url)

    async def post(self, url: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        self.requests += 1
        response = await send(self.client, "POST", url, json_body=body, budget=self.budget)
        return self.answer(response, url)

    def spend(self) -> None:
        """One request of the hour's budget is gone."""
        if self.budget.remaining is not None:
            self.budget.remaining = max(self.budget.remaining - 1, 0)

    def answer(self, response: httpx2.Response, url: str) -> Mapping[str, Any]:
        """The JSON object of a 2xx answer; each request also spends one of the hour's budget."""
        self.spend()
        body = decode_json(response)
        if not isinstance(body, Mapping):
            raise BadPayload(f"Autotask {urlsplit(url).path} answer is not a JSON object")
        errors = body.get("errors")
        if isinstance(errors, list) and errors and "items" not in body and "item" not in body:
            text = one_line(clean_text(str(errors[0])), 160)
            raise ConnectorError(
                f"HTTP {response.status_code}: {text}", http_status=response.status_code
            )
        return body


def optional_extra_failed(exc: ConnectorError) -> bool:
    """True when a failed extra (threshold, picklists, names, a count) may be skipped.

    That is a refusal or an odd answer: a 403 or other 4xx, or a body we cannot
    read. A 401, a rate limit or a transient failure stops the poll as usual.
    """
    if isinstance(exc, AuthError):
        return exc.http_status == 403
    return type(exc) is ConnectorError or isinstance(exc, BadPayload)


def _tidy_api_url(url: str) -> str:
    """The zone's API root with one trailing slash and no doubled ones (some zones send ``//``)."""
    parts = urlsplit(url.strip())
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/") + "/"
    return parts._replace(path=path).geturl()


def _service_root(base_url: str) -> str:
    """``base_url`` without any ``/atservicesrest…`` suffix (docs print it either way)."""
    root = base_url.strip().rstrip("/")
    lowered = root.lower()
    index = lowered.find("/atservicesrest")
    return root[:index] if index >= 0 else root


def _host(url: str) -> str:
    return urlsplit(url).netloc or url[:60]


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None
