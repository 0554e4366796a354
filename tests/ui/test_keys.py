"""Keys: every binding has an id, ``[keys]`` remaps move them (the old key stops working),
the README's example works, and the help screen shows each key's id."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import tomllib
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode

import paneglass.ui
from paneglass.ui.keymap import _places, catalog, keymap_problems
from paneglass.ui.screens.dashboard import DashboardScreen
from paneglass.ui.widgets.sla_list import SlaList
from paneglass.ui.widgets.ticket_table import TicketTable
from tests.ui.test_ticket_pane import make_app, settle

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_keys() -> dict[str, str]:
    """The ``[keys]`` table of the README's config example (the one users copy)."""
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(), flags=re.S)
    (block,) = [b for b in blocks if "[keys]" in b]
    keys = tomllib.loads(block)["keys"]
    assert isinstance(keys, dict)
    return keys


def console_classes() -> list[type[DOMNode]]:
    """Every widget, screen and app class paneglass defines."""
    found: dict[str, type[DOMNode]] = {}
    for module in pkgutil.walk_packages(paneglass.ui.__path__, "paneglass.ui."):
        loaded = importlib.import_module(module.name)
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__.startswith("paneglass."):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return list(found.values())


def test_every_binding_has_an_id_and_paneglass_keys_lists_it() -> None:
    listed = {cls for _, cls in _places()}
    ids = {entry.id for entry in catalog()}
    declaring = 0
    for cls in console_classes():
        own = cls.__dict__.get("BINDINGS", [])
        if not own:
            continue
        declaring += 1
        assert cls in listed, f"{cls.__qualname__} declares keys that `paneglass keys` misses"
        for binding in own:
            assert isinstance(binding, Binding), f"{cls.__qualname__}: {binding!r} is a tuple"
            assert binding.id, f"{cls.__qualname__}: key {binding.key!r} has no id"
            assert binding.id in ids
    assert declaring >= 15


def test_readme_keys_example_names_real_bindings_without_clashes() -> None:
    keys = readme_keys()
    assert {"pane.next", "pane.sla", "list.page_down"} <= set(keys)
    assert keymap_problems(keys) == []


async def test_readme_keys_example_moves_tab_panes_and_lists(tmp_path: Path) -> None:
    app = make_app(tmp_path, keys=readme_keys())
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)

        # tab: now "right" / "left"; tab itself no longer changes the pane.
        await pilot.press("right")
        assert screen.active == "sla"
        await pilot.press("left")
        assert screen.active == "tickets"
        await pilot.press("tab")
        assert screen.active == "tickets"

        # Pane switches: f1 f2 f3; the digits no longer switch.
        await pilot.press("f3")
        assert screen.active == "vendors"
        await pilot.press("f1")
        assert screen.active == "tickets"
        await pilot.press("2")
        assert screen.active == "tickets"
        await pilot.press("f2")
        assert screen.active == "sla"

        # List movement, less-style, in every list: space pages down, b pages up.
        await pilot.press("f1")
        table = screen.query_one(TicketTable)
        assert table.has_focus and table.cursor_row == 0
        await pilot.press("space")
        assert table.cursor_row == table.visible_rows
        await pilot.press("b")
        assert table.cursor_row == 0
        await pilot.press("pagedown")  # kept: the remap lists it too
        assert table.cursor_row == table.visible_rows

        await pilot.press("f2")
        sla = screen.query_one(SlaList)
        assert sla.has_focus and len(sla.rows) > 2
        await pilot.press("space")
        assert sla.cursor_row == min(sla.size.height, len(sla.rows) - 1)

        # Zoom: f, no longer z; sort: o, no longer s.
        await pilot.press("f1", "z")
        assert not screen.zoomed
        await pilot.press("f")
        assert screen.zoomed
        before = table.ticket_query.sort
        await pilot.press("s")
        await settle(pilot)
        assert table.ticket_query.sort == before
        await pilot.press("o")
        await settle(pilot)
        assert table.ticket_query.sort != before


async def test_remap_moves_a_key_and_the_old_one_stops(tmp_path: Path) -> None:
    app = make_app(tmp_path, keys={"list.down": "n", "pane.sla": "ctrl+s"})
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(TicketTable)
        await pilot.press("down", "j")
        assert table.cursor_row == 0  # neither old key moves the list any more
        await pilot.press("n", "n")
        assert table.cursor_row == 2
        await pilot.press("k")  # list.up was not remapped: it still works
        assert table.cursor_row == 1
        await pilot.press("2")
        assert screen.active == "tickets"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        assert screen.active == "sla"  # type: ignore[attr-defined]


async def test_help_shows_each_keys_id_next_to_it(tmp_path: Path) -> None:
    app = make_app(tmp_path, keys={"tickets.sort": "o"})
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        text = str(app.screen.query_one("Static").render())
        lines = {line.split()[-1]: line.split() for line in text.splitlines() if line.strip()}
        assert lines["tickets.sort"][:2] == ["o", "Sort"]  # the remapped key, not "s"
        assert lines["pane.next"][:3] == ["tab", "Next", "pane"]
        assert lines["list.down"][:2] == ["↓", "j"] or lines["list.down"][:2] == ["down", "j"]
        assert lines["pane.zoom"][:2] == ["z", "Zoom"]


def test_keys_command_flags_unknown_ids_and_collisions() -> None:
    problems = keymap_problems({"tickets.sortt": "o", "pane.zoom": "s"})
    assert any("'tickets.sortt' is not a binding id" in p for p in problems)
    assert any("'s' is bound to both pane.zoom and tickets.sort" in p for p in problems)
    assert keymap_problems({"pane.zoom": "s", "tickets.sort": "o"}) == []


async def test_console_warns_about_a_bad_keys_table(tmp_path: Path) -> None:
    app = make_app(tmp_path, keys={"tickets.sortt": "o"})
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.pause(0.7)
        messages = [n.message for n in app._notifications]
        assert any("'tickets.sortt' is not a binding id" in m for m in messages)


def test_set_priority_has_its_own_key_on_the_ticket_screen() -> None:
    entries = {entry.id: entry for entry in catalog()}
    priority = entries["act.priority"]
    assert (priority.label, priority.description, priority.where) == ("P", "Priority", ("ticket",))
    assert entries["detail.raw"].label == "p"  # lower-case p still folds the raw payload
    assert keymap_problems({}) == []
    assert keymap_problems({"act.priority": "s"}) == [
        "[keys] 's' is bound to both act.status and act.priority (ticket): "
        "one of them cannot be reached"
    ]
