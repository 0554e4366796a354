"""The webhook channel: a generic JSON body, or Slack- and Teams-compatible shapes.

* generic: the event object itself (:func:`paneglass.notify.events.event_body`);
* slack: an incoming-webhook message, ``text`` (the notification line, also
  Slack's fallback) plus a ``section`` block in ``mrkdwn``; Slack reads ``&``,
  ``<`` and ``>`` as markup (``<!channel>`` would ping everyone), so vendor
  text is escaped;
* teams: a Workflows webhook message carrying an Adaptive Card
  (``type: message``, one attachment of content type
  ``application/vnd.microsoft.card.adaptive``).

Every attempt carries the same ``Idempotency-Key`` header (and the key in the
generic body), so a receiver can drop a repeat after a retry.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2

from paneglass.notify.delivery import DeliveryError, PermanentError
from paneglass.notify.rules import Webhook

__all__ = ["body_for", "send_webhook"]

USER_AGENT = "paneglass-notify/0.1"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def body_for(webhook: Webhook, event: dict[str, Any]) -> dict[str, Any]:
    """The JSON body ``webhook`` expects for ``event``."""
    summary = str(event.get("summary", ""))
    if webhook.format == "slack":
        lines = [f"*{_slack_escape(summary)}*"]
        if event.get("detail"):
            lines.append(_slack_escape(str(event["detail"])))
        lines.append(f"_{event['event']} · rule {_slack_escape(str(event['rule']))}_")
        return {
            "text": summary,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}],
        }
    if webhook.format == "teams":
        facts = [
            {"title": name, "value": str(event[key])}
            for name, key in (
                ("Event", "event"),
                ("Vendor", "vendor"),
                ("Ticket", "ticket_key"),
                ("Priority", "priority"),
                ("Rule", "rule"),
            )
            if event.get(key)
        ]
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": summary, "weight": "Bolder", "wrap": True},
                {"type": "TextBlock", "text": str(event.get("detail", "")), "wrap": True},
                {"type": "FactSet", "facts": facts},
            ],
        }
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }
    return event


async def send_webhook(
    webhook: Webhook, event: dict[str, Any], key: str, *, deadline: float
) -> str:
    """POST the event; the receiver's answer in one line, or a :class:`DeliveryError`."""
    headers = {"Idempotency-Key": key, "User-Agent": USER_AGENT}
    try:
        async with httpx2.AsyncClient(follow_redirects=False) as client, asyncio.timeout(deadline):
            response = await client.post(
                webhook.url, json=body_for(webhook, event), headers=headers
            )
    except TimeoutError:
        raise DeliveryError(f"webhook {webhook.shown}: no answer within {deadline:g} s") from None
    except httpx2.HTTPError as exc:
        raise DeliveryError(f"webhook {webhook.shown}: {type(exc).__name__}") from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise DeliveryError(f"webhook {webhook.shown}: HTTP {status}")
    if status >= 400:
        raise PermanentError(f"webhook {webhook.shown}: HTTP {status} {response.reason_phrase}")
    return f"webhook {webhook.shown}: HTTP {status}"
