"""What the ticket pane asks the store for: sort, direction and the parsed filter.

The filter language typed after ``/`` is parsed once, when a
:class:`TicketQuery` is built (by the UI, or by the config for a saved
view); the store turns its terms into SQL:

    cannot print                 words: substring of key, title, requester or assignee
    vendor:hosting status:open,pending prio:P1 assignee:kim sla:breached
    -status:closed  !vendor:desktop     a leading - or ! inverts a term
    /49\\.4C0[0-9]/                      a regular expression over the same fields
    "exact phrase"                      quotes keep spaces together

Values of ``field:`` terms are case-insensitive; a comma means "any of".
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["FIELDS", "FilterError", "SortKey", "Term", "TicketQuery", "parse_filter"]

FIELDS = {
    "vendor": "vendor",
    "status": "status",
    "prio": "priority",
    "priority": "priority",
    "p": "priority",
    "assignee": "assignee",
    "requester": "requester",
    "group": "group",
    "asset": "asset",
    "key": "key",
    "kind": "kind",
    "sla": "sla",
}
"""Accepted field names and the column (or pseudo-column) each filters."""
_EXACT = {"vendor", "status", "priority", "kind", "sla"}
_SLA_VALUES = {
    "breached",
    "near_breach",
    "near-breach",
    "near",
    "at_risk",
    "at-risk",
    "risk",
    "ok",
    "none",
    "paused",
}


class FilterError(ValueError):
    """The filter text cannot be understood; the message says why, for the filter bar."""


@dataclass(frozen=True)
class Term:
    """One condition: ``field`` is a column name, ``text`` (free words) or ``regex``."""

    field: str
    values: tuple[str, ...]
    negated: bool = False
    exact: bool = False
    """Match the whole value (vendor, status, …) rather than a substring."""


def parse_filter(text: str) -> tuple[Term, ...]:
    """Parse the filter bar's text; raise :class:`FilterError` with a short reason."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.escape = ""  # backslashes belong to regular expressions, not to quoting
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError as exc:
        raise FilterError(f"unbalanced quotes ({exc})") from None
    terms: list[Term] = []
    for token in tokens:
        negated = token[:1] in ("-", "!") and len(token) > 1
        body = token[1:] if negated else token
        if len(body) >= 2 and body.startswith("/") and body.endswith("/"):
            pattern = body[1:-1]
            try:
                re.compile(pattern)
            except re.error as exc:
                raise FilterError(f"bad regular expression /{pattern}/: {exc}") from None
            terms.append(Term("regex", (pattern,), negated))
            continue
        name, colon, value = body.partition(":")
        if colon and name.lower() in FIELDS:
            field = FIELDS[name.lower()]
            values = tuple(v.strip().lower() for v in value.split(",") if v.strip())
            if not values:
                raise FilterError(f"{name}: needs a value")
            if field == "priority":
                values = tuple(v.upper() if v.upper().startswith("P") else f"P{v}" for v in values)
            if field == "sla":
                unknown = [v for v in values if v not in _SLA_VALUES]
                if unknown:
                    raise FilterError(
                        "sla: is breached, near_breach, at_risk, ok, paused or none,"
                        f" not {unknown[0]}"
                    )
                aliases = {"at-risk": "at_risk", "risk": "at_risk", "near-breach": "near_breach"}
                aliases["near"] = "near_breach"
                values = tuple(aliases.get(v, v) for v in values)
            terms.append(Term(field, values, negated, exact=field in _EXACT))
        elif colon and name and name.isalpha() and not value.startswith("//"):
            known = ", ".join(sorted({*FIELDS} - {"p"}))
            raise FilterError(f"unknown field {name!r} (known: {known})")
        else:
            terms.append(Term("text", (body.lower(),), negated))
    return tuple(terms)


class SortKey(StrEnum):
    """Columns the ticket pane can sort on (each backed by an index or the primary key)."""

    UPDATED = "updated"
    CREATED = "created"
    PRIORITY = "priority"
    STATUS = "status"
    VENDOR = "vendor"
    KEY = "key"
    TITLE = "title"
    ASSIGNEE = "assignee"


@dataclass(frozen=True)
class TicketQuery:
    """What the ticket pane asks for: sort, direction and a free-text filter."""

    sort: SortKey = SortKey.UPDATED
    descending: bool = True
    text: str = ""
    """Filter-bar text, as typed (see :func:`parse_filter`)."""
    active_only: bool = False
    exact: tuple[tuple[str, str], ...] = ()
    """(column, value) pairs that must match exactly: requester or asset history."""
    terms: tuple[Term, ...] = field(init=False, repr=False, compare=False)
    """``text`` parsed, once, when the query is built (:class:`FilterError` if it cannot be)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", parse_filter(self.text))
