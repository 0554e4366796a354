"""Across every connector: the dry run never shows a credential, and the support table holds.

The plan is what the operator sees before confirming and what the audit log
keeps, so no secret from the vendor's config section may appear in it.
"""

from __future__ import annotations

import httpx2
import pytest

from connectors import VendorConfig, load_connector
from connectors.actions import Action, ActionKind, Handoff, UnsupportedAction
from connectors.emulators import emulator_for
from connectors.records import Priority, TicketStatus

KINDS = (
    "servicenow",
    "zendesk",
    "jira",
    "freshservice",
    "autotask",
    "connectwise",
    "pagerduty",
    "opsgenie",
    "statuspage",
)
SECRET_KEYS = ("password", "token", "api_token", "api_key", "secret", "private_key")

EXPECTED = {
    "servicenow": {"comment", "assign", "set_status", "create"},
    "zendesk": {"comment", "assign", "set_status", "create"},
    "jira": {"comment", "assign", "set_status", "create"},
    "freshservice": {"comment", "assign", "set_status", "create"},
    "autotask": {"comment", "assign", "set_status", "create"},
    "connectwise": {"comment", "assign", "set_status", "resolve", "create"},
    "pagerduty": {"comment", "assign", "set_status", "acknowledge", "resolve", "create"},
    "opsgenie": {"comment", "assign", "set_status", "acknowledge", "resolve", "create"},
    "statuspage": set(),
}
"""The README's support table, per vendor."""


def sample(kind: ActionKind) -> Action:
    handoff = Handoff(
        title="Printer VLAN unreachable",
        description="VLAN 40",
        source_vendor="desktop",
        source_key="#4201",
        source_external_id="4201",
        correlation="desktop:4201",
        requester="maria.jensen@acme.example",
        asset="PRN-3F-EAST",
        priority=Priority.P2,
        source_url="https://desk.example/4201",
    )
    return Action(
        kind,
        None if kind is ActionKind.CREATE else "1001",
        None if kind is ActionKind.CREATE else "KEY-1",
        text="checked the cable",
        assignee="1234",
        status=TicketStatus.RESOLVED,
        handoff=handoff if kind is ActionKind.CREATE else None,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_support_table_and_no_secret_in_any_dry_run(kind: str) -> None:
    emulator = emulator_for(kind)()
    settings = emulator.vendor_settings()
    settings.pop("kind")
    config = VendorConfig("v", kind, "http://127.0.0.1:9", settings=settings)
    cls = load_connector(kind)
    connector = cls(config, httpx2.AsyncClient())
    assert {a.value for a in cls.supported_actions} == EXPECTED[kind]
    secrets = [str(v) for k, v in settings.items() if k in SECRET_KEYS and v]
    planned = 0
    for action_kind in cls.supported_actions:
        try:
            requests = connector.plan(sample(action_kind))
        except UnsupportedAction:
            continue  # e.g. an id the vendor would not take: refused before sending
        planned += 1
        text = "\n".join(r.describe() for r in requests)
        assert text, f"{kind} {action_kind}: an empty plan"
        for secret in secrets:
            assert secret not in text, f"{kind} {action_kind}: a credential in the dry run"
        for request in requests:
            assert "authorization" not in {h.lower() for h in request.headers}
    # Some samples are refused before sending (an id format, a missing setting): most are not.
    assert planned >= len(cls.supported_actions) - 1, f"{kind}: only {planned} plans made"


def test_vendor_answers_are_cleaned_where_results_are_built() -> None:
    from connectors.actions import ActionResult
    from tests.hostile import has_forbidden

    result = ActionResult(
        "HTTP 201: created \x1b]52;c;ZXZpbA==\x07INC1\u202e", 201, "id\x1b[2J", "INC\x9b1\nX"
    )
    for text in (result.summary, result.created_id, result.created_key):
        assert text is not None and not has_forbidden(text), repr(text)
    assert result.created_key == "INC1 X"
