"""Strict reading of a status document: its bytes decoded, its fields checked by name.

Mappings are pure functions over a decoded document, so the real captures
and hand-made hostile payloads are mapped in tests without a server. A field
that does not have the shape the vendor publishes raises
:class:`~connectors.errors.BadPayload` naming the vendor and the field, never
echoing more than a short cleaned snippet of what came instead.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any

from connectors.errors import BadPayload
from connectors.sanitize import clean_text, one_line
from connectors.timestamps import parse_iso

__all__ = ["PayloadReader", "decode_text", "read_json"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    message = Message()
    message["Content-Type"] = content_type
    charset = message.get_param("charset")
    return charset.strip().lower() if isinstance(charset, str) and charset.strip() else None


def decode_text(content: bytes, content_type: str | None, vendor: str) -> str:
    """The body as text: a byte-order mark decides, then the declared charset, then UTF-8.

    Bytes that are not valid in that encoding become U+FFFD.

    AWS serves its health feed as UTF-16 with a BOM and says so in the
    ``Content-Type``; a client that assumes UTF-8 reads mojibake.
    """
    encoding = next((name for bom, name in _BOMS if content.startswith(bom)), None)
    if encoding is None:
        declared = _charset(content_type)
        encoding = "utf-8"
        if declared is not None:
            try:
                encoding = codecs.lookup(declared).name
            except LookupError:
                raise BadPayload(f"{vendor}: unknown charset {declared[:30]!r}") from None
    # A broken byte becomes U+FFFD rather than hiding every incident in the document.
    return content.decode(encoding, errors="replace")


def read_json(content: bytes, content_type: str | None, vendor: str) -> Any:
    """The body decoded (see :func:`decode_text`) and parsed as JSON, or :class:`BadPayload`."""
    text = decode_text(content, content_type, vendor)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        snippet = one_line(clean_text(text[:80]), 60)
        raise BadPayload(f"{vendor}: body is not JSON: {snippet!r}") from None


@dataclass(frozen=True)
class PayloadReader:
    """Field access with the vendor's name in every error."""

    vendor: str

    def fail(self, message: str) -> BadPayload:
        """A :class:`BadPayload` for this vendor (raise it)."""
        return BadPayload(f"{self.vendor} {message}")

    def mapping(self, value: Any, what: str) -> Mapping[str, Any]:
        """An object."""
        if not isinstance(value, Mapping):
            raise self.fail(f"{what} is not an object")
        return value

    def items(self, value: Any, what: str) -> list[Any]:
        """A list; absent or null counts as empty (pages leave out what they do not use)."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"{what} is not a list")
        return value

    def text(self, value: Any, what: str) -> str:
        """Non-empty text."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{what} missing or not text")
        return value

    def identifier(self, value: Any, what: str) -> str:
        """An id: non-empty text, or a whole number some vendors send instead."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self.text(value, what)

    @staticmethod
    def optional_text(value: Any) -> str | None:
        """Text, or ``None`` for anything else (absent, null, empty, a number)."""
        return value if isinstance(value, str) and value.strip() else None

    def time(self, value: Any, what: str) -> datetime | None:
        """An ISO 8601 time with an offset, or ``None`` when absent or empty."""
        try:
            return parse_iso(value)
        except BadPayload as exc:
            raise self.fail(f"{what}: {exc}") from None

    def required_time(self, value: Any, what: str) -> datetime:
        """An ISO 8601 time that must be there."""
        parsed = self.time(value, what)
        if parsed is None:
            raise self.fail(f"{what} missing")
        return parsed

    def position(self, value: Any, what: str) -> int:
        """A display position (absent counts as 0)."""
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{what} is not an integer")
        return value
