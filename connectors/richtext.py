"""Vendor rich text (HTML, Jira ADF, Markdown, e-mail quoting) made into plain text.

Every conversation body and description passes through here before the
record constructor cleans its control characters (:mod:`connectors.sanitize`),
so what reaches the store and the screen is plain text: no markup, no escape
codes, links kept as text (``label [url]``), earlier quoted replies split off
so the console can fold them away.

HTML goes through inscriptis, chosen by measurement (``bench/richtext.py``,
ms per small vendor reply / per 4 KB body, one run on this machine):
inscriptis 0.17 / 3.2, html-text 0.11 / 1.7, selectolax 0.03 / 0.16 (its text
loses block and list breaks), BeautifulSoup 0.33 / 7.7. inscriptis is the
only one that keeps list items, table rows and link targets readable, and
vendor bodies are small; where a vendor also sends a plain-text body
(Zendesk ``plain_body``, Freshservice ``body_text``) connectors use that and
keep the HTML only as the raw body.
Quoted replies are found by mail-parser-reply (maintained, multilingual:
"On … wrote:", "-----Original Message-----", Outlook headers, ``>`` lines).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

__all__ = ["MAX_RICH_TEXT", "adf_to_text", "fold_quoted", "html_to_text", "markdown_to_text"]

MAX_RICH_TEXT = 200_000
"""Characters of one body converted; the rest is cut (a body is not a document store)."""

_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_QUOTE_HINT = re.compile(
    r"(?m)^(?:>|-{2,}\s*Original Message|_{5,}|From:|Von:|De :|Van:|De:)|wrote:|schrieb:|a écrit",
)


def _tidy(text: str) -> str:
    """At most one blank line in a row, no trailing spaces, no leading/trailing blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip("\n").rstrip()


@lru_cache(maxsize=1)
def _html_config() -> Any:
    from inscriptis.model.config import ParserConfig

    return ParserConfig(display_links=True, display_anchors=False)


def html_to_text(html: str) -> str:
    """HTML as readable plain text: block layout, lists, table rows, ``[label](url)`` links.

    Scripts, styles and comments vanish; entities are decoded once (so
    ``&lt;b&gt;`` reads ``<b>``: plain text, never markup).
    """
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return _tidy(html)
    from inscriptis import get_text

    return _tidy(get_text(html[:MAX_RICH_TEXT], _html_config()))


def markdown_to_text(markdown: str) -> str:
    """Markdown reads well as it is; only its layout is tidied (nothing is rendered)."""
    return _tidy(markdown[:MAX_RICH_TEXT])


def adf_to_text(document: Mapping[str, Any] | None) -> str:
    """An Atlassian Document Format tree (Jira comments and descriptions) as plain text."""
    if not isinstance(document, Mapping):
        return ""
    parts: list[str] = []
    _adf_node(document, parts, list_prefix="")
    return _tidy("".join(parts)[:MAX_RICH_TEXT])


_ADF_BLOCKS = {
    "paragraph",
    "heading",
    "codeBlock",
    "blockquote",
    "panel",
    "tableRow",
    "mediaSingle",
    "mediaGroup",
    "expand",
    "nestedExpand",
    "decisionList",
    "taskList",
}


def _adf_children(node: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    content = node.get("content")
    if isinstance(content, list):
        return [child for child in content if isinstance(child, Mapping)]
    return ()


def _adf_node(node: Mapping[str, Any], out: list[str], list_prefix: str) -> None:
    kind = node.get("type")
    attrs = node.get("attrs") if isinstance(node.get("attrs"), Mapping) else {}
    assert isinstance(attrs, Mapping)
    if kind == "text":
        text = str(node.get("text") or "")
        out.append(text + _adf_link(node, text))
        return
    if kind == "hardBreak":
        out.append("\n")
        return
    if kind == "rule":
        out.append("\n---\n")
        return
    if kind in ("mention", "emoji", "date", "status", "placeholder"):
        label = attrs.get("text") or attrs.get("shortName") or attrs.get("timestamp") or ""
        out.append(str(label))
        return
    if kind in ("inlineCard", "blockCard", "embedCard"):
        out.append(str(attrs.get("url") or ""))
        return
    if kind == "media":
        out.append(f"[attachment {attrs.get('alt') or attrs.get('id') or ''}]".replace(" ]", "]"))
        return
    if kind in ("bulletList", "orderedList"):
        out.append("\n")
        for number, item in enumerate(_adf_children(node), start=int(attrs.get("order") or 1)):
            marker = f"{number}. " if kind == "orderedList" else "• "
            out.append(list_prefix + marker)
            _adf_node(item, out, list_prefix + "  ")
            out.append("\n")
        return
    if kind == "tableCell" or kind == "tableHeader":
        out.append("  ")
    if kind == "blockquote":
        inner: list[str] = []
        for child in _adf_children(node):
            _adf_node(child, inner, list_prefix)
        quoted = "\n".join("> " + line for line in _tidy("".join(inner)).split("\n"))
        out.append("\n" + quoted + "\n")
        return
    for child in _adf_children(node):
        _adf_node(child, out, list_prefix)
    if kind in _ADF_BLOCKS:
        out.append("\n")


def _adf_link(node: Mapping[str, Any], text: str) -> str:
    for mark in node.get("marks") or ():
        if isinstance(mark, Mapping) and mark.get("type") == "link":
            attrs = mark.get("attrs")
            href = attrs.get("href") if isinstance(attrs, Mapping) else None
            if isinstance(href, str) and href and href != text:
                return f" [{href}]"
    return ""


@lru_cache(maxsize=1)
def _reply_parser() -> Any:
    from mailparser_reply import EmailReplyParser

    return EmailReplyParser(languages=["en", "de", "fr", "nl", "es", "it"])


def fold_quoted(text: str) -> tuple[str, str]:
    """``(reply, quoted)``: the new part of an e-mail reply, and the earlier replies it quotes.

    Text with no sign of quoting is returned whole, without running the parser.
    """
    if not text or not _QUOTE_HINT.search(text):
        return text, ""
    try:
        replies = _reply_parser().read(text=text).replies
    except Exception:  # a parser failure must never lose the body
        return text, ""
    if len(replies) < 2:
        return text, ""
    latest = _tidy(str(replies[0].content or ""))
    quoted = _tidy("\n\n".join(str(r.content or "") for r in replies[1:]))
    if not latest or not quoted:
        return text, ""
    return latest, quoted
