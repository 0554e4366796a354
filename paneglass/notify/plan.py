"""What the rules would do, in words, for ``paneglass check --rules``: nothing is sent.

Each rule: what it listens to, which tickets, its channels (a webhook shows
its host only: the URL carries a secret), its controls, and, for an
escalation action, the exact request each vendor's connector would send
(the same dry run an operator sees before confirming an action).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from connectors import VendorConfig
from paneglass.notify.rules import EscalationAction, NotifySettings, Rule

__all__ = ["describe_rules"]

ActionPlanner = Callable[[Rule, EscalationAction, VendorConfig], tuple[str, str | None]]
"""(rule, action, vendor) → (dry run, refusal)."""


def _fmt(minutes: float) -> str:
    return f"{minutes:g} min" if minutes < 120 else f"{minutes / 60:g} h"


def _rule_lines(
    rule: Rule, settings: NotifySettings, vendors: list[VendorConfig], plan: ActionPlanner
) -> Iterable[str]:
    yield f"rule {rule.name!r}"
    yield f"  when      {', '.join(sorted(e.value for e in rule.events))}"
    filters = [
        f"{name} {', '.join(sorted(values))}"
        for name, values in (
            ("vendors", rule.vendors),
            ("priorities", rule.priorities),
            ("groups", rule.groups),
            ("policies", rule.policies),
        )
        if values
    ]
    yield f"  which     {'; '.join(filters) or 'every ticket and vendor'}"
    channels = []
    for channel in rule.channels:
        if channel == "webhook" and rule.webhook is not None:
            channels.append(f"webhook {rule.webhook.format} → {rule.webhook.shown}")
        elif channel == "email":
            relay = settings.smtp.host if settings.smtp else "?"
            channels.append(f"email → {', '.join(rule.email_to)} via {relay}")
        elif channel == "command":
            channels.append(f"command {rule.command[0]} (event JSON on stdin)")
        elif channel == "desktop":
            channels.append("desktop (OSC 9 + OSC 777)")
        else:
            channels.append(channel)
    yield f"  channels  {'; '.join(channels)}"
    if rule.mute_in_maintenance:
        yield "  mute      a vendor's tickets during its announced maintenance (audited)"
    if rule.quiet is not None:
        yield f"  quiet     {rule.quiet}: held, then one digest when it ends"
    if rule.repeat is not None:
        yield f"  repeat    every {_fmt(rule.repeat.total_seconds() / 60)} until acknowledged"
    if rule.escalate_after is not None:
        minutes = rule.escalate_after.total_seconds() / 60
        yield f"  escalate  after {_fmt(minutes)} unacknowledged → rule {rule.escalate_to!r}"
    spec = rule.action
    if spec is not None:
        minutes = spec.after.total_seconds() / 60
        what = {"comment": f"comment {spec.text!r}", "assign": f"assign to {spec.assignee}"}.get(
            spec.kind, f"raise priority to {spec.priority}"
        )
        yield f"  act       after {_fmt(minutes)} unacknowledged: {what} (audited; never"
        yield "            from a --read-only console, wall or browser tab)"
        if spec.kind == "raise-priority":
            yield f"            never lowers: a ticket already at or above {spec.priority} is left"
            yield "            alone (the notification log says so)"
        targets = [v for v in vendors if not rule.vendors or v.name in rule.vendors]
        for vendor in targets:
            dry_run, refused = plan(rule, spec, vendor)
            if refused:
                yield f"    {vendor.name} ({vendor.kind}): refused — {refused}"
                continue
            yield f"    {vendor.name} ({vendor.kind}) dry run:"
            for line in dry_run.splitlines():
                yield f"      {line}"


def describe_rules(
    settings: NotifySettings, vendors: list[VendorConfig], plan: ActionPlanner
) -> list[str]:
    """Every rule in words, with dry runs of its escalation actions."""
    if not settings.rules:
        return ["no [[notify.rules]]: nothing is notified (the notifications pane stays empty)"]
    lines: list[str] = []
    for rule in settings.rules:
        lines.extend(_rule_lines(rule, settings, vendors, plan))
    return lines
