"""A ticket's (or a case's) story as text: replies, notes, changes and actions, oldest first.

One renderer for the ticket screen and the case screen. Every item starts
with its time, a glyph and a word (``● public``, ``■ internal``, ``○ system``,
``· change``, ``◆ paneglass``: :data:`paneglass.ui.states.TIMELINE`), so the
kind reads without colour. Vendor text is only ever plain content. Long
entries are folded to their first lines and e-mail quoting of earlier
replies is folded away (:func:`connectors.richtext.fold_quoted`) until the
operator unfolds them; attachments are listed by name, size and type.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from textual.content import Content

from connectors.richtext import fold_quoted
from paneglass.store import AttachmentView, EntryView, TimelineEntry
from paneglass.ui.display import local_time, safe_line
from paneglass.ui.states import TIMELINE

__all__ = ["FOLD_LINES", "TimelineView", "human_size", "legend", "render_timeline", "summary"]

FOLD_LINES = 6
"""Lines of a long entry shown while it is folded."""
_LONG_CHARS = 700
_INDENT = 7
_WORD = 12


@dataclass(frozen=True)
class TimelineView:
    """How to show a timeline: unfolded or not, people only or everything, with ticket names."""

    expanded: bool = False
    """Show long entries whole and quoted earlier replies."""
    people_only: bool = False
    """Only what people wrote (replies and notes): no system entries, changes or actions."""
    show_ticket: bool = False
    """Name the vendor and ticket of each item (a case's timeline)."""


def human_size(size: int | None) -> str:
    """``812 B``, ``47 KB``, ``3.2 MB``."""
    if size is None:
        return "size unknown"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def legend() -> Content:
    """Glyph and word of every kind of item, for a section or border title."""
    parts: list[Content] = []
    for kind in ("public", "internal", "system", "change", "paneglass"):
        face = TIMELINE[kind]
        parts.append(Content.styled(face.label, face.style))
    return Content("  ").join(parts)


def _kind(item: TimelineEntry) -> str:
    if item.entry is not None:
        return item.entry.visibility if item.entry.visibility in TIMELINE else "public"
    return "change" if item.source == "vendor" else "paneglass"


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        lines += textwrap.wrap(line, width, replace_whitespace=False, drop_whitespace=True) or [""]
    return lines


def _body(entry: EntryView, view: TimelineView, width: int) -> list[Content]:
    pad = " " * _INDENT
    reply, quoted = fold_quoted(entry.body) if entry.visibility != "system" else (entry.body, "")
    lines = _wrap(reply.strip("\n"), width)
    shown: list[Content] = []
    folded = 0
    if not view.expanded and (len(lines) > FOLD_LINES + 2 or len(reply) > _LONG_CHARS):
        keep = min(FOLD_LINES, len(lines))
        folded, lines = len(lines) - keep, lines[:keep]
    shown += [Content(pad + line) for line in lines]
    if folded:
        shown.append(Content.styled(f"{pad}… {folded} more lines  (e unfolds)", "$text-muted"))
    if quoted:
        quoted_lines = _wrap(quoted, width - 2)
        if view.expanded:
            shown += [Content.styled(f"{pad}┆ {line}", "$text-muted") for line in quoted_lines]
        else:
            count = len(quoted_lines)
            shown.append(
                Content.styled(
                    f"{pad}┆ an earlier reply it quotes is folded ({count} lines, e unfolds)",
                    "$text-muted",
                )
            )
    shown += [_attachment(file, pad) for file in entry.attachments]
    return shown


def _attachment(file: AttachmentView, pad: str) -> Content:
    meta = f"  {human_size(file.size)}  {safe_line(file.content_type or 'type unknown', 60)}"
    return Content.assemble(
        (f"{pad}+ ", "$text-muted"), (safe_line(file.name, 120), "bold"), (meta, "$text-muted")
    )


def render_timeline(
    items: Sequence[TimelineEntry],
    *,
    zone: tzinfo | None,
    width: int,
    view: TimelineView | None = None,
    omitted: int = 0,
) -> Content:
    """The timeline as content: a day line when the date changes, then one block per item."""
    view = view or TimelineView()
    width = max(width, 40)
    text_width = width - _INDENT
    lines: list[Content] = []
    if omitted:
        lines.append(Content.styled(f"… {omitted:,} older items are not shown", "$text-muted"))
    day = ""
    shown = 0
    for item in items:
        kind = _kind(item)
        if view.people_only and kind not in ("public", "internal"):
            continue
        shown += 1
        today = local_time(item.at, zone, "%A %d %B %Y")
        if today != day:
            day = today
            rule = "─" * max(width - len(day) - 4, 2)
            lines.append(Content.styled(f"── {day} {rule}", "$text-muted"))
        face = TIMELINE[kind]
        head: list[Content | str | tuple[str, str]] = [
            (local_time(item.at, zone, "%H:%M") + "  ", "$text-muted"),
            (f"{face.glyph} {face.word:<{_WORD - 2}} ", face.style),
        ]
        if view.show_ticket:
            where = f"{item.vendor or 'case'} {safe_line(item.key or '', 16)}".strip()
            head.append((f"{where:<22} ", "bold"))
        entry = item.entry
        if entry is None:
            room = max(width - _INDENT - _WORD - (23 if view.show_ticket else 0), 20)
            head.append(safe_line(item.text, room))
            lines.append(Content.assemble(*head))
            continue
        author = safe_line(entry.author or "unknown", 40)
        if entry.visibility == "system" and "\n" not in entry.body.strip():
            room = max(width - _INDENT - _WORD - len(author) - 3, 20)
            head += [(author, "bold"), ": ", safe_line(entry.body, room)]
            lines.append(Content.assemble(*head))
            lines += [_attachment(file, " " * _INDENT) for file in entry.attachments]
            continue
        head.append((author, "bold"))
        if entry.updated_at is not None and entry.updated_at > entry.created_at:
            edited = local_time(entry.updated_at, zone, "%d %b %H:%M")
            head.append((f"  (edited {edited})", "$text-muted"))
        lines.append(Content.assemble(*head))
        lines += _body(entry, view, text_width)
    if not shown:
        what = "Nobody has written anything yet." if view.people_only else "Nothing yet."
        lines.append(Content.styled(what, "$text-muted"))
    return Content("\n").join(lines)


def summary(items: Sequence[TimelineEntry]) -> str:
    """``14 items · 5 public replies · 2 internal notes`` for a section title."""
    public = sum(1 for i in items if i.entry is not None and i.entry.visibility == "public")
    internal = sum(1 for i in items if i.entry is not None and i.entry.visibility == "internal")
    parts = [f"{len(items)} item{'' if len(items) == 1 else 's'}"]
    if public:
        parts.append(f"{public} public repl{'y' if public == 1 else 'ies'}")
    if internal:
        parts.append(f"{internal} internal note{'' if internal == 1 else 's'}")
    return " · ".join(parts)
