"""Notifications: rules, the events they match, and one module per channel.

``events``    what can be notified, and its JSON form
``rules``     a rule: when, which tickets, which channels, quiet hours, repeat, escalation
``config``    the ``[notify]`` section, validated
``delivery``  an external message as the outbox keeps it
``toast``     a console toast        ``bell``     the terminal bell
``osc``       OSC 9 / OSC 777 desktop notifications (sanitised, tmux-aware)
``webhook``   generic, Slack and Teams JSON        ``email``  SMTP with STARTTLS
``command``   a local program with the event as JSON on stdin
``plan``      what the rules would do, for ``paneglass check --rules``

Recording transitions is the collector's (``paneglass.collect.transitions``
and ``paneglass.collect.notifier``); showing them is the consoles'.
"""

from paneglass.notify.events import Event, event_body, headline
from paneglass.notify.rules import NotifySettings, Rule

__all__ = ["Event", "NotifySettings", "Rule", "event_body", "headline"]
