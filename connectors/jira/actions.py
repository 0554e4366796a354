"""Jira write-back: the dry run from settings alone, and sending it with its look-ups.

Comments are ADF (internal ones carry JSM's ``sd.public.comment`` property),
assignment is by ``accountId`` (a name or e-mail is looked up with
``user/search`` first), status changes go through the workflow's transitions
(looked up at send time: Jira has no "set status"), a priority change is one
issue edit naming the priority (the name a poll reads back as the wanted
P1..P5), and hand-offs are created
in the ``project`` setting's project with issue type ``create_issue_type``.
A hand-off's label ``paneglass-<correlation>`` is how a retried create finds
the issue it made. :func:`plan_action` needs no HTTP client; :func:`perform`
and :func:`find_existing` send through the connector's ``send_planned``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx2

from connectors.actions import (
    Action,
    ActionKind,
    ActionResult,
    Handoff,
    PlannedRequest,
    PriorityChoice,
    UnsupportedAction,
    vendor_priority,
)
from connectors.errors import BadPayload, ConnectorError
from connectors.http import decode_json
from connectors.jira.jql import jql_string
from connectors.jira.mapping import PRIORITY_MAP, normalise_status, search_issues
from connectors.jira.settings import JiraSettings
from connectors.overrides import Overrides
from connectors.records import Priority, TicketStatus
from connectors.sanitize import one_line

__all__ = ["adf", "dedupe_label", "find_existing", "perform", "plan_action"]

Send = Callable[[PlannedRequest], Awaitable[httpx2.Response]]
"""How a planned request goes on the wire (the connector's paced ``send_planned``)."""

SEARCH_PATH = "/rest/api/3/search/jql"
ISSUE_PATH = "/rest/api/3/issue"
USER_SEARCH_PATH = "/rest/api/3/user/search"
DEDUPE_LABEL_PREFIX = "paneglass-"
INTERNAL_COMMENT = ({"key": "sd.public.comment", "value": {"internal": True}},)
"""The JSM comment property that keeps a note from the customer (ignored by plain Jira)."""
PRIORITY_OUT: Mapping[Priority, str] = {
    Priority.P1: "Highest",
    Priority.P2: "High",
    Priority.P3: "Medium",
    Priority.P4: "Low",
    Priority.P5: "Lowest",
}
PRIORITY_NAMES: tuple[str, ...] = (
    *PRIORITY_OUT.values(),
    "Blocker",
    "Critical",
    "Major",
    "Minor",
    "Trivial",
)
"""Priority names as Jira spells them: the default scheme, then the older one."""
PREFERRED_TARGETS: Mapping[TicketStatus, tuple[str, ...]] = {
    TicketStatus.NEW: ("open", "to do", "new"),
    TicketStatus.OPEN: ("in progress", "work in progress"),
    TicketStatus.PENDING: ("waiting for customer", "pending"),
    TicketStatus.RESOLVED: ("resolved", "done"),
    TicketStatus.CLOSED: ("closed",),
}
"""Among transitions into the wanted status, the target names tried first (so "closed"
prefers Closed over Canceled, which also counts as closed but means "won't do")."""
DEFAULT_RESOLUTION = "Done"
LOOKED_UP = "<looked up at send time>"
_UUID = r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}"
_ACCOUNT_ID = re.compile(rf"^(?:[0-9a-f]{{24}}|\d+:{_UUID}|qm:{_UUID}:{_UUID})$", re.IGNORECASE)
"""Atlassian account ids: 24 hex (older accounts), ``<n>:<uuid>``, or a JSM customer's
``qm:<uuid>:<uuid>``."""


def plan_action(
    settings: JiraSettings,
    action: Action,
    vendor: str = "jira",
    spelled: Sequence[str] = (),
) -> tuple[PlannedRequest, ...]:
    """The requests an action sends; values Jira must be asked for first are marked.

    ``spelled`` are the ``priority_map`` keys as the config wrote them (the parsed
    settings keep them lower-cased), so a tenant's own priority names go out as
    Jira spells them.
    """
    if action.kind is ActionKind.CREATE and action.handoff is not None:
        return _plan_create(settings, action.handoff, vendor)
    issue = _issue_path(action)
    if action.kind is ActionKind.SET_PRIORITY and action.priority is not None:
        name = priority_name(settings, action.priority, spelled)
        body = {"fields": {"priority": {"name": name}}}
        return (PlannedRequest("PUT", issue, body=body),)
    if action.kind is ActionKind.COMMENT:
        return (_comment_request(issue, action.text, public=action.public),)
    if action.kind is ActionKind.ASSIGN:
        who = action.assignee.strip()
        if _ACCOUNT_ID.match(who):
            return (PlannedRequest("PUT", f"{issue}/assignee", body={"accountId": who}),)
        return (
            PlannedRequest("GET", USER_SEARCH_PATH, params={"query": who}),
            PlannedRequest(
                "PUT",
                f"{issue}/assignee",
                body={"accountId": LOOKED_UP},
                note=f"Jira assigns by accountId: the one Jira user whose name or e-mail "
                f"is exactly {who!r} is looked up by the search above at send time",
            ),
        )
    if action.kind is ActionKind.SET_STATUS and action.status is not None:
        wanted = action.status.value
        planned = [
            PlannedRequest("GET", f"{issue}/transitions", params={"expand": "transitions.fields"}),
            PlannedRequest(
                "POST",
                f"{issue}/transitions",
                body={"transition": {"id": LOOKED_UP}},
                note=f"Jira has no 'set status': the id of the transition into a {wanted} "
                f"status is looked up at send time (with resolution {DEFAULT_RESOLUTION!r} "
                "when its screen asks for one)",
            ),
        ]
        if action.text.strip():
            planned.append(_comment_request(issue, action.text, public=False))
        return tuple(planned)
    raise UnsupportedAction(f"jira cannot {action.kind.label}")


async def perform(
    action: Action,
    settings: JiraSettings,
    send: Send,
    vendor: str = "jira",
    spelled: Sequence[str] = (),
) -> ActionResult:
    """Send the action, doing the look-ups the plan marks first."""
    if action.kind is ActionKind.CREATE:
        return await _create(action, settings, send, vendor)
    if action.kind is ActionKind.SET_STATUS:
        return await _transition(action, settings, send)
    planned = plan_action(settings, action, vendor, spelled)
    name = action.ticket_key or str(action.ticket_id)
    if action.kind is ActionKind.SET_PRIORITY:
        (edit,) = planned
        response = await send(edit)
        chosen = edit.body["fields"]["priority"]["name"]
        return ActionResult(
            f"HTTP {response.status_code}: {name} priority set to {chosen}", response.status_code
        )
    if action.kind is ActionKind.ASSIGN and len(planned) == 2:
        search, put = planned
        account = await _account_for(action.assignee.strip(), search, send)
        planned = (replace(put, body={"accountId": account}),)
    last: httpx2.Response | None = None
    for request in planned:
        last = await send(request)
    assert last is not None  # every plan above has a request
    what = "comment added to" if action.kind is ActionKind.COMMENT else "assigned"
    return ActionResult(f"HTTP {last.status_code}: {name} {what}", last.status_code)


async def find_existing(action: Action, send: Send) -> ActionResult | None:
    """The oldest issue carrying this hand-off's dedupe label (the poll's own search)."""
    if action.handoff is None:
        return None
    label = dedupe_label(action.handoff.correlation)
    body = {
        "jql": f"labels = {jql_string(label)} ORDER BY created ASC",
        "fields": ["summary"],
        "maxResults": 1,
    }
    answer = decode_json(await send(PlannedRequest("POST", SEARCH_PATH, body=body)))
    if not isinstance(answer, Mapping):
        raise BadPayload("Jira search answer is not a JSON object")
    found = search_issues(answer)
    if not found:
        return None
    issue_id, key = found[0].get("id"), found[0].get("key")
    if not isinstance(issue_id, str | int) or not isinstance(key, str) or not key:
        raise BadPayload("Jira search hit without id or key")
    return ActionResult(f"already at Jira as {key}", 200, str(issue_id), key, existing=True)


def priority_name(settings: JiraSettings, wanted: Priority, spelled: Sequence[str] = ()) -> str:
    """The Jira priority name a poll would read as ``wanted`` (``priority_map`` included).

    The tenant's own names from ``priority_map`` come first (its scheme may lack the
    defaults), then the default scheme's Highest..Lowest, then the older
    Blocker..Trivial; a name is sent only if the reading maps it to ``wanted``.
    """
    overrides = settings.priority_map
    spelling = {name.strip().lower(): name.strip() for name in spelled}
    tenant = [spelling.get(key, key) for key in overrides]
    names = dict.fromkeys([*tenant, *PRIORITY_NAMES])
    choices = (
        PriorityChoice(name, name, overrides.get(name.lower()) or PRIORITY_MAP.get(name.lower()))
        for name in names
    )
    return vendor_priority("jira", wanted, choices)


def dedupe_label(correlation: str) -> str:
    """The label that marks a hand-off's issue: ``paneglass-`` plus a slug of the correlation.

    Labels cannot hold spaces, so the correlation is folded to lowercase letters,
    digits and dashes (``desktop:#4201`` → ``paneglass-desktop-4201``).
    """
    slug = re.sub(r"[^a-z0-9]+", "-", correlation.lower()).strip("-")
    if not slug:
        raise UnsupportedAction(f"correlation {correlation[:60]!r} gives no usable Jira label")
    return (DEDUPE_LABEL_PREFIX + slug)[:255]


def adf(text: str, link: str | None = None) -> dict[str, Any]:
    """Plain text as an Atlassian Document: blank lines part paragraphs, newlines break lines.

    ``link``, when given, ends the document as its own paragraph, a clickable URL.
    """
    content: list[dict[str, Any]] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        inline: list[dict[str, Any]] = []
        for line in block.split("\n"):
            if inline:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        if any(node["type"] == "text" for node in inline):
            content.append({"type": "paragraph", "content": inline})
    if link:
        mark = {"type": "link", "attrs": {"href": link}}
        node = {"type": "text", "text": link, "marks": [mark]}
        content.append({"type": "paragraph", "content": [node]})
    return {"type": "doc", "version": 1, "content": content}


# -- create ------------------------------------------------------------------------


def _plan_create(
    settings: JiraSettings, handoff: Handoff, vendor: str
) -> tuple[PlannedRequest, ...]:
    if settings.project is None:
        raise UnsupportedAction(
            f"vendor {vendor!r}: set 'project' (the key new issues go to) "
            "to hand tickets off to Jira"
        )
    fields: dict[str, Any] = {
        "project": {"key": settings.project},
        "issuetype": {"name": settings.create_issue_type},
        "summary": one_line(handoff.title, 255) or f"{handoff.source_vendor} {handoff.source_key}",
        "description": _handoff_document(handoff),
        "labels": [dedupe_label(handoff.correlation)],
    }
    if handoff.priority is not None:
        fields["priority"] = {"name": PRIORITY_OUT[handoff.priority]}
    planned = [PlannedRequest("POST", ISSUE_PATH, body={"fields": fields})]
    if handoff.source_url:
        planned.append(
            PlannedRequest(
                "POST",
                f"{ISSUE_PATH}/{{new issue key}}/remotelink",
                body=_remote_link(handoff, handoff.source_url),
                note="links the new issue back to its source; the key comes from the create",
            )
        )
    return tuple(planned)


async def _create(action: Action, settings: JiraSettings, send: Send, vendor: str) -> ActionResult:
    """POST the issue, read its id and key, then link it back to the source."""
    create, *link = plan_action(settings, action, vendor)
    response = await send(create)
    made = decode_json(response) if response.content else None
    issue_id = made.get("id") if isinstance(made, Mapping) else None
    key = made.get("key") if isinstance(made, Mapping) else None
    if not isinstance(issue_id, str | int) or not isinstance(key, str) or not key:
        raise BadPayload("Jira create answer has no id and key", http_status=response.status_code)
    summary = f"HTTP {response.status_code}: created {key}"
    for request in link:
        path = f"{ISSUE_PATH}/{quote(key, safe='')}/remotelink"
        try:
            await send(replace(request, path=path))
        except ConnectorError as exc:
            # The issue exists: report it (a retry would only find it again) and say
            # the link is missing rather than fail the hand-off.
            summary += f"; link to the source failed: {exc}"
        else:
            summary += "; linked to the source"
    return ActionResult(summary, response.status_code, str(issue_id), key)


def _handoff_document(handoff: Handoff) -> dict[str, Any]:
    """The description, where it came from, and who and what it concerns (Jira has no field
    for a requester who is not a Jira user, nor for an asset, so they travel as text)."""
    lines = [f"Handed off from {handoff.source_vendor} {handoff.source_key}"]
    if handoff.requester:
        lines.append(f"Requester: {handoff.requester}")
    if handoff.asset:
        lines.append(f"Asset: {handoff.asset}")
    text = f"{handoff.description.strip()}\n\n" + "\n".join(lines)
    return adf(text, link=handoff.source_url)


def _remote_link(handoff: Handoff, url: str) -> dict[str, Any]:
    """A remote link back to the source; ``globalId`` makes a repeated POST update, not add."""
    return {
        "globalId": f"paneglass:{handoff.correlation}"[:255],
        "object": {"url": url, "title": f"{handoff.source_vendor} {handoff.source_key}"},
    }


# -- transitions -------------------------------------------------------------------


async def _transition(action: Action, settings: JiraSettings, send: Send) -> ActionResult:
    """Find the transition into the wanted status, take it, then add the note."""
    assert action.status is not None
    ask, take, *note = plan_action(settings, action)
    offered = _transitions(decode_json(await send(ask)))
    overrides = Overrides.from_settings(settings)
    chosen = _choose(offered, action.status, overrides)
    name = action.ticket_key or str(action.ticket_id)
    if chosen is None:
        current = await _current_status(action, send)
        if current is not None and _status_of(current, overrides) is action.status:
            return ActionResult(f"{name} is already {current['name']}", 200)
        available = ", ".join(f"{t['name']} → {_target_name(t)}" for t in offered) or "none"
        raise ConnectorError(
            one_line(
                f"Jira offers no transition from "
                f"{(current or {}).get('name', 'its status')!r} of {name} into a "
                f"{action.status.value} status; available: {available}",
                300,
            )
        )
    body: dict[str, Any] = {"transition": {"id": str(chosen["id"])}}
    resolution = _resolution_for(chosen)
    if resolution is not None:
        body["fields"] = {"resolution": resolution}
    response = await send(replace(take, body=body, note=""))
    for request in note:
        await send(request)
    return ActionResult(
        f"HTTP {response.status_code}: {name} → {_target_name(chosen)} ({chosen['name']})",
        response.status_code,
    )


async def _current_status(action: Action, send: Send) -> Mapping[str, Any] | None:
    request = PlannedRequest("GET", _issue_path(action), params={"fields": "status"})
    issue = decode_json(await send(request))
    fields = issue.get("fields") if isinstance(issue, Mapping) else None
    status = fields.get("status") if isinstance(fields, Mapping) else None
    return status if isinstance(status, Mapping) and isinstance(status.get("name"), str) else None


def _transitions(body: Any) -> list[Mapping[str, Any]]:
    items = body.get("transitions") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise BadPayload("Jira transitions answer has no transitions list")
    return [
        t
        for t in items
        if isinstance(t, Mapping) and t.get("id") is not None and isinstance(t.get("to"), Mapping)
    ]


def _target_name(transition: Mapping[str, Any]) -> str:
    return str(transition["to"].get("name") or "?")


def _status_of(status: Mapping[str, Any], overrides: Overrides) -> TicketStatus:
    """A Jira status object normalised exactly as a poll would show it."""
    name = str(status.get("name") or "")
    category = status.get("statusCategory")
    key = category.get("key") if isinstance(category, Mapping) else None
    override = overrides.statuses.get(name.strip().lower())
    return override or normalise_status(name, key if isinstance(key, str) else None)


def _choose(
    offered: Sequence[Mapping[str, Any]], wanted: TicketStatus, overrides: Overrides
) -> Mapping[str, Any] | None:
    """The transition whose target status the poll would show as ``wanted``, preferring the
    conventional target name; ``None`` when the workflow offers none from here."""
    matching = [t for t in offered if _status_of(t["to"], overrides) is wanted]
    preferred = PREFERRED_TARGETS.get(wanted, ())

    def rank(transition: Mapping[str, Any]) -> int:
        name = _target_name(transition).strip().lower()
        return preferred.index(name) if name in preferred else len(preferred)

    return min(matching, key=rank) if matching else None


def _resolution_for(transition: Mapping[str, Any]) -> dict[str, str] | None:
    """``{"name": "Done"}`` (or the first allowed) when the transition's screen has a resolution."""
    fields = transition.get("fields")
    field = fields.get("resolution") if isinstance(fields, Mapping) else None
    if not isinstance(field, Mapping):
        return None
    allowed = [
        str(v["name"])
        for v in field.get("allowedValues") or []
        if isinstance(v, Mapping) and isinstance(v.get("name"), str)
    ]
    if not allowed or DEFAULT_RESOLUTION in allowed:
        return {"name": DEFAULT_RESOLUTION}
    return {"name": allowed[0]}


# -- assignment --------------------------------------------------------------------


async def _account_for(who: str, search: PlannedRequest, send: Send) -> str:
    """The accountId of the one assignable Jira user whose name or e-mail is ``who``."""
    users = decode_json(await send(search))
    if not isinstance(users, list):
        raise BadPayload("Jira user search answer is not a list")
    wanted = who.casefold()
    exact = [
        u
        for u in users
        if isinstance(u, Mapping)
        and isinstance(u.get("accountId"), str)
        and u.get("accountType", "atlassian") == "atlassian"
        and u.get("active", True) is not False
        and wanted
        in (str(u.get("displayName", "")).casefold(), str(u.get("emailAddress", "")).casefold())
    ]
    if len(exact) == 1:
        return str(exact[0]["accountId"])
    if not exact:
        raise ConnectorError(
            one_line(f"no Jira user is called {who!r}: give their accountId or e-mail", 200)
        )
    raise ConnectorError(
        one_line(f"{len(exact)} Jira users are called {who!r}: give the accountId", 200)
    )


def _issue_path(action: Action) -> str:
    """Jira addresses an issue by key (or id); keys read better in a dry run."""
    ref = action.ticket_key or action.ticket_id or ""
    return f"{ISSUE_PATH}/{quote(ref, safe='')}"


def _comment_request(issue: str, text: str, *, public: bool) -> PlannedRequest:
    body: dict[str, Any] = {"body": adf(text)}
    if not public:
        body["properties"] = [dict(p) for p in INTERNAL_COMMENT]
    return PlannedRequest("POST", f"{issue}/comment", body=body)
