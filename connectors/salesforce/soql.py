"""SOQL text built from values we trust: literals are checked or escaped, never pasted.

Every value that goes into a query either comes from config (a status name,
an API version) or from a vendor payload (a record Id, a timestamp we
parsed). Ids are accepted only in Salesforce's own shape (15 or 18
alphanumerics), strings are quoted with SOQL's escapes, and datetimes are
formatted by us, so a hostile payload cannot widen a query.

SOQL datetime literals are written unquoted, ``YYYY-MM-DDThh:mm:ssZ``, in UTC
(Salesforce "Date Formats and Date Literals"). ``Z`` is used rather than
``+00:00`` because a ``+`` in the ``q`` parameter would otherwise have to
survive form decoding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from connectors.errors import BadPayload

__all__ = ["ID_PATTERN", "chunks", "datetime_literal", "id_list", "id_literal", "string_literal"]

ID_PATTERN = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
"""A Salesforce record Id: 15 characters (case-sensitive) or 18 (case-safe)."""

_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"'}


def string_literal(value: str) -> str:
    """``value`` as a quoted SOQL string literal (backslash escapes, no raw quotes)."""
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"


def id_literal(value: object) -> str:
    """A record Id as a quoted literal; :class:`BadPayload` for anything else."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise BadPayload(f"not a Salesforce record Id: {str(value)[:40]!r}")
    return f"'{value}'"


def id_list(values: Iterable[object]) -> str:
    """``('a','b',…)`` for an ``IN`` term; every value checked as an Id."""
    return "(" + ",".join(id_literal(v) for v in values) + ")"


def datetime_literal(value: datetime) -> str:
    """An aware datetime as an unquoted SOQL dateTime literal in UTC, to the second."""
    if value.tzinfo is None:
        raise ValueError("SOQL datetimes must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def chunks(values: Sequence[str], size: int) -> list[Sequence[str]]:
    """``values`` in runs of at most ``size`` (``IN`` lists are kept short)."""
    return [values[i : i + size] for i in range(0, len(values), size)]
