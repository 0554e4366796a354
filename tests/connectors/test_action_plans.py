"""Across every connector: the dry run never shows a credential, and the support table holds.

The plan is what the operator sees before confirming and what the audit log
keeps, so no secret from the vendor's config section may appear in it.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from connectors import Connector, VendorConfig, load_connector
from connectors.actions import Action, ActionKind, Handoff, PlannedRequest
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

README = Path(__file__).resolve().parents[2] / "README.md"
VENDOR_NAMES = {
    "ServiceNow": "servicenow",
    "Jira Service Management": "jira",
    "Zendesk": "zendesk",
    "Freshservice": "freshservice",
    "Autotask": "autotask",
    "ConnectWise PSA": "connectwise",
    "PagerDuty": "pagerduty",
    "Opsgenie": "opsgenie",
    "Statuspage": "statuspage",
}
"""The README's vendor names and the connector kinds they stand for."""
ASSIGNEES = {"pagerduty": "PXPGF42", "opsgenie": "oncall@acme.example"}
"""Who to assign to, as each vendor names agents (the README's assign column)."""
EXTRA_SETTINGS = {"jira": {"project": "IT"}}
"""Settings a hand-off needs that the emulator's read-only settings lack."""


def dry_run(
    cls: type[Connector], config: VendorConfig, action: Action
) -> tuple[tuple[PlannedRequest, ...], str]:
    """The plan from the class and settings alone (no client exists), and its text.

    Fails if the text shows any credential of the section or an auth header.
    """
    planned = cls.plan_action(config, action)
    text = "\n".join(p.describe() for p in planned)
    for key, value in config.settings.items():
        if key in SECRET_KEYS and value:
            assert str(value) not in text, f"{config.kind}: {key} in the dry run"
    for request in planned:
        assert "authorization" not in {h.lower() for h in request.headers}
    return planned, text


def offered(cell: str) -> bool:
    """A support-table cell that names a way (``—`` means the vendor offers none)."""
    return not cell.startswith("—")


def readme_support_table() -> dict[str, set[str]]:
    """The write-back support table, read from the README itself: kind -> action kinds.

    Columns: comment, assign, status, priority, ack / resolve, hand-off; ``—`` means not
    offered.
    """
    lines = README.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| vendor | comment"))
    table: dict[str, set[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        name, comment, assign, status, priority, ack_resolve, handoff = (
            cell.strip() for cell in line.strip("|").split("|")
        )
        actions = {
            action
            for action, cell in (
                ("comment", comment),
                ("assign", assign),
                ("set_status", status),
                ("set_priority", priority),
            )
            if offered(cell)
        }
        if offered(ack_resolve):
            if "acknowledge" in ack_resolve:
                actions.add("acknowledge")
            if "resolve" in ack_resolve or "close" in ack_resolve:
                actions.add("resolve")
        if offered(handoff):
            actions.add("create")
        table[VENDOR_NAMES[name]] = actions
    return table


EXPECTED = readme_support_table()


def test_the_readme_table_names_every_kind() -> None:
    assert set(EXPECTED) == set(KINDS)
    assert EXPECTED["opsgenie"] == {
        "comment",
        "assign",
        "set_status",
        "set_priority",
        "acknowledge",
        "resolve",
        "create",
    }
    assert EXPECTED["statuspage"] == set()


def sample(kind: ActionKind, assignee: str = "1234") -> Action:
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
        text="" if kind is ActionKind.SET_PRIORITY else "checked the cable",
        assignee=assignee,
        status=TicketStatus.RESOLVED,
        handoff=handoff if kind is ActionKind.CREATE else None,
        priority=Priority.P2 if kind is ActionKind.SET_PRIORITY else None,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_support_table_and_no_secret_in_any_dry_run(kind: str) -> None:
    emulator = emulator_for(kind)()
    settings = emulator.vendor_settings()
    settings.pop("kind")
    cls = load_connector(kind)
    assert {a.value for a in cls.supported_actions} == EXPECTED[kind]
    secrets = [str(v) for k, v in settings.items() if k in SECRET_KEYS and v]
    settings.update(EXTRA_SETTINGS.get(kind, {}))
    config = VendorConfig("v", kind, "http://127.0.0.1:9", settings=settings)
    connector = cls(config, httpx2.AsyncClient())
    for action_kind in cls.supported_actions:
        # Every action the README promises is planned: none refused before sending.
        requests = connector.plan(sample(action_kind, ASSIGNEES.get(kind, "1234")))
        text = "\n".join(r.describe() for r in requests)
        assert text, f"{kind} {action_kind}: an empty plan"
        for secret in secrets:
            assert secret not in text, f"{kind} {action_kind}: a credential in the dry run"
        for request in requests:
            assert "authorization" not in {h.lower() for h in request.headers}


def test_vendor_answers_are_cleaned_where_results_are_built() -> None:
    from connectors.actions import ActionResult
    from tests.hostile import has_forbidden

    result = ActionResult(
        "HTTP 201: created \x1b]52;c;ZXZpbA==\x07INC1\u202e", 201, "id\x1b[2J", "INC\x9b1\nX"
    )
    for text in (result.summary, result.created_id, result.created_key):
        assert text is not None and not has_forbidden(text), repr(text)
    assert result.created_key == "INC1 X"


def test_set_priority_is_plain_data_that_round_trips() -> None:
    action = Action(ActionKind.SET_PRIORITY, "1001", "INC1", priority=Priority.P1)
    assert action.summary() == "set priority → P1"
    assert ActionKind.SET_PRIORITY.label == "set priority"
    assert action.idempotent  # setting P1 twice leaves P1: safe to retry
    stored = action.to_json()
    assert '"priority": "P1"' in stored
    assert Action.from_json(stored) == action
    with pytest.raises(ValueError, match="needs a priority"):
        Action(ActionKind.SET_PRIORITY, "1001", "INC1")
    with pytest.raises(ValueError, match="carries no note"):
        Action(ActionKind.SET_PRIORITY, "1001", "INC1", text="why", priority=Priority.P2)
    # An action stored before priorities existed still reads back.
    older = Action(ActionKind.COMMENT, "1001", "INC1", text="hi")
    legacy = older.to_json().replace(', "priority": null', "")
    assert '"priority"' not in legacy and Action.from_json(legacy) == older


def test_vendor_priority_picks_the_first_value_that_reads_back_as_wanted() -> None:
    from connectors.actions import PriorityChoice, UnsupportedAction, vendor_priority

    choices = [
        PriorityChoice("crit", "Critical", Priority.P1),
        PriorityChoice("hi", "High", Priority.P2),
        PriorityChoice("hot", "Hot", Priority.P2),
        PriorityChoice("odd", "Odd", None),
    ]
    assert vendor_priority("acme", Priority.P2, choices) == "hi"
    with pytest.raises(UnsupportedAction) as refused:
        vendor_priority("acme", Priority.P5, choices)
    assert str(refused.value) == (
        "acme: no priority here reads as P5 (priority_map included); "
        "it can set Critical (P1), High (P2), Hot (P2)"
    )
