"""Vendor ticket numbers in mail subjects: which ticket of which vendor a mail is about.

The ``match`` table of an IMAP section names, per configured vendor (the
``[vendors.NAME]`` the ticket lives in), how that vendor writes its ticket
numbers into subjects::

    [vendors.mail.match]
    hosting = "servicenow"                 # INC0012231, RITM0001234, CHG…, PRB…
    desktop = "zendesk"                    # [#48211] or Request #48211
    network = "jira:OPS,NET"               # OPS-812 (the projects' keys)
    app-partner = "connectwise"            # Ticket #1811523
    msp = "autotask"                       # T20260101.0001
    print-fleet = { pattern = '\\[#(?:INC|SR)-(\\d+)\\]', key = "#{}" }

A built-in name may take arguments after a colon: ``servicenow:INC,CHG``
(the number prefixes, which an instance can change in Number Maintenance)
and ``jira:OPS,NET`` (project keys). A table gives a regular expression of
your own: its first group that matched is the number, and ``key`` (default
``{}``) shapes it into the ticket's key as the vendor's connector stores it.

The key each built-in produces is the key that vendor's paneglass connector
gives its tickets (``TicketRecord.key``): ServiceNow's number, ``#{id}`` for
Zendesk and ConnectWise, the issue key for Jira, the ticket number for
Autotask. So paneglass can find the ticket by ``(vendor, key)``.

Evidence for each pattern (see vendor-apis-2.md §3.4; [D] vendor documentation,
[C] real mail or a widely used client, [U] unconfirmed):

* ServiceNow: a reply is recognised by a reply prefix plus a record number in
  the subject [D: ServiceNow docs, "Criteria for matching email to inbound
  actions"]; prefixes such as INC and CHG live per table in Number
  Maintenance and can be changed [D: "Record numbering"]; the default list
  beyond INC/CHG (RITM, REQ, PRB, SCTASK, TASK) and seven digits are [C]
  (captured incident numbers, INC0000060) / [U] for a given instance: pass
  your instance's prefixes as arguments. The body watermark ``Ref:MSG…`` is
  not read (it names a sys_email record, not the incident).
* Zendesk: ``[#1234]`` and ``Request #1234`` depend on the account's trigger
  templates (Zendesk threads mail by its own headers and an encoded id in the
  body) — [U]: not found in Zendesk's documentation; use a table for your
  account's template.
* Jira: a project key is an upper-case letter followed by upper-case letters,
  digits or underscores [D: Atlassian, "Changing the project key format", as
  quoted by several tools]; notification subjects read ``[JIRA] (KEY-12) …``
  [C: real Jira notifications, tests/connectors/captures/jira-notification-*.eml].
  Without arguments only that bracketed form is matched (a bare
  ``[A-Z]+-\\d+`` also matches ``UTF-8`` and ``ISO-8859``); with project keys,
  any mention of them is.
* Autotask: ``T`` + yyyymmdd + ``.`` + four digits [C: Autotask API capture
  ``ticketNumber``]; the e-mail subject template is [U].
* ConnectWise: ``Ticket #1811523`` / ``Service Ticket #…`` [C: third-party
  tools; U: ConnectWise's own template text]. ``Ticket#: 123`` (OTRS, Znuny,
  Zammad's ticket hook) is deliberately not matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BUILTINS", "Link", "Rule", "compile_rules", "find_links", "normalize_subject"]

MAX_SUBJECT = 1_000
"""Characters of a subject searched for ticket numbers (a subject is one line)."""

_SERVICENOW_PREFIXES = ("INC", "RITM", "REQ", "CHG", "PRB", "SCTASK", "TASK")
_WORD = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Link:
    """A mail's reference to one vendor ticket."""

    vendor: str
    """The configured vendor name the ticket lives in (``[vendors.NAME]``)."""
    key: str
    """The ticket's key as that vendor's connector stores it."""
    pattern: str
    """Which rule found it (``servicenow``, ``jira:OPS``, ``custom``…)."""

    def as_dict(self) -> dict[str, str]:
        return {"vendor": self.vendor, "key": self.key, "pattern": self.pattern}


@dataclass(frozen=True)
class Rule:
    """One vendor's compiled pattern."""

    vendor: str
    name: str
    regex: re.Pattern[str]
    key: Callable[[str], str]

    def links(self, text: str) -> list[Link]:
        found: list[Link] = []
        for match in self.regex.finditer(text):
            number = next((group for group in match.groups() if group), None)
            if number:
                found.append(Link(self.vendor, self.key(number), self.name))
        return found


def _servicenow(args: list[str]) -> tuple[str, Callable[[str], str]]:
    prefixes = args or list(_SERVICENOW_PREFIXES)
    alternatives = "|".join(re.escape(p.upper()) for p in sorted(prefixes, key=len, reverse=True))
    return rf"(?i)\b((?:{alternatives})\d{{7,}})\b", str.upper


def _zendesk(args: list[str]) -> tuple[str, Callable[[str], str]]:
    return r"(?i)(?:\[#(\d+)\]|\brequest\s+#(\d+)\b)", lambda n: f"#{n}"


def _jira(args: list[str]) -> tuple[str, Callable[[str], str]]:
    if args:
        projects = "|".join(re.escape(p) for p in sorted(args, key=len, reverse=True))
        return rf"\b((?:{projects})-\d+)\b", str.upper
    return r"(?i:\[jira\])\s*\(([A-Z][A-Z0-9_]*-\d+)\)", str.upper


def _autotask(args: list[str]) -> tuple[str, Callable[[str], str]]:
    return r"\b(T\d{8}\.\d{4})\b", str


def _connectwise(args: list[str]) -> tuple[str, Callable[[str], str]]:
    return r"(?i)\bticket\s*#\s*(\d+)\b", lambda n: f"#{n}"


BUILTINS: Mapping[str, Callable[[list[str]], tuple[str, Callable[[str], str]]]] = {
    "servicenow": _servicenow,
    "zendesk": _zendesk,
    "jira": _jira,
    "autotask": _autotask,
    "connectwise": _connectwise,
}
"""Built-in patterns by name; each takes the arguments written after ``name:``."""


def compile_rules(match: Mapping[str, Any]) -> tuple[Rule, ...]:
    """The ``match`` table as compiled rules; a bad entry raises ``ValueError`` naming it."""
    rules: list[Rule] = []
    for vendor, spec in match.items():
        rules.append(_rule(str(vendor), spec))
    return tuple(rules)


def _rule(vendor: str, spec: Any) -> Rule:
    if isinstance(spec, str):
        name, _, rest = spec.strip().partition(":")
        builtin = BUILTINS.get(name.strip().lower())
        if builtin is None:
            known = ", ".join(BUILTINS)
            raise ValueError(
                f"{vendor}: unknown pattern {name!r} (built-in: {known}); "
                "for your own write { pattern = '...', key = '{}' }"
            )
        args = [a.strip() for a in rest.split(",") if a.strip()]
        for arg in args:
            if not _WORD.match(arg):
                raise ValueError(
                    f"{vendor}: {arg!r} is not a prefix or project key (A-Z, digits, _)"
                )
        source, key = builtin(args)
        label = spec.strip() if args else spec.strip().lower()
        return Rule(vendor, label, re.compile(source), key)
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"pattern", "key"}
        if unknown:
            raise ValueError(f"{vendor}: unknown key(s) {', '.join(sorted(unknown))}")
        custom = spec.get("pattern")
        if not isinstance(custom, str) or not custom:
            raise ValueError(f"{vendor}: a table needs pattern = '...'")
        try:
            regex = re.compile(custom)
        except re.error as exc:
            raise ValueError(f"{vendor}: pattern is not a regular expression ({exc})") from None
        if regex.groups < 1:
            raise ValueError(f"{vendor}: pattern needs a (group) around the ticket number")
        template = spec.get("key", "{}")
        if not isinstance(template, str) or template.count("{}") != 1:
            raise ValueError(f"{vendor}: key must hold one {{}} where the number goes")
        return Rule(vendor, "custom", regex, _template(template))
    raise ValueError(f"{vendor}: must be a pattern name or a table {{ pattern = '...' }}")


def _template(template: str) -> Callable[[str], str]:
    def key(number: str) -> str:
        return template.replace("{}", number)

    return key


def find_links(rules: Iterable[Rule], subject: str) -> tuple[Link, ...]:
    """Every vendor ticket the subject names, in rule order, each once."""
    text = subject[:MAX_SUBJECT]
    seen: dict[tuple[str, str], Link] = {}
    for rule in rules:
        for link in rule.links(text):
            seen.setdefault((link.vendor, link.key), link)
    return tuple(seen.values())


_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|antw|tr|r|rif|res|enc)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*"
    r"|\[(?:external|ext|extern)\]\s*)+",
    re.IGNORECASE,
)


def normalize_subject(subject: str) -> str:
    """The subject without reply or forward prefixes (``Re:``, ``AW:``, ``Fwd[2]:``)."""
    return _REPLY_PREFIX.sub("", subject).strip()
