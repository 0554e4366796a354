"""A corpus of hostile vendor strings, shared by every test of the sanitising path."""

from __future__ import annotations

HOSTILE_STRINGS: tuple[str, ...] = (
    "Disk [/var] full on host",
    "[@click=app.quit]click me[/]",
    "[link=https://evil.example]reset your password[/link]",
    "[b]unclosed bold and [dim]",
    "[",
    "]]][[[",
    "clear \x1b[2J\x1b[H screen",
    "clipboard \x1b]52;c;ZXZpbCBjb21tYW5k\x07 write",
    "link \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\",
    "title \x1b]0;pwned\x07 set",
    "c1 \x9b31m csi and \x9d osc",
    "bell\x07 backspace\x08 del\x7f nul\x00",
    "bidi \u202egnp.exe\u202c override",
    "isolate \u2066hidden\u2069 text",
    "zero\u200bwidth\ufeff joiner",
    "line\u2028separator",
    "lone surrogate \ud800 here",
    "wide 🖨️ emoji and 打印机错误 CJK",
    "crlf\r\ninjection\rreturn",
    "x" * 10_000,
)
"""Markup, action and link injection; C0/C1 controls; ESC/CSI/OSC sequences; bidi and
zero-width characters; surrogates; very long, wide and CJK text."""

FORBIDDEN_CODEPOINTS = frozenset(
    [
        *range(0x00, 0x09),
        *range(0x0B, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x200B,
        0xFEFF,
        0x2028,
        0x2029,
        *range(0xD800, 0xE000),
    ]
)


def has_forbidden(text: str) -> bool:
    """True when ``text`` still holds a character the sanitiser must remove."""
    return any(ord(ch) in FORBIDDEN_CODEPOINTS for ch in text)
