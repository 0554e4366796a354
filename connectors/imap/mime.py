"""A message's MIME structure, as the server describes it in ``BODYSTRUCTURE``.

The connector never downloads whole messages: from ``BODYSTRUCTURE``
(RFC 3501 §7.4.2 / RFC 9051 §7.5.2) it picks the one text part to show —
text/plain preferred, text/html otherwise, never a part sent as an
attachment — and lists every other leaf that carries a file name (or is sent
as an attachment, or is an attached message) as attachment metadata. Only the
chosen part is then fetched, and only its first ``max_body_bytes``
(``BODY.PEEK[section]<0.n>``), so a 40 MB PDF costs nothing but its size in
the structure.

``BODYSTRUCTURE`` as imapclient parses it: a multipart is a tuple whose first
item is the list of its parts, then the subtype; a leaf is
``(type, subtype, params, id, description, encoding, size, …)`` where text
leaves add a line count, ``message/rfc822`` adds envelope, body and line
count, and the disposition follows the (optional) MD5.
"""

from __future__ import annotations

import binascii
import codecs
import quopri
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import decode_header, make_header
from typing import Any
from urllib.parse import unquote

__all__ = ["Leaf", "Structure", "decode_part", "parse_structure"]

MAX_DEPTH = 16
"""Nesting followed before the rest of a (hostile) structure is ignored."""
MAX_LEAVES = 200
"""Parts listed per message; a message with more lists the first ones."""


@dataclass(frozen=True)
class Leaf:
    """One non-multipart part."""

    section: str
    """Its part number for ``BODY[section]`` (``1``, ``1.2``, ``TEXT`` for a one-part message)."""
    content_type: str
    charset: str | None
    encoding: str
    size: int | None
    """Octets as sent (after transfer encoding)."""
    filename: str | None
    disposition: str | None
    in_alternative: bool = False

    @property
    def is_attachment(self) -> bool:
        """A file (or attached message), not the message's own text."""
        if self.disposition == "attachment" or self.filename:
            return True
        return self.content_type == "message/rfc822" or not self.content_type.startswith("text/")

    @property
    def decoded_size(self) -> int | None:
        """The file's size, estimated from its encoded size (base64 is 4 chars per 3 bytes,
        76 characters and CRLF per line)."""
        if self.size is None:
            return None
        if self.encoding == "base64":
            return self.size * 57 // 78
        return self.size


@dataclass(frozen=True)
class Structure:
    """The parts of one message that matter to a conversation."""

    body: Leaf | None
    """The text part shown (None: a message with no readable text)."""
    attachments: tuple[Leaf, ...]


def parse_structure(bodystructure: Any) -> Structure:
    """Pick the text part and list the attachments of a parsed ``BODYSTRUCTURE``."""
    leaves: list[Leaf] = []
    _walk(bodystructure, "", leaves, depth=0, alternative=False)
    texts = [leaf for leaf in leaves if not leaf.is_attachment]
    body = next((leaf for leaf in texts if leaf.content_type == "text/plain"), None)
    if body is None:
        body = next((leaf for leaf in texts if leaf.content_type == "text/html"), None)
    if body is None:
        body = next(iter(texts), None)
    attachments = tuple(leaf for leaf in leaves if leaf.is_attachment)
    return Structure(body=body, attachments=attachments)


def _walk(node: Any, prefix: str, out: list[Leaf], depth: int, alternative: bool) -> None:
    if depth > MAX_DEPTH or len(out) >= MAX_LEAVES or not isinstance(node, tuple | list):
        return
    if node and isinstance(node[0], list | tuple) and not isinstance(node[0], bytes | str):
        subtype = _text(node[1]).lower() if len(node) > 1 else ""
        for number, part in enumerate(node[0], start=1):
            section = f"{prefix}.{number}" if prefix else str(number)
            _walk(part, section, out, depth + 1, alternative or subtype == "alternative")
        return
    leaf = _leaf(node, prefix or "1", top=not prefix, alternative=alternative)
    if leaf is not None:
        out.append(leaf)


def _leaf(node: Sequence[Any], section: str, *, top: bool, alternative: bool) -> Leaf | None:
    if len(node) < 7:
        return None
    kind = f"{_text(node[0])}/{_text(node[1])}".lower()
    params = _params(node[2])
    encoding = _text(node[5]).lower() or "7bit"
    size = node[6] if isinstance(node[6], int) and node[6] >= 0 else None
    if kind.startswith("text/"):
        at = 9
    elif kind == "message/rfc822":
        at = 11
    else:
        at = 8
    disposition, dparams = _disposition(node[at] if len(node) > at else None)
    filename = _filename(dparams, "filename") or _filename(params, "name")
    return Leaf(
        # A one-part message's text is BODY[1] too (RFC 3501 §6.4.5); Dovecot and
        # Gmail agree, and it avoids sending TEXT through a partial fetch.
        section=section if not top else "1",
        content_type=kind,
        charset=params.get("charset"),
        encoding=encoding,
        size=size,
        filename=filename,
        disposition=disposition,
        in_alternative=alternative,
    )


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return value if isinstance(value, str) else ""


def _params(value: Any) -> dict[str, str]:
    """A ``(name value name value …)`` list as a dict with lower-case names."""
    if not isinstance(value, tuple | list):
        return {}
    items = [_raw(v) for v in value]
    return {items[i].lower(): items[i + 1] for i in range(0, len(items) - 1, 2)}


def _raw(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


def _disposition(value: Any) -> tuple[str | None, dict[str, str]]:
    if isinstance(value, tuple | list) and value and isinstance(value[0], bytes | str):
        return _text(value[0]).lower() or None, _params(value[1] if len(value) > 1 else None)
    return None, {}


def _filename(params: dict[str, str], name: str) -> str | None:
    """A file name from ``name``, RFC 2231 ``name*`` (and continuations) or RFC 2047 words."""
    if f"{name}*" in params:
        return _rfc2231(params[f"{name}*"]) or None
    start = len(name) + 1
    pieces = sorted(
        (k for k in params if k.startswith(f"{name}*") and k[start:].rstrip("*").isdigit()),
        key=lambda k: int(k[start:].rstrip("*")),
    )
    if pieces:
        joined = "".join(params[key] for key in pieces)
        if pieces[0].endswith("*"):
            joined = _rfc2231(joined)
        return joined or None
    value = params.get(name)
    if not value:
        return None
    if "=?" in value:
        try:
            return str(make_header(decode_header(value)))
        except Exception:  # a broken encoded word: keep what was sent
            return value
    return value


def _rfc2231(value: str) -> str:
    """An RFC 2231 extended value (``charset'lang'percent-encoded``) as text."""
    parts = value.split("'", 2)
    if len(parts) != 3:
        return unquote(value)
    charset = parts[0] or "utf-8"
    try:
        return unquote(parts[2], encoding=charset, errors="replace")
    except LookupError:
        return unquote(parts[2], errors="replace")


def decode_part(data: bytes, leaf: Leaf, *, truncated: bool) -> str:
    """A fetched part's bytes as text: transfer encoding undone, charset applied.

    A part cut by the partial fetch may end inside a base64 quad or a
    quoted-printable escape; the incomplete tail is dropped, never guessed.
    """
    if leaf.encoding == "base64":
        compact = b"".join(data.split())
        if truncated:
            compact = compact[: len(compact) - len(compact) % 4]
        try:
            raw = binascii.a2b_base64(compact)
        except (binascii.Error, ValueError):  # bad padding: decode the whole quads only
            try:
                raw = binascii.a2b_base64(compact[: len(compact) - len(compact) % 4])
            except (binascii.Error, ValueError):
                raw = b""
    elif leaf.encoding == "quoted-printable":
        if truncated:
            cut = data.rfind(b"=", max(len(data) - 2, 0))
            data = data[:cut] if cut != -1 else data
        raw = quopri.decodestring(data)
    else:
        raw = data
    return _charset_decode(raw, leaf.charset, final=not truncated)


def _charset_decode(raw: bytes, charset: str | None, *, final: bool) -> str:
    """Bytes as text; a cut part drops an incomplete last character instead of showing U+FFFD."""
    name = (charset or "").strip().strip('"').lower() or "utf-8"
    if name in ("us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        name = "utf-8"  # mislabelled 8-bit mail is far more often UTF-8 than not
    try:
        decoder = codecs.getincrementaldecoder(name)(errors="replace")
    except LookupError:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return str(decoder.decode(raw, final=final))
