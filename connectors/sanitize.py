"""The one place vendor text is made safe to keep and to show.

Every string that arrives from a vendor is hostile until cleaned: terminal
escape sequences (ESC, CSI, OSC 52 clipboard writes, OSC 8 links), C1 controls,
bidi overrides that reorder what the operator reads, and lone surrogates that
break encoders. Records call :func:`clean_text` on every text field when they
are built, so nothing downstream ever holds raw vendor text. Markup is not a
concern here: the UI never parses vendor text as markup (see
``paneglass.display``).
"""

from __future__ import annotations

import re

__all__ = ["clean_optional", "clean_text", "one_line"]

# C0 controls except TAB (0x09) and LF (0x0A); DEL; C1 controls (0x80-0x9F).
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f"
# Bidi embeddings/overrides/isolates and marks that can disguise text.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Invisible characters that hide content or split look-alike keys (ZWJ is kept:
# emoji sequences need it).
_INVISIBLE = "\u200b\u200c\u2060\ufeff"
# Line and paragraph separators that some terminals treat as newlines.
_SEPARATORS = "\u2028\u2029"
_UNSAFE = re.compile(f"[{_CONTROL}{_BIDI}{_INVISIBLE}{_SEPARATORS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NEEDS_WORK = re.compile(f"[\r{_CONTROL}{_BIDI}{_INVISIBLE}{_SEPARATORS}\ud800-\udfff]")
_WHITESPACE_RUN = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """Return ``value`` without control, bidi or invisible characters.

    CR LF and lone CR become LF so the text keeps its line structure; lone
    surrogates become U+FFFD so the string always encodes to UTF-8.
    """
    if _NEEDS_WORK.search(value) is None:
        return value  # the common case: nothing to remove, the same object comes back
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", text)
    return _UNSAFE.sub("", text)


def clean_optional(value: object) -> str | None:
    """Clean any scalar vendor value to text, keeping ``None`` and ``""`` as ``None``."""
    if value is None:
        return None
    text = clean_text(str(value)).strip()
    return text or None


def one_line(value: str, limit: int | None = None) -> str:
    """Collapse whitespace (newlines and tabs included) for a single-line cell."""
    text = _WHITESPACE_RUN.sub(" ", value).strip()
    if limit is not None and len(text) > limit:
        return text[: max(limit - 1, 0)] + "…"
    return text
