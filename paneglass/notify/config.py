"""The ``[notify]`` config section and its ``[[notify.rules]]``, validated at load.

Every mistake is one clear line naming the rule and the key. Secrets (a
webhook URL carries its own token; the SMTP password) are written as
``${VAR}`` and read from the environment by the config loader before this
module sees them; they are kept out of every ``repr``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paneglass.errors import UserError
from paneglass.notify.events import ALIASES, Event
from paneglass.notify.rules import (
    LOCAL_CHANNELS,
    REMOTE_CHANNELS,
    EscalationAction,
    NotifySettings,
    QuietHours,
    Rule,
    SmtpSettings,
    Webhook,
)
from paneglass.sla import parse_duration

__all__ = ["parse_notify"]

_PRIORITIES = {"P1", "P2", "P3", "P4", "P5"}
_RULE_KEYS = {
    "name",
    "when",
    "vendors",
    "priorities",
    "groups",
    "policies",
    "channels",
    "webhook",
    "webhook_format",
    "email_to",
    "command",
    "quiet_hours",
    "timezone",
    "repeat",
    "escalate_after",
    "escalate_to",
    "act_after",
    "act",
    "act_text",
    "act_assignee",
    "act_priority",
}
_ACTIONS = ("comment", "assign", "raise-priority")


def _names(raw: dict[str, Any], key: str, label: str) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{label}: {key} is a list of names")
    return list(value)


def _zone(value: Any, label: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"{label}: timezone {value!r} is not a known zone") from None


def _quiet(value: Any, zone: ZoneInfo, label: str) -> QuietHours:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", str(value).strip())
    if match is None:
        raise UserError(f'{label}: quiet_hours {value!r} is not a range like "22:00-07:00"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(0) if (h2, m2) == (24, 0) else time(h2, m2)
    except ValueError:
        raise UserError(f"{label}: quiet_hours {value!r} has an impossible time") from None
    if start == end:
        raise UserError(f"{label}: quiet_hours {value!r} starts and ends at the same time")
    return QuietHours(start, end, zone)


def _rule(
    index: int,
    raw: Any,
    where: str,
    default_zone: ZoneInfo,
    known_vendor: Callable[[str], bool],
) -> Rule:
    label = f"{where}: [[notify.rules]] #{index}"
    if not isinstance(raw, dict):
        raise UserError(f"{label} must be a table")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise UserError(f"{label} has unknown key(s) {', '.join(sorted(unknown))}")
    name = str(raw.get("name", f"rule {index}"))
    label = f"{where}: notify rule {name!r}"
    events: set[Event] = set()
    when = _names(raw, "when", label)
    if not when:
        raise UserError(f'{label} needs when = [...] (e.g. "sla", "ticket-new")')
    for word in when:
        if word in ALIASES:
            events |= ALIASES[word]
            continue
        try:
            events.add(Event(word))
        except ValueError:
            known = ", ".join([*ALIASES, *(e.value for e in Event)])
            raise UserError(f"{label}: when {word!r} is not an event (known: {known})") from None
    channels = _names(raw, "channels", label)
    if not channels:
        raise UserError(f"{label} needs channels = [...] (toast, bell, desktop, webhook, …)")
    wrong = [c for c in channels if c not in (*LOCAL_CHANNELS, *REMOTE_CHANNELS)]
    if wrong:
        known = ", ".join((*LOCAL_CHANNELS, *REMOTE_CHANNELS))
        raise UserError(f"{label}: channel {wrong[0]!r} is not one of {known}")
    priorities = _names(raw, "priorities", label)
    bad = [p for p in priorities if p not in _PRIORITIES]
    if bad:
        raise UserError(f"{label}: priorities are P1..P5, not {', '.join(bad)}")
    vendors = _names(raw, "vendors", label)
    strangers = [v for v in vendors if not known_vendor(v)]
    if strangers:
        raise UserError(f"{label} names unknown vendor(s) {', '.join(strangers)}")
    webhook = None
    if "webhook" in channels:
        url = raw.get("webhook")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise UserError(f'{label}: the webhook channel needs webhook = "https://…"')
        shape = str(raw.get("webhook_format", "generic"))
        if shape not in ("generic", "slack", "teams"):
            raise UserError(f"{label}: webhook_format is generic, slack or teams, not {shape!r}")
        webhook = Webhook(url, shape)
    email_to = tuple(_names(raw, "email_to", label))
    if "email" in channels and not email_to:
        raise UserError(f'{label}: the email channel needs email_to = ["noc@…"]')
    command: tuple[str, ...] = ()
    if "command" in channels:
        value = raw.get("command")
        if isinstance(value, str):
            command = tuple(shlex.split(value))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            command = tuple(value)
        if not command:
            raise UserError(f'{label}: the command channel needs command = ["/path/to/program"]')
    zone = _zone(raw["timezone"], label) if "timezone" in raw else default_zone
    quiet = _quiet(raw["quiet_hours"], zone, label) if "quiet_hours" in raw else None
    repeat = parse_duration(raw["repeat"], f"{label} repeat") if "repeat" in raw else None
    escalate_after = (
        parse_duration(raw["escalate_after"], f"{label} escalate_after")
        if "escalate_after" in raw
        else None
    )
    escalate_to = str(raw["escalate_to"]) if "escalate_to" in raw else None
    if (escalate_after is None) != (escalate_to is None):
        raise UserError(f"{label}: escalate_after and escalate_to go together")
    action = None
    if "act_after" in raw or "act" in raw:
        kind = str(raw.get("act", ""))
        if kind not in _ACTIONS:
            raise UserError(f"{label}: act is one of {', '.join(_ACTIONS)} (with act_after)")
        if "act_after" not in raw:
            raise UserError(f'{label}: act needs act_after (e.g. "30m")')
        text = str(raw.get("act_text", ""))
        assignee = str(raw.get("act_assignee", ""))
        priority = str(raw.get("act_priority", "P1"))
        if kind == "comment" and not text.strip():
            raise UserError(f'{label}: act = "comment" needs act_text')
        if kind == "assign" and not assignee.strip():
            raise UserError(f'{label}: act = "assign" needs act_assignee')
        if priority not in _PRIORITIES:
            raise UserError(f"{label}: act_priority is P1..P5, not {priority!r}")
        action = EscalationAction(
            parse_duration(raw["act_after"], f"{label} act_after"), kind, text, assignee, priority
        )
    return Rule(
        name=name,
        events=frozenset(events),
        channels=tuple(dict.fromkeys(channels)),
        vendors=frozenset(vendors),
        priorities=frozenset(priorities),
        groups=frozenset(g.lower() for g in _names(raw, "groups", label)),
        policies=frozenset(_names(raw, "policies", label)),
        webhook=webhook,
        email_to=email_to,
        command=command,
        quiet=quiet,
        repeat=repeat,
        escalate_after=escalate_after,
        escalate_to=escalate_to,
        action=action,
    )


def _smtp(section: Any, where: str) -> SmtpSettings:
    label = f"{where}: [notify.smtp]"
    if not isinstance(section, dict):
        raise UserError(f"{label} must be a table")
    allowed = {"host", "port", "starttls", "username", "password", "from", "ca_file", "timeout"}
    unknown = set(section) - allowed
    if unknown:
        raise UserError(f"{label} has unknown key(s) {', '.join(sorted(unknown))}")
    host = section.get("host")
    if not isinstance(host, str) or not host:
        raise UserError(f"{label} needs host")
    port = section.get("port", 587)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise UserError(f"{label}: port is a number from 1 to 65535")
    starttls = section.get("starttls", True)
    if not isinstance(starttls, bool):
        raise UserError(f"{label}: starttls is true or false")
    username = section.get("username")
    password = section.get("password")
    if (username is None) != (password is None):
        raise UserError(f'{label}: username and password go together (password = "${{VAR}}")')
    return SmtpSettings(
        host=host,
        port=port,
        starttls=starttls,
        username=str(username) if username is not None else None,
        password=str(password) if password is not None else None,
        sender=str(section.get("from", "paneglass@localhost")),
        ca_file=str(section["ca_file"]) if "ca_file" in section else None,
        timeout=float(section.get("timeout", 30)),
    )


def parse_notify(
    section: Any,
    where: str,
    *,
    default_zone: ZoneInfo,
    known_vendor: Callable[[str], bool] = lambda name: True,
    policies: frozenset[str] | None = None,
) -> NotifySettings:
    """Validate ``[notify]`` (its rules, SMTP relay and timings)."""
    if section is None:
        return NotifySettings()
    if not isinstance(section, dict):
        raise UserError(f"{where}: [notify] must be a table")
    allowed = {"rules", "smtp", "timezone", "toast_seconds", "webhook_timeout", "command_timeout"}
    unknown = set(section) - allowed
    if unknown:
        raise UserError(f"{where}: [notify] has unknown key(s) {', '.join(sorted(unknown))}")
    zone = (
        _zone(section["timezone"], f"{where}: [notify]") if "timezone" in section else default_zone
    )
    raw_rules = section.get("rules", [])
    if not isinstance(raw_rules, list):
        raise UserError(f"{where}: rules are written [[notify.rules]]")
    rules = tuple(
        _rule(i, raw, where, zone, known_vendor) for i, raw in enumerate(raw_rules, start=1)
    )
    names = [r.name for r in rules]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError(f"{where}: notify rule name(s) used twice: {', '.join(twice)}")
    for rule in rules:
        if rule.escalate_to is not None and rule.escalate_to not in names:
            raise UserError(
                f"{where}: notify rule {rule.name!r} escalates to {rule.escalate_to!r}, "
                "which is not a rule"
            )
        if policies is not None:
            strangers = sorted(rule.policies - policies)
            if strangers:
                raise UserError(
                    f"{where}: notify rule {rule.name!r} names unknown polic(ies) "
                    f"{', '.join(strangers)}"
                )
    smtp = _smtp(section["smtp"], where) if "smtp" in section else None
    if smtp is None and any("email" in r.channels for r in rules):
        raise UserError(f"{where}: the email channel needs [notify.smtp] host = …")

    def seconds(key: str, default: float) -> float:
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise UserError(f"{where}: [notify] {key} is a number of seconds > 0")
        return float(value)

    return NotifySettings(
        rules=rules,
        smtp=smtp,
        toast_seconds=seconds("toast_seconds", 12.0),
        webhook_timeout=seconds("webhook_timeout", 15.0),
        command_timeout=seconds("command_timeout", 30.0),
    )
