"""``?``: every key that works where you are, the filter language and the commands."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

__all__ = ["HelpScreen", "help_text"]

FILTER_HELP = (
    ("cannot print  49.4C02", "words: in key, title, description, people or the conversation"),
    (
        "vendor:hosting,desktop",
        "fields: vendor kind status prio assignee requester group asset key sla",
    ),
    ("status:open,pending", "a comma means any of"),
    ("prio:P1  sla:breached", "sla: breached, near_breach, at_risk, ok, paused, none"),
    ("-status:closed  !vendor:x", "a leading - or ! inverts a term"),
    (r"/49\.4C0[0-9]/", "a regular expression (case-insensitive)"),
    ('"exact phrase"', "quotes keep words together"),
)
COMMAND_HELP = (
    (":tickets  :sla  :vendors", "show a pane"),
    (":vendor NAME", "tickets of one vendor"),
    (":filter TEXT", "same as /"),
    (":sort FIELD [asc|desc]", "updated created priority status vendor key title assignee"),
    (":view NAME", "a saved view from [views] in the config"),
    (":ticket KEY", "open a ticket by its key"),
    (":cases  :case N", "cases (key 4): tickets of several vendors that are one problem"),
    (":outbox", "write-back actions, their state and the vendor's answer (key 5)"),
    (":notifications", "what the rules fired; a acknowledges, s/S/u snooze (key 6)"),
    (":scorecards [2026-11]", "every vendor's figures for a period, and a trend (key 7)"),
    (":handover", "the shift handover: sign (S) or acknowledge (a) (key 8)"),
    (":at 2026-11-20 03:12", "the console as it stood then, read-only (:at now, esc: back)"),
    (":theme NAME", "noc-dark, light, high-contrast, colorblind, or one of yours"),
    (":help  :quit", ""),
)


def help_text(screen: Screen[Any]) -> Content:
    """The help for ``screen``: its live keys (after any remapping) with their ids, then the
    filter and command languages.

    Each line reads key(s), what it does, and the binding id to use in ``[keys]``; keys
    bound to the same binding (``down`` and ``j``) share a line.
    """
    rows: dict[str, tuple[list[str], str, str]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if binding.system or not binding.description:
            continue
        name = binding.id or f"({binding.description})"
        shown = active.node.app.get_key_display(binding) if active.node else key
        keys, _, _ = rows.setdefault(name, ([], binding.description, binding.id or "Textual"))
        if shown not in keys:
            keys.append(shown)
    lines = [
        Content.assemble(
            Content.styled("Keys here", "bold underline"),
            Content.styled(
                "   (remap by id in [keys]; paneglass keys lists them all)", "$text-muted"
            ),
        )
    ]
    for keys, description, binding_id in rows.values():
        lines.append(
            Content.assemble(
                (f"  {' '.join(keys):<14} ", "bold $accent"),
                f"{description:<24} ",
                (binding_id, "$text-muted"),
            )
        )
    for title, entries in (("Filter  ( / )", FILTER_HELP), ("Commands  ( : )", COMMAND_HELP)):
        lines += [Content(""), Content.styled(title, "bold underline")]
        lines += [Content.assemble((f"  {a:<28}", "bold $accent"), b) for a, b in entries]
    lines += [
        Content(""),
        Content.styled("ctrl+p opens the command palette; escape closes this.", "$text-muted"),
    ]
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """A modal listing every key in context."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: 80%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, context: Screen[Any]) -> None:
        super().__init__()
        self.context = context

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Help"
            yield Static(help_text(self.context), markup=False)
