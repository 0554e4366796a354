"""Across every connector: the dry run never shows a credential, and the support table holds.

The plan is what the operator sees before confirming and what the audit log
keeps, so no secret from the vendor's config section may appear in it.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from connectors import VendorConfig, load_connector
from connectors.actions import Action, ActionKind, Handoff
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


def offered(cell: str) -> bool:
    """A support-table cell that names a way (``—`` means the vendor offers none)."""
    return not cell.startswith("—")


def readme_support_table() -> dict[str, set[str]]:
    """The write-back support table, read from the README itself: kind -> action kinds.

    Columns: comment, assign, status, ack / resolve, hand-off; ``—`` means not offered.
    """
    lines = README.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| vendor | comment"))
    table: dict[str, set[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        name, comment, assign, status, ack_resolve, handoff = (
            cell.strip() for cell in line.strip("|").split("|")
        )
        actions = {
            action
            for action, cell in (("comment", comment), ("assign", assign), ("set_status", status))
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
        text="checked the cable",
        assignee=assignee,
        status=TicketStatus.RESOLVED,
        handoff=handoff if kind is ActionKind.CREATE else None,
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
