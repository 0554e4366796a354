"""Jira write-back against the emulator: the requests on the wire and the next poll."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connectors.actions import Action, ActionKind, Handoff, PlannedRequest, UnsupportedAction
from connectors.base import VendorConfig
from connectors.emulators.base import Request, WorldTicket
from connectors.emulators.jira import JiraEmulator
from connectors.errors import ConnectorError
from connectors.jira import JiraConnector
from connectors.jira.actions import _choose, adf, dedupe_label
from connectors.overrides import Overrides
from connectors.records import Priority, TicketStatus
from tests.connectors.test_action_plans import dry_run
from tests.connectors.test_jira import NOW, by_key, config_for, connector_for, world

ISSUE = "/rest/api/3/issue"
INTERNAL = [{"key": "sd.public.comment", "value": {"internal": True}}]


def handoff(correlation: str = "network:OPS-1", **fields: Any) -> Handoff:
    values: dict[str, Any] = {
        "title": "Printer VLAN unreachable",
        "description": "Handed over from network OPS-1.",
        "source_vendor": "network",
        "source_key": "OPS-1",
        "source_external_id": "10001",
        "correlation": correlation,
        "requester": "Maria Jensen",
        "asset": "PRN-0042",
        "priority": Priority.P2,
        "source_url": "https://desk.example/tickets/OPS-1",
        **fields,
    }
    return Handoff(**values)


def stale(ref: str, **fields: Any) -> WorldTicket:
    """An issue updated well before the newest one (an anchor put next to it), so it is
    outside the next incremental search unless a write moves its ``updated``."""
    return world(ref, updated_at=NOW - timedelta(hours=3), **fields)


def sent(emu: JiraEmulator, method: str, suffix: str) -> list[Request]:
    return [r for r in emu.requests if r.method == method and r.path.endswith(suffix)]


def texts(node: Any) -> list[str]:
    """Every text node of an ADF document, in order."""
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "text" else []
        return own + [t for child in node.get("content", []) for t in texts(child)]
    return []


async def test_internal_and_public_comments_reach_the_issue_and_the_next_poll() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(stale("a"))
        emu.put_ticket(world("anchor"))
        issue_id = emu.issue("a")["id"]
        async with connector_for(emu) as jira:
            first = await jira.poll(None)
            before = by_key(first.tickets)[key].updated_at
            note = Action(ActionKind.COMMENT, issue_id, key, text="Checked cabling")
            (planned,) = jira.plan(note)
            assert planned.method == "POST" and planned.path == f"{ISSUE}/{key}/comment"
            assert planned.body == {
                "body": {
                    "type": "doc",
                    "version": 1,
                    "content": [
                        {
                            "type": "paragraph",
                            "content": [{"type": "text", "text": "Checked cabling"}],
                        }
                    ],
                },
                "properties": INTERNAL,
            }
            result = await jira.perform(note)
            reply = "Hello Maria,\nwe are on it.\n\nKim"
            public = Action(ActionKind.COMMENT, issue_id, key, text=reply, public=True)
            assert "properties" not in jira.plan(public)[0].body
            await jira.perform(public)
            later = by_key((await jira.poll(first.cursor)).tickets)
    assert result.http_status == 201 and key in result.summary
    assert [(c.text, c.public) for c in emu.comments_on(issue_id)] == [
        ("Checked cabling", False),
        (reply, True),
    ]
    assert later[key].updated_at > before


def test_adf_keeps_paragraphs_and_line_breaks() -> None:
    document = adf("one\ntwo\n\n\nthree", link="https://x.example/1")
    paragraphs = document["content"]
    assert [p["type"] for p in paragraphs] == ["paragraph"] * 3
    assert [n["type"] for n in paragraphs[0]["content"]] == ["text", "hardBreak", "text"]
    assert texts(document) == ["one", "two", "three", "https://x.example/1"]
    link = paragraphs[2]["content"][0]
    assert link["marks"] == [{"type": "link", "attrs": {"href": "https://x.example/1"}}]


async def test_assign_by_account_id_shows_in_the_next_poll() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(stale("a", assignee="Kim Lee"))
        emu.put_ticket(world("b", assignee="Ana Ruiz"))
        ana = emu.account_id("Ana Ruiz")
        async with connector_for(emu) as jira:
            first = await jira.poll(None)
            action = Action(ActionKind.ASSIGN, emu.issue("a")["id"], key, assignee=ana)
            (planned,) = jira.plan(action)
            assert planned.method == "PUT" and planned.path == f"{ISSUE}/{key}/assignee"
            assert planned.body == {"accountId": ana}
            result = await jira.perform(action)
            seen = by_key((await jira.poll(first.cursor)).tickets)[key]
    assert result.http_status == 204
    assert seen.assignee == "Ana Ruiz"
    assert sent(emu, "GET", "/user/search") == []


async def test_assign_by_display_name_looks_the_account_up_first() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a", assignee="Kim Lee"))
        emu.put_ticket(world("b", assignee="Ana Ruiz"))
        emu.put_ticket(world("c", assignee="Ana Ruizova"))
        async with connector_for(emu) as jira:
            action = Action(ActionKind.ASSIGN, emu.issue("a")["id"], key, assignee="ana ruiz")
            search, put = jira.plan(action)
            assert (search.method, search.path) == ("GET", "/rest/api/3/user/search")
            assert dict(search.params) == {"query": "ana ruiz"}
            assert put.method == "PUT" and "looked up" in put.note
            await jira.perform(action)
            seen = by_key((await jira.poll(None)).tickets)[key]
    assert seen.assignee == "Ana Ruiz"
    (assign,) = sent(emu, "PUT", "/assignee")
    assert assign.json() == {"accountId": emu.account_id("Ana Ruiz")}


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        ("Nobody Here", "no Jira user is called 'Nobody Here'"),
        ("Maria Jensen", "no Jira user is called 'Maria Jensen'"),  # a customer, not an agent
    ],
)
async def test_assign_to_a_name_nobody_assignable_has_sends_nothing(who: str, reason: str) -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a", requester="Maria Jensen"))
        async with connector_for(emu) as jira:
            with pytest.raises(ConnectorError, match=reason):
                await jira.perform(Action(ActionKind.ASSIGN, "10001", key, assignee=who))
    assert sent(emu, "PUT", "/assignee") == []
    assert emu.issue("a")["fields"]["assignee"]["displayName"] == "Kim Lee"


async def test_assign_refusals_carry_jiras_reason() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a", requester="Maria Jensen"))
        customer = emu.account_id("Maria Jensen")
        ghost = "5b10ac8d0000000000000000"
        async with connector_for(emu) as jira:
            with pytest.raises(ConnectorError) as missing:
                await jira.perform(Action(ActionKind.ASSIGN, "10001", key, assignee=ghost))
            with pytest.raises(ConnectorError) as refused:
                await jira.perform(Action(ActionKind.ASSIGN, "10001", key, assignee=customer))
    assert missing.value.http_status == 404
    assert f"User with accountId '{ghost}' does not exist." in str(missing.value)
    # Jira puts this reason in the errors map, with errorMessages empty.
    assert refused.value.http_status == 400
    assert "assignee: User 'Maria Jensen' cannot be assigned issues." in str(refused.value)
    assert emu.issue("a")["fields"]["assignee"]["displayName"] == "Kim Lee"


@pytest.mark.parametrize(
    ("start", "wanted", "transition", "status_name", "resolution"),
    [
        (TicketStatus.OPEN, TicketStatus.NEW, "11", "Open", None),
        (TicketStatus.NEW, TicketStatus.OPEN, "21", "Work in progress", None),
        (TicketStatus.OPEN, TicketStatus.PENDING, "31", "Waiting for customer", None),
        (TicketStatus.OPEN, TicketStatus.RESOLVED, "51", "Resolved", {"name": "Done"}),
        (TicketStatus.RESOLVED, TicketStatus.CLOSED, "61", "Closed", None),
        (TicketStatus.OPEN, TicketStatus.CLOSED, "71", "Canceled", None),
    ],
)
async def test_set_status_takes_the_transition_into_that_status(
    start: TicketStatus,
    wanted: TicketStatus,
    transition: str,
    status_name: str,
    resolution: dict[str, str] | None,
) -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(stale("a", status=start))
        emu.put_ticket(world("anchor"))
        async with connector_for(emu) as jira:
            first = await jira.poll(None)
            action = Action(ActionKind.SET_STATUS, emu.issue("a")["id"], key, status=wanted)
            ask, take = jira.plan(action)
            assert (ask.method, ask.path) == ("GET", f"{ISSUE}/{key}/transitions")
            assert dict(ask.params) == {"expand": "transitions.fields"}
            assert (take.method, take.path) == ("POST", f"{ISSUE}/{key}/transitions")
            assert "looked up at send time" in take.note
            result = await jira.perform(action)
            seen = by_key((await jira.poll(first.cursor)).tickets)[key]
    (posted,) = sent(emu, "POST", "/transitions")
    expected: dict[str, Any] = {"transition": {"id": transition}}
    if resolution is not None:
        expected["fields"] = {"resolution": resolution}
    assert posted.json() == expected
    assert result.http_status == 204 and status_name in result.summary
    assert seen.status is wanted and seen.raw_status == status_name
    assert (seen.resolved_at is not None) is (
        wanted in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    )


async def test_tenant_status_map_decides_which_transition_is_taken() -> None:
    """With "Waiting for customer" mapped to open, "pending" must go to the Pending status."""
    with JiraEmulator() as emu:
        key = emu.put_ticket(stale("a"))
        emu.put_ticket(world("anchor"))
        overrides = {"status_map": {"Waiting for customer": "open"}}
        async with connector_for(emu, **overrides) as jira:
            first = await jira.poll(None)
            await jira.perform(
                Action(ActionKind.SET_STATUS, "10001", key, status=TicketStatus.PENDING)
            )
            seen = by_key((await jira.poll(first.cursor)).tickets)[key]
    assert sent(emu, "POST", "/transitions")[0].json() == {"transition": {"id": "41"}}
    assert seen.raw_status == "Pending" and seen.status is TicketStatus.PENDING


def test_the_conventional_target_wins_among_matching_transitions() -> None:
    def offer(tid: str, name: str, to: str) -> dict[str, Any]:
        return {"id": tid, "name": name, "to": {"name": to, "statusCategory": {"key": "done"}}}

    offered = [offer("7", "Cancel", "Canceled"), offer("6", "Close", "Closed")]
    none = Overrides.from_config(config_for(JiraEmulator()))
    chosen = _choose(offered, TicketStatus.CLOSED, none)
    assert chosen is not None and chosen["id"] == "6"
    assert _choose(offered[:1], TicketStatus.CLOSED, none) == offered[0]
    assert _choose(offered, TicketStatus.RESOLVED, none) is None


async def test_set_status_with_a_note_adds_an_internal_comment_after_the_transition() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a"))
        issue_id = emu.issue("a")["id"]
        async with connector_for(emu) as jira:
            action = Action(
                ActionKind.SET_STATUS,
                issue_id,
                key,
                status=TicketStatus.PENDING,
                text="Asked Maria",
            )
            *_, note = jira.plan(action)
            assert note.path == f"{ISSUE}/{key}/comment" and note.body["properties"] == INTERNAL
            await jira.perform(action)
    assert [(c.text, c.public) for c in emu.comments_on(issue_id)] == [("Asked Maria", False)]
    assert emu.issue("a")["fields"]["status"]["name"] == "Waiting for customer"
    order = [r.path for r in emu.requests if r.method == "POST" and "/issue/" in r.path]
    assert order == [f"{ISSUE}/{key}/transitions", f"{ISSUE}/{key}/comment"]


async def test_no_transition_into_the_status_names_the_ones_there_are() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a", status=TicketStatus.CLOSED))
        async with connector_for(emu) as jira:
            with pytest.raises(ConnectorError) as caught:
                await jira.perform(
                    Action(ActionKind.SET_STATUS, "10001", key, status=TicketStatus.PENDING)
                )
    message = str(caught.value)
    assert "no transition from 'Closed'" in message and "pending" in message
    assert "available: Reopen → Open" in message
    assert sent(emu, "POST", "/transitions") == []


async def test_set_status_already_reached_sends_no_transition() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a", status=TicketStatus.RESOLVED))
        async with connector_for(emu) as jira:
            result = await jira.perform(
                Action(ActionKind.SET_STATUS, "10001", key, status=TicketStatus.RESOLVED)
            )
    assert "already Resolved" in result.summary
    assert sent(emu, "POST", "/transitions") == []


async def test_a_transition_refused_by_its_screen_carries_jiras_field_reason() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a"))
        async with connector_for(emu) as jira:
            bare = PlannedRequest(
                "POST", f"{ISSUE}/{key}/transitions", body={"transition": {"id": "51"}}
            )
            with pytest.raises(ConnectorError) as caught:
                await jira.send_planned(bare)
    assert caught.value.http_status == 400
    assert "resolution: Resolution is required." in str(caught.value)
    assert emu.issue("a")["fields"]["status"]["name"] == "Work in progress"


async def test_create_needs_the_project_setting() -> None:
    with JiraEmulator() as emu:
        async with connector_for(emu) as jira:
            with pytest.raises(UnsupportedAction, match="'project'"):
                jira.plan(Action(ActionKind.CREATE, handoff=handoff()))


async def test_create_carries_the_dedupe_label_links_back_and_is_found_again() -> None:
    with JiraEmulator() as emu:
        emu.put_ticket(world("seed"))
        async with connector_for(emu, project="ITSD") as jira:
            action = Action(ActionKind.CREATE, handoff=handoff())
            assert await jira.find_existing(action) is None
            create, link = jira.plan(action)
            assert (create.method, create.path) == ("POST", ISSUE)
            fields = create.body["fields"]
            assert fields["project"] == {"key": "ITSD"}
            assert fields["issuetype"] == {"name": "Task"}
            assert fields["summary"] == "Printer VLAN unreachable"
            assert fields["priority"] == {"name": "High"}
            assert fields["labels"] == ["paneglass-network-ops-1"]
            described = texts(fields["description"])
            assert described[0] == "Handed over from network OPS-1."
            assert "Handed off from network OPS-1" in described
            assert "Requester: Maria Jensen" in described and "Asset: PRN-0042" in described
            assert described[-1] == "https://desk.example/tickets/OPS-1"
            assert link.method == "POST" and link.path.endswith("/remotelink")
            assert link.body["object"] == {
                "url": "https://desk.example/tickets/OPS-1",
                "title": "network OPS-1",
            }
            made = await jira.perform(action)
            again = await jira.find_existing(action)
            other = await jira.find_existing(
                Action(ActionKind.CREATE, handoff=handoff("network:OPS-2"))
            )
            polled = by_key((await jira.poll(None)).tickets)
    assert made.http_status == 201 and "linked to the source" in made.summary
    assert made.created_key == "ITSD-2" and made.created_id is not None
    assert again is not None and again.existing
    assert (again.created_id, again.created_key) == (made.created_id, made.created_key)
    assert other is None
    assert emu.created == [made.created_id]
    new = polled[made.created_key]
    assert new.external_id == made.created_id
    assert new.title == "Printer VLAN unreachable"
    assert new.status is TicketStatus.NEW and new.priority is Priority.P2
    (remote,) = emu.remote_links(made.created_key)
    assert remote["object"]["url"] == "https://desk.example/tickets/OPS-1"
    assert remote["globalId"] == "paneglass:network:OPS-1"
    native = emu.issue_by_key(made.created_key)["fields"]
    assert native["labels"] == ["paneglass-network-ops-1"]
    assert native["issuetype"]["name"] == "Task"


async def test_create_without_a_source_url_sends_no_remote_link() -> None:
    with JiraEmulator() as emu:
        async with connector_for(
            emu, project="ITSD", create_issue_type="[System] Incident"
        ) as jira:
            action = Action(ActionKind.CREATE, handoff=handoff(source_url=None, priority=None))
            (create,) = jira.plan(action)
            assert "priority" not in create.body["fields"]
            made = await jira.perform(action)
    assert made.created_key is not None
    assert emu.remote_links(made.created_key) == []
    assert emu.issue_by_key(made.created_key)["fields"]["issuetype"]["name"] == (
        "[System] Incident"
    )
    assert sent(emu, "POST", "/remotelink") == []


async def test_create_refused_by_jira_names_the_field() -> None:
    with JiraEmulator() as emu:
        async with connector_for(emu, project="ITSD", create_issue_type="Incident") as jira:
            with pytest.raises(ConnectorError) as caught:
                await jira.perform(Action(ActionKind.CREATE, handoff=handoff()))
    assert caught.value.http_status == 400
    assert "issuetype: Specify a valid issue type" in str(caught.value)
    assert emu.created == []


def test_dedupe_label_is_a_label_jira_accepts() -> None:
    assert dedupe_label("desktop:#4201") == "paneglass-desktop-4201"
    assert dedupe_label("Zendesk 42 / EU") == "paneglass-zendesk-42-eu"
    with pytest.raises(UnsupportedAction):
        dedupe_label(":::")


def test_the_dry_run_needs_no_client_and_shows_no_credential() -> None:
    config = VendorConfig(
        "network",
        "jira",
        "https://acme.atlassian.net",
        settings={"email": "desk@acme.example", "api_token": "s3cret-token", "project": "ITSD"},
    )
    actions = [
        Action(ActionKind.COMMENT, "10001", "ITSD-1", text="Checked cabling"),
        Action(ActionKind.ASSIGN, "10001", "ITSD-1", assignee="Ana Ruiz"),
        Action(ActionKind.SET_STATUS, "10001", "ITSD-1", status=TicketStatus.RESOLVED, text="ok"),
        Action(ActionKind.CREATE, handoff=handoff()),
    ]
    for action in actions:
        planned = JiraConnector.plan_action(config, action)  # a classmethod: no HTTP client
        text = "\n".join(r.describe() for r in planned)
        assert planned and "s3cret-token" not in text and "desk@acme.example" not in text
    (create, _link) = JiraConnector.plan_action(config, actions[-1])
    assert create.body["fields"]["project"] == {"key": "ITSD"}


@pytest.mark.parametrize(
    ("wanted", "name"), [(Priority.P1, "Highest"), (Priority.P2, "High"), (Priority.P5, "Lowest")]
)
async def test_set_priority_edits_the_issue_and_the_next_poll_reads_it(
    wanted: Priority, name: str
) -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(stale("a", priority=Priority.P3))
        emu.put_ticket(world("anchor"))
        issue_id = emu.issue("a")["id"]
        action = Action(ActionKind.SET_PRIORITY, issue_id, key, priority=wanted)
        (planned,), _ = dry_run(JiraConnector, config_for(emu), action)
        assert planned.method == "PUT" and planned.path == f"{ISSUE}/{key}"
        assert planned.body == {"fields": {"priority": {"name": name}}}
        async with connector_for(emu) as jira:
            first = await jira.poll(None)
            before = by_key(first.tickets)[key]
            result = await jira.perform(action)
            seen = by_key((await jira.poll(first.cursor)).tickets)[key]
    assert result.http_status == 204 and f"priority set to {name}" in result.summary
    assert before.priority is Priority.P3
    assert seen.priority is wanted and seen.raw_priority == name
    assert seen.updated_at > before.updated_at


async def test_set_priority_sends_the_tenants_own_name_and_jira_refuses_an_unknown_one() -> None:
    with JiraEmulator() as emu:
        key = emu.put_ticket(world("a", priority=Priority.P3))
        issue_id = emu.issue("a")["id"]
        action = Action(ActionKind.SET_PRIORITY, issue_id, key, priority=Priority.P1)
        # The tenant's scheme names its top priority "Sev 1": sent as the config spells it.
        config = config_for(emu, priority_map={"Sev 1": "P1"})
        (planned,), _ = dry_run(JiraConnector, config, action)
        assert planned.body == {"fields": {"priority": {"name": "Sev 1"}}}
        async with connector_for(emu, priority_map={"Sev 1": "P1"}) as jira:
            with pytest.raises(ConnectorError) as caught:  # this site has no "Sev 1"
                await jira.perform(action)
            bad_field = PlannedRequest("PUT", f"{ISSUE}/{key}", body={"fields": {"status": "x"}})
            with pytest.raises(ConnectorError, match="not on the appropriate screen"):
                await jira.send_planned(bad_field)
    assert caught.value.http_status == 400
    assert "Specify a valid priority name" in str(caught.value)
    assert emu.issue("a")["fields"]["priority"]["name"] == "Medium"


def test_set_priority_refuses_what_no_name_reads_as() -> None:
    with JiraEmulator() as emu:
        # Lowest and Trivial read as P4 here: no name is left for P5.
        config = config_for(emu, priority_map={"Lowest": "P4", "Trivial": "P4"})
        action = Action(ActionKind.SET_PRIORITY, "10001", "OPS-1", priority=Priority.P5)
        with pytest.raises(UnsupportedAction) as refused:
            JiraConnector.plan_action(config, action)
        to_p4 = Action(ActionKind.SET_PRIORITY, "10001", "OPS-1", priority=Priority.P4)
        (planned,), _ = dry_run(JiraConnector, config, to_p4)
    assert "no priority here reads as P5" in str(refused.value)
    assert "Lowest (P4)" in str(refused.value)
    assert planned.body == {"fields": {"priority": {"name": "Lowest"}}}
