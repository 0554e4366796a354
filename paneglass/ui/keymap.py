"""Every key binding of the console and the wall, by id: what ``[keys]`` can remap.

The catalog is read from the classes themselves (each one's own
``BINDINGS``), so it cannot drift from what the keys do. ``paneglass keys``
prints it with the config's remaps applied; the console warns, once it is
on screen, about ``[keys]`` ids that name no binding and about remaps that
put two bindings of one screen on the same key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import _normalize_key_list as normalize_keys  # what App.set_keymap applies
from textual.keys import key_to_character

__all__ = ["KeyEntry", "catalog", "key_label", "keymap_problems"]


def key_label(keys: str) -> str:
    """``question_mark,slash`` as a person reads it: ``? /`` (what ``[keys]`` also accepts)."""
    labels = []
    for key in keys.split(","):
        character = "/" if key == "slash" else key_to_character(key)
        printable = character is not None and len(character) == 1 and character.isprintable()
        labels.append(character if printable and character and not character.isspace() else key)
    return " ".join(labels)


@dataclass(frozen=True)
class KeyEntry:
    """One binding id: its keys now, its default keys, what it does and where it works."""

    id: str
    keys: str
    default: str
    description: str
    where: tuple[str, ...]

    @property
    def label(self) -> str:
        """The keys as a person reads them (``? /``)."""
        return key_label(self.keys)

    @property
    def remapped(self) -> bool:
        """True when ``[keys]`` moved it."""
        return self.keys != self.default


def _places() -> list[tuple[str, type[DOMNode]]]:
    """(where, class) for every class that declares bindings, in reading order."""
    from paneglass.ui.app import PaneglassApp, WallApp
    from paneglass.ui.screens.action_dialog import ActionDialog
    from paneglass.ui.screens.case_picker import CasePicker
    from paneglass.ui.screens.cases import (
        CaseScreen,
        CasesScreen,
        EditableCaseScreen,
        EditableCasesScreen,
    )
    from paneglass.ui.screens.dashboard import DashboardScreen
    from paneglass.ui.screens.handover import HandoverScreen, SigningHandoverScreen
    from paneglass.ui.screens.help import HelpScreen
    from paneglass.ui.screens.notifications import (
        AckNotificationsScreen,
        NotificationsScreen,
        SnoozeUntil,
    )
    from paneglass.ui.screens.outbox import ManagedOutboxScreen, OutboxScreen
    from paneglass.ui.screens.scorecards import ScorecardsScreen
    from paneglass.ui.screens.ticket_actions import ActionTicketDetailScreen
    from paneglass.ui.screens.ticket_detail import TicketDetailScreen
    from paneglass.ui.screens.ticket_list import TicketListScreen
    from paneglass.ui.screens.ticket_picker import TicketPicker
    from paneglass.ui.screens.time_travel import AsOfDashboardScreen
    from paneglass.ui.widgets.list_table import ListTable
    from paneglass.ui.widgets.prompt_bar import PromptBar
    from paneglass.ui.widgets.sla_list import SlaList
    from paneglass.ui.widgets.ticket_table import TicketTable

    return [
        ("console", PaneglassApp),
        ("dashboard", DashboardScreen),
        ("ticket list", TicketTable),
        ("SLA pane", SlaList),
        ("lists", ListTable),
        ("prompt", PromptBar),
        ("ticket", TicketDetailScreen),
        ("ticket", ActionTicketDetailScreen),
        ("history", TicketListScreen),
        ("cases", CasesScreen),
        ("cases", EditableCasesScreen),
        ("case", CaseScreen),
        ("case", EditableCaseScreen),
        ("outbox", OutboxScreen),
        ("outbox", ManagedOutboxScreen),
        ("notifications", NotificationsScreen),
        ("notifications", AckNotificationsScreen),
        ("snooze", SnoozeUntil),
        ("scorecards", ScorecardsScreen),
        ("handover", HandoverScreen),
        ("handover", SigningHandoverScreen),
        ("past dashboard", AsOfDashboardScreen),
        ("action dialog", ActionDialog),
        ("case picker", CasePicker),
        ("ticket picker", TicketPicker),
        ("help", HelpScreen),
        ("wall", WallApp),
    ]


_SCREENS_TOGETHER = (
    ("dashboard", "ticket list"),
    ("dashboard", "SLA pane"),
    ("ticket",),
    ("history", "ticket list"),
    ("cases", "lists"),
    ("case", "lists"),
    ("outbox", "lists"),
    ("notifications", "lists"),
    ("scorecards",),
    ("handover",),
    ("past dashboard", "ticket list"),
)
"""Places whose keys are live at the same time (a remap must not give two of them one key)."""


def _own_bindings(cls: type[DOMNode]) -> list[Binding]:
    declared: list[Any] = cls.__dict__.get("BINDINGS", [])
    return [b for b in declared if isinstance(b, Binding)]


def catalog(keymap: Mapping[str, str] | None = None) -> list[KeyEntry]:
    """Every binding id with its current keys (``keymap``: the config's ``[keys]``)."""
    keymap = keymap or {}
    found: dict[str, KeyEntry] = {}
    for where, cls in _places():
        for binding in _own_bindings(cls):
            if binding.id is None:
                continue
            known = found.get(binding.id)
            if known is not None:
                if where not in known.where:
                    found[binding.id] = KeyEntry(
                        known.id,
                        known.keys,
                        known.default,
                        known.description,
                        (*known.where, where),
                    )
                continue
            found[binding.id] = KeyEntry(
                id=binding.id,
                keys=normalize_keys(keymap.get(binding.id, binding.key)),
                default=normalize_keys(binding.key),
                description=binding.description,
                where=(where,),
            )
    return list(found.values())


def keymap_problems(keymap: Mapping[str, str]) -> list[str]:
    """What is wrong with a ``[keys]`` table: unknown ids, and remaps that collide."""
    entries = catalog(keymap)
    known = {e.id for e in entries}
    problems = [
        f"[keys] {name!r} is not a binding id (paneglass keys lists them)"
        for name in keymap
        if name not in known
    ]
    for places in _SCREENS_TOGETHER:
        taken: dict[str, KeyEntry] = {}
        for entry in entries:
            if not set(entry.where) & set(places):
                continue
            for key in entry.keys.split(","):
                other = taken.setdefault(key, entry)
                if other is not entry and (entry.remapped or other.remapped):
                    problems.append(
                        f"[keys] {key!r} is bound to both {other.id} and {entry.id}"
                        f" ({' / '.join(places)}): one of them cannot be reached"
                    )
    return list(dict.fromkeys(problems))
