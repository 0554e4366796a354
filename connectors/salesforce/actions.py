"""Salesforce write-back: the dry run from settings alone, sending, and the hand-off lookup.

* **comment** — ``POST /sobjects/CaseComment`` ``{ParentId, CommentBody,
  IsPublished}`` (published: the customer sees it; else internal). A comment
  holds at most 4,000 bytes: a longer one is refused before sending.
* **set status** — ``PATCH /sobjects/Case/{Id}`` ``{"Status": …}`` with the
  org's picklist value from ``status_values``; text that goes with it follows
  as an internal ``CaseComment``.
* **set priority** — ``PATCH /sobjects/Case/{Id}`` ``{"Priority": …}``: a
  picklist value whose reading (``priority_map``, then the usual names:
  Critical/Urgent P1, High P2, Medium P3, Low P4) is the wanted P1..P5. Only
  values spelled as the org spells them are sent: ``priority_values`` first,
  then the out-of-box High, Medium, Low. So P1 needs the org's value declared
  (``priority_values = { P1 = "Critical" }``): out of the box nothing reads as
  P1, and sending High would show the case at P2.
* **assign** — ``PATCH /sobjects/Case/{Id}`` ``{"OwnerId": …}``: a user
  (``005…``) or queue (``00G…``) Id; an e-mail address is first looked up as
  one active user (``SELECT Id FROM User WHERE Email = … AND IsActive = true``).
* **create (hand-off)** — an *upsert by external id*:
  ``PATCH /sobjects/Case/{external_id_field}/{correlation}``. Salesforce
  creates the case when no case carries that value (201, ``created: true``),
  and never a second one: the field is *External ID* + *Unique*, so the server
  itself rules out a duplicate, even for two senders at once or an answer lost
  on the way back, which a query-before-create cannot (the query and the
  create are two requests with a gap between them). Because an upsert that
  matches *updates* the case, a retried hand-off first asks (``GET`` the same
  resource, :func:`find_existing`) and sends nothing when the case exists, so
  a retry never overwrites what the receiving team changed meanwhile. The new
  case's ``CaseNumber`` is read back with one ``GET``.

Every path is under ``/services/data/v{api_version}``; credentials live on the
client's auth, so no plan can show one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

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
from connectors.records import Priority
from connectors.salesforce.api import decode_object
from connectors.salesforce.mapping import PRIORITY_BY_NAME
from connectors.salesforce.settings import SalesforceSettings
from connectors.salesforce.soql import ID_PATTERN, string_literal

if TYPE_CHECKING:
    from connectors.salesforce.connector import SalesforceConnector

__all__ = ["MAX_COMMENT_BYTES", "SUPPORTED", "find_existing", "perform", "plan"]

SUPPORTED = frozenset(
    {
        ActionKind.COMMENT,
        ActionKind.ASSIGN,
        ActionKind.SET_STATUS,
        ActionKind.SET_PRIORITY,
        ActionKind.CREATE,
    }
)
OUT_OF_BOX_PRIORITIES = ("High", "Medium", "Low")
"""The Case Priority picklist of a new org."""
MAX_COMMENT_BYTES = 4000
"""``CaseComment.CommentBody`` holds at most 4,000 bytes."""
OWNER_PREFIXES = ("005", "00G")
"""User and queue (Group) Id prefixes: the owners a case can have."""
_EMAIL = re.compile(r"^[^@\s'\\]+@[^@\s'\\]+\.[^@\s'\\]+$")


def plan(settings: SalesforceSettings, action: Action) -> tuple[PlannedRequest, ...]:
    """The requests ``action`` sends, from settings alone."""
    data = settings.data_path
    if action.kind is ActionKind.CREATE and action.handoff is not None:
        return (
            PlannedRequest(
                "PATCH",
                _upsert_path(settings, action.handoff.correlation),
                body=_new_case(settings, action.handoff),
                note="upsert by external id: creates the case unless one carries this value",
            ),
        )
    case_id = _case_id(action.ticket_id)
    case_path = f"{data}/sobjects/Case/{case_id}"
    if action.kind is ActionKind.COMMENT:
        return (_comment(settings, case_id, action.text, action.public),)
    if action.kind is ActionKind.ASSIGN:
        who = action.assignee.strip()
        if _is_owner_id(who):
            return (PlannedRequest("PATCH", case_path, body={"OwnerId": who}),)
        if _EMAIL.match(who):
            return (
                PlannedRequest(
                    "PATCH",
                    case_path,
                    body={"OwnerId": "<Id of the active user with this e-mail>"},
                    note=f"the user is looked up first: SELECT Id FROM User WHERE "
                    f"Email = {string_literal(who)} AND IsActive = true",
                ),
            )
        raise UnsupportedAction(
            "Salesforce assigns a case to a user or queue Id (005…/00G…) or a user's e-mail"
        )
    if action.kind is ActionKind.SET_STATUS and action.status is not None:
        value = settings.status_values.get(action.status.value)
        if not value:
            raise UnsupportedAction(
                f"no Salesforce status for {action.status.value!r}: set "
                f'status_values = {{ {action.status.value} = "…" }} to the org\'s value'
            )
        requests = [PlannedRequest("PATCH", case_path, body={"Status": value})]
        if action.text.strip():
            requests.append(_comment(settings, case_id, action.text, public=False))
        return tuple(requests)
    if action.kind is ActionKind.SET_PRIORITY and action.priority is not None:
        value = priority_value(settings, action.priority)
        return (PlannedRequest("PATCH", case_path, body={"Priority": value}),)
    raise UnsupportedAction(f"salesforce cannot {action.kind.label}")


def priority_value(settings: SalesforceSettings, wanted: Priority) -> str:
    """The Priority picklist value a poll would read as ``wanted`` (``priority_map`` included).

    Candidates are values spelled as the org spells them: ``priority_values`` (the
    wanted one's first), then the out-of-box High, Medium, Low.
    """
    overrides = settings.priority_map
    declared = settings.priority_values
    names = dict.fromkeys(
        [declared.get(wanted.value, ""), *declared.values(), *OUT_OF_BOX_PRIORITIES]
    )
    choices = (
        PriorityChoice(
            name,
            name,
            overrides.get(name.strip().lower()) or PRIORITY_BY_NAME.get(name.strip().lower()),
        )
        for name in names
        if name
    )
    try:
        return vendor_priority("salesforce", wanted, choices)
    except UnsupportedAction as refused:
        raise UnsupportedAction(
            f"{refused}; declare the org's value, e.g. priority_values = "
            f'{{ {wanted.value} = "…" }}, mapped with priority_map if its name says nothing'
        ) from None


async def perform(connector: SalesforceConnector, action: Action) -> ActionResult:
    """Send the planned requests; read a created case's number back."""
    settings = connector.options
    who = action.assignee.strip()
    if action.kind is ActionKind.ASSIGN and not _is_owner_id(who) and _EMAIL.match(who):
        owner = await _user_by_email(connector, who)
        action = Action(ActionKind.ASSIGN, action.ticket_id, action.ticket_key, assignee=owner)
    planned = plan(settings, action)
    response = None
    for request in planned:
        response = await connector.send_planned(request)
    assert response is not None
    status = f"HTTP {response.status_code}"
    if action.kind is not ActionKind.CREATE:
        name = action.ticket_key or str(action.ticket_id)
        return ActionResult(f"{status}: case {name} updated", response.status_code)
    body = decode_object(response, "upsert answer")
    new_id = body.get("id")
    if not isinstance(new_id, str) or not ID_PATTERN.match(new_id):
        raise BadPayload(
            "Salesforce upsert answer has no case id", http_status=response.status_code
        )
    number = await _case_number(connector, new_id)
    created = body.get("created")
    if created is False:  # the external id already had a case: it was updated, not made
        return ActionResult(
            f"{status}: already at Salesforce as case {number}",
            response.status_code,
            new_id,
            number,
            existing=True,
        )
    return ActionResult(f"{status}: created case {number}", response.status_code, new_id, number)


async def find_existing(connector: SalesforceConnector, action: Action) -> ActionResult | None:
    """The case already carrying this hand-off's external id (``GET`` by external id)."""
    if action.handoff is None:
        return None
    path = _upsert_path(connector.options, action.handoff.correlation)
    response = await connector.call(
        "GET", path, params={"fields": "Id,CaseNumber"}, allow=(300, 404)
    )
    if response.status_code == 404:
        return None
    if response.status_code == 300:
        raise ConnectorError(
            f"several Salesforce cases carry {connector.options.external_id_field} = "
            f"{action.handoff.correlation!r}: mark the field Unique",
            http_status=300,
        )
    body = decode_object(response, "case")
    case_id = body.get("Id")
    if not isinstance(case_id, str) or not ID_PATTERN.match(case_id):
        return None
    number = body.get("CaseNumber") if isinstance(body.get("CaseNumber"), str) else case_id
    assert isinstance(number, str)
    return ActionResult(
        f"already at Salesforce as case {number}", 200, case_id, number, existing=True
    )


def _comment(settings: SalesforceSettings, case_id: str, body: str, public: bool) -> PlannedRequest:
    if len(body.encode("utf-8")) > MAX_COMMENT_BYTES:
        raise UnsupportedAction(
            f"a Salesforce case comment holds at most {MAX_COMMENT_BYTES:,} bytes"
        )
    return PlannedRequest(
        "POST",
        f"{settings.data_path}/sobjects/CaseComment",
        body={"ParentId": case_id, "CommentBody": body, "IsPublished": public},
    )


def _upsert_path(settings: SalesforceSettings, correlation: str) -> str:
    value = correlation.strip()
    if not value or len(value) > 255:
        raise UnsupportedAction(f"correlation {value[:60]!r} cannot be a Salesforce external id")
    return (
        f"{settings.data_path}/sobjects/Case/{settings.external_id_field}/{quote(value, safe='')}"
    )


def _new_case(settings: SalesforceSettings, handoff: Handoff) -> dict[str, Any]:
    """A hand-off as Case fields (the external id is in the path, never in the body)."""
    case: dict[str, Any] = {
        "Subject": handoff.title[:255],
        "Description": handoff.body_text()[:32_000],
        "Origin": settings.origin,
    }
    if handoff.priority is not None:
        case["Priority"] = settings.priority_values[handoff.priority.value]
    if handoff.requester:
        who = handoff.requester.strip()
        case["SuppliedEmail" if _EMAIL.match(who) else "SuppliedName"] = who[:80]
    return case


def _case_id(value: object) -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise UnsupportedAction(f"not a Salesforce case Id: {str(value)[:40]!r}")
    return value


def _is_owner_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value)) and value.startswith(OWNER_PREFIXES)


async def _user_by_email(connector: SalesforceConnector, email: str) -> str:
    """The one active user with this e-mail address, else :class:`UnsupportedAction`."""
    if not _EMAIL.match(email):
        raise UnsupportedAction(f"{email[:60]!r} is not a user Id or e-mail address")
    soql = f"SELECT Id FROM User WHERE Email = {string_literal(email)} AND IsActive = true LIMIT 2"
    response = await connector.call(
        "GET", f"{connector.options.data_path}/query", params={"q": soql}
    )
    rows = decode_object(response, "user query").get("records")
    found = (
        [
            r["Id"]
            for r in rows or ()
            if isinstance(r, Mapping) and isinstance(r.get("Id"), str) and ID_PATTERN.match(r["Id"])
        ]
        if isinstance(rows, list)
        else []
    )
    if len(found) != 1:
        raise UnsupportedAction(
            f"{len(found) or 'no'} active Salesforce users have the e-mail {email!r}"
        )
    return str(found[0])


async def _case_number(connector: SalesforceConnector, case_id: str) -> str:
    """A case's ``CaseNumber`` (its Id if the read fails: the case exists either way)."""
    try:
        response = await connector.call(
            "GET",
            f"{connector.options.data_path}/sobjects/Case/{case_id}",
            params={"fields": "CaseNumber"},
        )
        number = decode_object(response, "case").get("CaseNumber")
    except ConnectorError:
        return case_id
    return number if isinstance(number, str) and number else case_id
