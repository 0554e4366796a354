"""The SOQL subset the Salesforce emulator understands: a tokenizer, a parser, an evaluator.

Enough of the language for what clients of a Service Cloud org send::

    SELECT COUNT() | FIELDS(ALL) | field[, Relation.field…]
    FROM Object
    [WHERE condition]          -- AND / OR / NOT, parentheses; = != <> < <= > >=,
                               -- [NOT] IN (…), LIKE; 'strings', numbers, true/false/null,
                               -- dateTime literals (2025-03-04T09:00:00Z, …+01:00)
    [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], …]
    [LIMIT n]

Anything else is refused the way Salesforce refuses it: ``MALFORMED_QUERY``.
Text comparisons are case-insensitive, as in SOQL; Id comparisons are exact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "And",
    "Comparison",
    "Not",
    "Or",
    "Query",
    "SoqlError",
    "conjuncts",
    "parse",
    "wire_time",
]


class SoqlError(Exception):
    """A query Salesforce would refuse: ``code`` is its errorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))
      | (?P<date>\d{4}-\d{2}-\d{2})
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "LIMIT",
        "OFFSET",
        "TRUE",
        "FALSE",
        "NULL",
    }
)


def wire_time(value: datetime) -> str:
    """A datetime in Salesforce's answer format: ``2026-10-01T13:59:15.000+0000``."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    value: Any = None


def tokenize(soql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = soql.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token at: {text[pos : pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup
        assert kind is not None
        raw = match.group(kind)
        if kind == "string":
            body = raw[1:-1]
            value = re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m[1], m[1]), body)
            tokens.append(Token("value", raw, value))
        elif kind == "datetime":
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            tokens.append(Token("value", raw, _Time(wire_time(parsed))))
        elif kind == "date":
            tokens.append(Token("value", raw, raw))
        elif kind == "number":
            tokens.append(Token("value", raw, float(raw) if "." in raw else int(raw)))
        elif kind == "word" and raw.upper() in ("TRUE", "FALSE", "NULL"):
            literal = {"TRUE": True, "FALSE": False, "NULL": None}[raw.upper()]
            tokens.append(Token("value", raw, literal))
        elif kind == "word" and raw.upper() in KEYWORDS:
            tokens.append(Token("kw", raw.upper()))
        else:
            tokens.append(Token(kind, raw))
    return tokens


@dataclass(frozen=True)
class _Time:
    """A dateTime literal, kept in the wire format (which sorts as text)."""

    wire: str


@dataclass(frozen=True)
class Comparison:
    path: str
    op: str
    value: Any
    """A scalar, a :class:`_Time`, or a tuple for IN / NOT IN."""


@dataclass(frozen=True)
class And:
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    part: Any


@dataclass
class Query:
    sobject: str
    fields: list[str] = field(default_factory=list)
    count: bool = False
    all_fields: bool = False
    where: Any = None
    order: list[tuple[str, bool]] = field(default_factory=list)
    """(path, descending)."""
    limit: int | None = None


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        self.pos += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "kw" and token.text == word:
            self.pos += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            found = self.peek()
            raise SoqlError(
                "MALFORMED_QUERY",
                f"expecting {word}, found {found.text if found else 'end of query'!r}",
            )

    def punct(self, char: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == char:
            self.pos += 1
            return True
        return False

    def word(self) -> str:
        token = self.next()
        if token.kind != "word":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {token.text!r}")
        return token.text

    def query(self) -> Query:
        self.expect_keyword("SELECT")
        query = Query(sobject="")
        while True:
            name = self.word()
            if name.upper() == "COUNT" and self.punct("("):
                if not self.punct(")"):
                    raise SoqlError("MALFORMED_QUERY", "COUNT() takes no field here")
                query.count = True
            elif name.upper() == "FIELDS" and self.punct("("):
                what = self.word().upper()
                if what != "ALL" or not self.punct(")"):
                    raise SoqlError("MALFORMED_QUERY", "only FIELDS(ALL) is understood")
                query.all_fields = True
            else:
                query.fields.append(name)
            if not self.punct(","):
                break
        self.expect_keyword("FROM")
        query.sobject = self.word()
        if self.keyword("WHERE"):
            query.where = self.disjunction()
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            while True:
                path = self.word()
                descending = False
                if self.keyword("DESC"):
                    descending = True
                else:
                    self.keyword("ASC")
                if self.keyword("NULLS") and not (self.keyword("FIRST") or self.keyword("LAST")):
                    raise SoqlError("MALFORMED_QUERY", "NULLS FIRST or NULLS LAST")
                query.order.append((path, descending))
                if not self.punct(","):
                    break
        if self.keyword("LIMIT"):
            token = self.next()
            if token.kind != "value" or not isinstance(token.value, int) or token.value < 0:
                raise SoqlError("MALFORMED_QUERY", "LIMIT needs a whole number")
            query.limit = token.value
        if self.peek() is not None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {self.next().text!r}")
        if query.count and (query.fields or query.all_fields):
            raise SoqlError("MALFORMED_QUERY", "COUNT() cannot be mixed with fields")
        return query

    def disjunction(self) -> Any:
        parts = [self.conjunction()]
        while self.keyword("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Any:
        parts = [self.negation()]
        while self.keyword("AND"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def negation(self) -> Any:
        if self.keyword("NOT"):
            return Not(self.negation())
        if self.punct("("):
            inner = self.disjunction()
            if not self.punct(")"):
                raise SoqlError("MALFORMED_QUERY", "missing )")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        path = self.word()
        if self.keyword("NOT"):
            self.expect_keyword("IN")
            return Comparison(path, "NOT IN", self.value_list())
        if self.keyword("IN"):
            return Comparison(path, "IN", self.value_list())
        if self.keyword("LIKE"):
            return Comparison(path, "LIKE", self.value())
        token = self.next()
        if token.kind != "op":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {token.text!r}")
        op = "!=" if token.text == "<>" else token.text
        return Comparison(path, op, self.value())

    def value(self) -> Any:
        token = self.next()
        if token.kind != "value":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {token.text!r}")
        return token.value

    def value_list(self) -> tuple[Any, ...]:
        if not self.punct("("):
            raise SoqlError("MALFORMED_QUERY", "IN needs a list in parentheses")
        values = [self.value()]
        while self.punct(","):
            values.append(self.value())
        if not self.punct(")"):
            raise SoqlError("MALFORMED_QUERY", "missing ) after IN list")
        return tuple(values)


def parse(soql: str) -> Query:
    """A parsed query, or :class:`SoqlError` (``MALFORMED_QUERY``)."""
    return _Parser(tokenize(soql)).query()


def conjuncts(where: Any) -> list[Any]:
    """The top-level AND terms of a condition (one term when it is not an AND)."""
    if where is None:
        return []
    if isinstance(where, And):
        return list(where.parts)
    return [where]


def evaluate(condition: Any, resolve: Callable[[str], Any], ids: frozenset[str]) -> bool:
    """Whether a record (its fields through ``resolve``) matches ``condition``.

    ``ids`` names the fields compared exactly (record Ids); other text compares
    case-insensitively, as SOQL does.
    """
    if isinstance(condition, And):
        return all(evaluate(p, resolve, ids) for p in condition.parts)
    if isinstance(condition, Or):
        return any(evaluate(p, resolve, ids) for p in condition.parts)
    if isinstance(condition, Not):
        return not evaluate(condition.part, resolve, ids)
    assert isinstance(condition, Comparison)
    actual = resolve(condition.path)
    exact = condition.path in ids
    if condition.op in ("IN", "NOT IN"):
        found = any(_equal(actual, v, exact) for v in condition.value)
        return found if condition.op == "IN" else not found
    if condition.op == "=":
        return _equal(actual, condition.value, exact)
    if condition.op == "!=":
        return not _equal(actual, condition.value, exact)
    if condition.op == "LIKE":
        if not isinstance(actual, str) or not isinstance(condition.value, str):
            return False
        pattern = "".join(
            ".*" if c == "%" else "." if c == "_" else re.escape(c) for c in condition.value
        )
        return re.fullmatch(pattern, actual, re.IGNORECASE | re.DOTALL) is not None
    left, right = _comparable(actual, exact), _comparable(condition.value, exact)
    if left is None or right is None or type(left) is not type(right):
        return False
    return bool(_ORDER[condition.op](left, right))


_ORDER: Mapping[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _comparable(value: Any, exact: bool) -> Any:
    if isinstance(value, _Time):
        return value.wire
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value if exact else value.lower()
    if isinstance(value, int | float):
        return float(value)
    return None


def _equal(actual: Any, expected: Any, exact: bool) -> bool:
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, _Time):
        return bool(actual == expected.wire)
    if isinstance(expected, str) and isinstance(actual, str):
        if exact:  # a 15-character Id matches its 18-character form
            return actual == expected or actual[:15] == expected or actual == expected[:15]
        return actual.lower() == expected.lower()
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(actual) == float(expected)
    return False


def literal_time(value: Any) -> str | None:
    """The wire text of a dateTime literal (``None`` for any other value)."""
    return value.wire if isinstance(value, _Time) else None
