"""Conditional GETs of a feed's documents, with the validators kept in the cursor.

A public status document has no change feed, so every poll asks for all of it
but sends back the ``ETag`` (``If-None-Match``) and ``Last-Modified``
(``If-Modified-Since``) of the copy it last read. A ``304`` means unchanged
and costs the vendor, and us, almost nothing. A source read from two
documents (incident.io, Instatus) counts as unchanged only when both are; if
one changed, the other is read again in full, so a snapshot is always built
from complete documents.

Cursor shape (JSON, saved by the store with the snapshot)::

    {"feed": 1, "documents": {"/api/v2/summary.json": {"etag": "\\"ab12\\"",
                                                       "last_modified": null}},
     ...the connector's own keys...}

A cursor of any other shape, or of another ``feed`` version (a connector that
now maps more of the document), sends no validators: the next poll reads
everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2

from connectors.errors import BadPayload, ConnectorError
from connectors.fanout import Limiter
from connectors.http import send
from connectors.records import Cursor
from connectors.sanitize import clean_text, one_line

__all__ = ["Document", "Fetched", "Validators", "dump_cursor", "fetch_documents", "load_validators"]


@dataclass(frozen=True)
class Validators:
    """What a server said identifies the copy we hold."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)

    def headers(self) -> dict[str, str]:
        """The conditional request headers that ask "has it changed since?"."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    @classmethod
    def of(cls, response: httpx2.Response) -> Validators:
        """The validators a response carries."""
        return cls(_header(response, "ETag"), _header(response, "Last-Modified"))

    def dump(self) -> dict[str, str | None]:
        """JSON for the cursor."""
        return {"etag": self.etag, "last_modified": self.last_modified}


def _header(response: httpx2.Response, name: str) -> str | None:
    value = response.headers.get(name)
    # Only printable ASCII goes back on the wire (a header is no place for vendor escapes).
    if value is None or not value.isascii() or not value.isprintable() or len(value) > 200:
        return None
    return value


@dataclass(frozen=True)
class Document:
    """One document as read: its bytes, media type and validators."""

    path: str
    content: bytes
    content_type: str | None
    validators: Validators


@dataclass(frozen=True)
class Fetched:
    """One poll's reads: every document, or ``None`` when none has changed."""

    documents: Mapping[str, Document] | None
    validators: Mapping[str, Validators]
    requests: int


def load_validators(cursor: Cursor | None, version: int) -> dict[str, Validators]:
    """The validators of a cursor this kit wrote for this ``version``; anything else: none."""
    if not isinstance(cursor, dict) or cursor.get("feed") != version:
        return {}
    documents = cursor.get("documents")
    if not isinstance(documents, dict):
        return {}
    found = {}
    for path, saved in documents.items():
        if not isinstance(path, str) or not isinstance(saved, dict):
            continue
        etag, modified = saved.get("etag"), saved.get("last_modified")
        validators = Validators(
            etag if isinstance(etag, str) and etag else None,
            modified if isinstance(modified, str) and modified else None,
        )
        if validators:
            found[path] = validators
    return found


def dump_cursor(version: int, validators: Mapping[str, Validators], **extra: Any) -> Cursor:
    """The cursor to save with a snapshot."""
    return {
        "feed": version,
        "documents": {path: v.dump() for path, v in validators.items() if v},
        **extra,
    }


async def fetch_documents(
    client: httpx2.AsyncClient,
    paths: Sequence[str],
    saved: Mapping[str, Validators],
    limiter: Limiter,
    hints: Mapping[str, str] | None = None,
) -> Fetched:
    """Read ``paths`` conditionally; re-read in full the unchanged ones when another changed.

    A ``404`` names the path, and ``hints[path]`` when the connector knows why a
    document may be missing (a feature the page owner has to switch on).
    """
    requests = 0

    async def get(path: str, validators: Validators | None) -> httpx2.Response:
        nonlocal requests
        requests += 1
        headers = validators.headers() if validators else None
        try:
            return await limiter.run(lambda: send(client, "GET", path, headers=headers or None))
        except ConnectorError as exc:
            if exc.http_status != 404:
                raise
            hint = (hints or {}).get(path) or "check base_url"
            raise ConnectorError(f"{exc} for {path}: {hint}", http_status=404) from None

    answers: dict[str, httpx2.Response] = {}
    for path in paths:  # a feed has one or two documents: in order, so a failure stops early
        answers[path] = await get(path, saved.get(path))
    unchanged = [path for path, response in answers.items() if response.status_code == 304]
    for path in unchanged:
        if not saved.get(path):
            # Without a copy to keep, "not modified" would silently show nothing forever.
            raise BadPayload(f"HTTP 304 for {path} to a request that sent no validator")
    if len(unchanged) == len(paths):
        return Fetched(None, {path: saved[path] for path in paths}, requests)
    for path in unchanged:
        answers[path] = await get(path, None)
    documents = {}
    for path, response in answers.items():
        expect_document(response)
        documents[path] = Document(
            path, response.content, response.headers.get("Content-Type"), Validators.of(response)
        )
    return Fetched(documents, {p: d.validators for p, d in documents.items()}, requests)


def expect_document(response: httpx2.Response) -> None:
    """Reject the non-error answers that still carry no document (redirects, 204, …)."""
    code = response.status_code
    if code == 200:
        return
    if 300 <= code < 400:
        location = one_line(clean_text(response.headers.get("Location", "")), 120)
        raise ConnectorError(
            f"HTTP {code} redirect to {location or 'nowhere'}: set base_url to the final address",
            http_status=code,
        )
    raise BadPayload(f"HTTP {code} where a status document was expected", http_status=code)
