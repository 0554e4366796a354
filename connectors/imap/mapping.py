"""Fetched messages as normalized records: a thread is a "mail" item, each mail an entry.

**Threads.** A message's thread is the first id of its ``References``
(the root of the chain, RFC 5322 §3.6.4), else the first of its
``In-Reply-To``, else its own ``Message-ID``. It is a pure function of the
message's own headers, so a resync after a UIDVALIDITY change, a restart or
a second collector finds the same thread for the same mail. (A reply that
carries only ``In-Reply-To`` to a reply, not the root, starts its own item;
its ``raw["messages"][i]["parents"]`` names the parent, for paneglass to merge.)

**Records.** Each thread is a :class:`TicketRecord` of the mailbox vendor
(``external_id`` = the thread's root Message-ID, ``key`` = ``M-`` + eight hex
digits of it), built from the thread's messages in one page:

* ``title`` the normalized subject of the page's earliest message
  (``Re:``/``Fwd:``/``AW:`` dropped), ``requester`` its sender,
  ``created_at`` its arrival; ``updated_at`` the newest arrival (or, for a flag
  change, when the change was seen);
* ``status`` from the IMAP flags of the page's newest message: unseen →
  ``new``, ``\\Seen`` → ``open``, ``\\Answered`` → ``pending`` (the desk
  replied), ``\\Deleted`` → ``closed``; ``raw_status`` names the flag;
* ``raw_priority`` ``flagged`` (``\\Flagged``) or the sender's ``high``/``low``
  (``Importance``, ``X-Priority``, ``Priority``); ``priority`` stays empty unless
  the section's ``priority_map`` says otherwise;
* ``url`` the RFC 5092 IMAP URL of the newest message (built from config,
  UIDVALIDITY and UID, never from mail text);
* ``raw``: ``{"kind": "mail", "folder", "uidvalidity", "links": [...],
  "messages": [...]}`` — ``links`` are the vendor tickets the page's subjects
  name (:mod:`connectors.imap.patterns`), each with the Message-ID that named
  it; ``messages`` the page's messages (UID, Message-ID, parents, sender,
  flags, subject).

Each message is a :class:`ConversationEntry` of its thread: ``external_id``
its Message-ID (so a re-read never duplicates it), ``created_at`` the
server's arrival time (INTERNALDATE: the sender's ``Date`` can be anything),
author from ``From``, visibility public, ``body`` the text/plain part (else
text/html as text) with quoted replies folded away, ``raw_body`` the decoded
part as sent, attachments as metadata with IMAP URLs (``;SECTION=``).
A message without a Message-ID gets ``sha256:`` + a digest of its header
fields and size, which is as stable as the message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from connectors.errors import BadPayload
from connectors.imap.mime import Leaf, Structure, decode_part, parse_structure
from connectors.imap.patterns import Link, Rule, find_links, normalize_subject
from connectors.records import (
    AttachmentRecord,
    ConversationEntry,
    TicketRecord,
    TicketStatus,
    Visibility,
)
from connectors.richtext import MAX_RICH_TEXT, fold_quoted, html_to_text
from connectors.sanitize import clean_text, one_line

__all__ = [
    "HEADER_FIELDS",
    "MailMessage",
    "Mailbox",
    "message_entry",
    "parse_message",
    "thread_records",
]

HEADER_FIELDS = (
    "MESSAGE-ID",
    "IN-REPLY-TO",
    "REFERENCES",
    "SUBJECT",
    "FROM",
    "DATE",
    "IMPORTANCE",
    "X-PRIORITY",
    "PRIORITY",
    "AUTO-SUBMITTED",
)
"""Header fields fetched per message (``BODY.PEEK[HEADER.FIELDS (...)]``)."""

MAX_ID = 250
"""A Message-ID longer than this is kept as a digest (ids are keys in the store)."""
_ANGLE_ID = re.compile(rb"<([^<>\s]{1,2000})>")
_FOLD = re.compile(r"\r?\n[ \t]+")


@dataclass(frozen=True)
class Mailbox:
    """Where messages come from: enough to build IMAP URLs (RFC 5092) from config."""

    host: str
    port: int
    folder: str
    uidvalidity: int

    def url(self, uid: int, section: str | None = None) -> str:
        """``imap://host:port/folder;UIDVALIDITY=v/;UID=n[/;SECTION=s]``."""
        port = "" if self.port == 143 else f":{self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        mailbox = quote(self.folder, safe="")
        url = f"imap://{host}{port}/{mailbox};UIDVALIDITY={self.uidvalidity}/;UID={uid}"
        return f"{url}/;SECTION={section}" if section else url


@dataclass(frozen=True)
class MailMessage:
    """One fetched message, headers decoded, before its body is read."""

    uid: int
    message_id: str
    thread_id: str
    parents: tuple[str, ...]
    """``In-Reply-To`` and ``References`` ids, nearest last."""
    subject: str
    sender: str | None
    received: datetime
    sent: datetime | None
    """The sender's ``Date`` (shown, never used for order)."""
    flags: frozenset[str]
    priority: str | None
    structure: Structure
    auto: bool
    """``Auto-Submitted`` other than ``no`` (notifications, auto-replies)."""

    @property
    def status(self) -> tuple[TicketStatus, str]:
        """The normalized status and the flag it comes from."""
        if "\\deleted" in self.flags:
            return TicketStatus.CLOSED, "deleted"
        if "\\answered" in self.flags:
            return TicketStatus.PENDING, "answered"
        if "\\seen" in self.flags:
            return TicketStatus.OPEN, "seen"
        return TicketStatus.NEW, "unseen"

    def summary(self) -> dict[str, Any]:
        """What ``raw["messages"]`` keeps of it."""
        return {
            "uid": self.uid,
            "message_id": self.message_id,
            "parents": list(self.parents),
            "from": self.sender,
            "subject": self.subject,
            "flags": sorted(self.flags),
            "received": self.received.isoformat(),
            "date": self.sent.isoformat() if self.sent else None,
            "auto": self.auto,
        }


def parse_message(uid: int, data: Mapping[bytes, Any]) -> MailMessage:
    """One message of ``UID FETCH (FLAGS INTERNALDATE RFC822.SIZE BODYSTRUCTURE BODY.PEEK[…])``."""
    header = _header_bytes(data)
    fields = BytesHeaderParser(policy=compat32).parsebytes(header)
    own = _ids(fields.get("Message-ID"))
    size = data.get(b"RFC822.SIZE")
    if own:
        message_id = _bounded(own[0])
    else:
        digest = hashlib.sha256(header + str(size).encode()).hexdigest()[:40]
        message_id = f"sha256:{digest}"
    references = [_bounded(i) for i in _ids(fields.get("References"))]
    in_reply_to = [_bounded(i) for i in _ids(fields.get("In-Reply-To"))]
    thread_id = (references or in_reply_to or [message_id])[0]
    parents = tuple(dict.fromkeys([*references, *in_reply_to]))
    received = data.get(b"INTERNALDATE")
    if not isinstance(received, datetime):
        raise BadPayload(f"IMAP message UID {uid} has no INTERNALDATE")
    if received.tzinfo is None:  # imapclient with normalise_times: never set by the connector
        raise BadPayload(f"IMAP message UID {uid} INTERNALDATE without a zone")
    flags = frozenset(_text(f).lower() for f in data.get(b"FLAGS") or () if _text(f))
    auto = (_header_text(fields.get("Auto-Submitted")) or "no").strip().lower() != "no"
    return MailMessage(
        uid=uid,
        message_id=message_id,
        thread_id=thread_id,
        parents=parents,
        subject=one_line(clean_text(_header_text(fields.get("Subject")) or "")),
        sender=_sender(fields.get("From")),
        received=received.astimezone(UTC),
        sent=_sent(fields.get("Date")),
        flags=flags,
        priority=_priority(fields),
        structure=parse_structure(data.get(b"BODYSTRUCTURE")),
        auto=auto,
    )


def message_entry(
    message: MailMessage,
    body: bytes | None,
    *,
    truncated: bool,
    mailbox: Mailbox,
) -> ConversationEntry:
    """One mail as an entry of its thread (``body``: the fetched text part, or None)."""
    leaf = message.structure.body
    text, raw_format, raw_body = "", "text", ""
    if leaf is not None and body is not None:
        raw_body = decode_part(body, leaf, truncated=truncated)[:MAX_RICH_TEXT]
        if leaf.content_type == "text/html":
            raw_format = "html"
            text = html_to_text(raw_body)
        else:
            text = raw_body.replace("\r\n", "\n")
        text, _quoted = fold_quoted(text.strip())
        if truncated:
            text = f"{text}\n[… cut at {len(body):,} bytes]"
    return ConversationEntry(
        ticket_external_id=message.thread_id,
        external_id=message.message_id,
        created_at=message.received,
        visibility=Visibility.PUBLIC,
        body=text,
        author=message.sender,
        raw_format=raw_format,
        raw_body=raw_body,
        attachments=tuple(
            _attachment(message, part, mailbox) for part in message.structure.attachments
        ),
    )


def thread_records(
    messages: Sequence[MailMessage],
    rules: Iterable[Rule],
    mailbox: Mailbox,
    *,
    seen_at: datetime | None = None,
) -> list[TicketRecord]:
    """One record per thread among ``messages`` (a page), in the order threads first appear.

    ``seen_at``: the page reports flag changes, seen then (it becomes ``updated_at``
    when later than the messages' arrival).
    """
    rules = tuple(rules)
    threads: dict[str, list[MailMessage]] = {}
    for message in messages:
        threads.setdefault(message.thread_id, []).append(message)
    records: list[TicketRecord] = []
    for thread_id, members in threads.items():
        first = min(members, key=lambda m: (m.received, m.uid))
        last = max(members, key=lambda m: m.uid)
        status, raw_status = last.status
        links: dict[tuple[str, str], dict[str, str]] = {}
        for message in members:
            for link in find_links(rules, message.subject):
                links.setdefault((link.vendor, link.key), _link(link, message))
        updated = max(m.received for m in members)
        if seen_at is not None and seen_at > updated:
            updated = seen_at
        records.append(
            TicketRecord(
                external_id=thread_id,
                key="M-" + hashlib.sha256(thread_id.encode()).hexdigest()[:8].upper(),
                title=normalize_subject(first.subject) or "(no subject)",
                status=status,
                raw_status=raw_status,
                priority=None,
                raw_priority="flagged" if "\\flagged" in last.flags else last.priority,
                created_at=first.received,
                updated_at=updated,
                requester=first.sender,
                resolved_at=None,
                url=mailbox.url(last.uid),
                raw={
                    "kind": "mail",
                    "folder": mailbox.folder,
                    "uidvalidity": mailbox.uidvalidity,
                    "links": list(links.values()),
                    "messages": [m.summary() for m in members],
                },
            )
        )
    return records


def _link(link: Link, message: MailMessage) -> dict[str, str]:
    return {**link.as_dict(), "message_id": message.message_id, "source": "subject"}


def _attachment(message: MailMessage, part: Leaf, mailbox: Mailbox) -> AttachmentRecord:
    name = part.filename or f"part {part.section} ({part.content_type})"
    return AttachmentRecord(
        external_id=f"{message.message_id}/{part.section}",
        name=one_line(clean_text(name), 255),
        size=part.decoded_size,
        content_type=part.content_type,
        url=mailbox.url(message.uid, part.section),
    )


def _header_bytes(data: Mapping[bytes, Any]) -> bytes:
    for key, value in data.items():
        if isinstance(key, bytes) and key.startswith(b"BODY[HEADER"):
            return value if isinstance(value, bytes) else b""
    return b""


def _ids(value: Any) -> list[str]:
    """Message ids in a header value, in order (``<a@b> <c@d>``; a bare id without brackets too)."""
    if value is None:
        return []
    raw = str(value).encode("utf-8", "surrogateescape")
    found = [m.decode("utf-8", "replace") for m in _ANGLE_ID.findall(raw)]
    if found:
        return found
    bare = raw.strip().split()
    return [bare[0].decode("utf-8", "replace")] if len(bare) == 1 and b"@" in bare[0] else []


def _bounded(message_id: str) -> str:
    """The id as a store key: cleaned, and digested when absurdly long."""
    cleaned = clean_text(message_id).strip()
    if len(cleaned) <= MAX_ID and cleaned:
        return cleaned
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:40]


def _header_text(value: Any) -> str | None:
    """A header value unfolded, RFC 2047 words decoded; never raises."""
    if value is None:
        return None
    text = _FOLD.sub(" ", str(value))
    if "=?" not in text:
        return text.strip()
    try:
        return str(make_header(decode_header(text))).strip()
    except Exception:  # a broken encoded word: keep the text as sent
        return text.strip()


def _sender(value: Any) -> str | None:
    """``Name <address>`` (or the address alone) of the first ``From`` mailbox."""
    text = _header_text(value)
    if not text:
        return None
    try:
        pairs = getaddresses([text])
    except Exception:
        pairs = []
    name, address = pairs[0] if pairs else ("", "")
    name, address = one_line(clean_text(name)).strip('"'), one_line(clean_text(address))
    if name and address:
        return one_line(f"{name} <{address}>", 300)
    return one_line(name or address or clean_text(text), 300) or None


def _priority(fields: Any) -> str | None:
    """``high``/``low`` from ``Importance``, ``X-Priority`` (1-2 high, 4-5 low) or ``Priority``."""
    importance = (_header_text(fields.get("Importance")) or "").lower()
    if importance in ("high", "low"):
        return importance
    x_priority = (_header_text(fields.get("X-Priority")) or "").strip()[:1]
    if x_priority in ("1", "2"):
        return "high"
    if x_priority in ("4", "5"):
        return "low"
    priority = (_header_text(fields.get("Priority")) or "").lower()
    if priority == "urgent":
        return "high"
    if priority == "non-urgent":
        return "low"
    return None


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return value if isinstance(value, str) else ""


def _sent(value: Any) -> datetime | None:
    """The ``Date`` header as an aware datetime, or None (kept for the detail view only)."""
    text = _header_text(value)
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None
