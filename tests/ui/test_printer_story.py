"""The printer story, played end to end in demo mode through the console's keys.

Maria's "cannot print" ticket at the desktop-support vendor (Zendesk) joins a
case, is handed to the network team (Jira) and the hosting provider
(ServiceNow), a comment is mirrored to both, the network ticket's status is
changed there, and the case timeline tells the whole story.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.widgets import Input, Select, Static

from paneglass.demo.session import start_demo
from paneglass.store import Store, TicketQuery
from paneglass.ui.app import PaneglassApp
from paneglass.ui.screens.action_dialog import ActionDialog
from paneglass.ui.screens.case_picker import CasePicker
from paneglass.ui.screens.cases import CaseScreen
from tests.ui.test_write_back_ui import printer_ticket, wait_for


async def hand_off(pilot: Any, app: PaneglassApp, target: str, note: str) -> None:
    await pilot.press("h")
    await wait_for(lambda: isinstance(app.screen, ActionDialog), 5)
    dialog = app.screen
    # the Select composes its overlay a moment after the dialog is pushed
    await wait_for(lambda: bool(dialog.query("#target SelectOverlay")), 5)
    dialog.query_one("#target", Select).value = target
    dialog.query_one("#text", Input).value = note

    def planned() -> str:
        return str(dialog.query_one("#action-preview", Static).render())

    await wait_for(lambda: "POST " in planned(), 10)  # the plan is made off-thread
    preview = planned()
    assert "POST " in preview and "Cannot send" not in preview, preview
    await pilot.press("ctrl+s")
    await wait_for(lambda: not isinstance(app.screen, ActionDialog), 5)


@pytest.mark.slow
async def test_the_printer_story_end_to_end_in_demo_mode() -> None:
    session = start_demo(seed=11, live=False)
    fast = tuple(replace(v, poll_interval=5.0) for v in session.config.vendors)
    config = replace(session.config, vendors=fast)
    store = Store(session.db_url)
    try:
        app = PaneglassApp(store, config)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(lambda: store.ticket_count(TicketQuery()) >= 60, 30)
            desk_id = printer_ticket(store)
            app.open_ticket(desk_id)
            detail = app.screen
            await wait_for(lambda: getattr(detail, "ticket", None) is not None)
            desk = store.ticket_detail(desk_id)
            assert desk is not None

            await pilot.press("C")
            await wait_for(lambda: isinstance(app.screen, CasePicker), 5)
            app.screen.query_one("#title", Input).value = "Maria Jensen cannot print (49.4C02)"
            await pilot.press("enter")
            await wait_for(lambda: bool(store.cases_of("desktop", desk.external_id)), 5)
            ((case_id, _),) = store.cases_of("desktop", desk.external_id)
            await wait_for(lambda: bool(getattr(detail, "related", None) and detail.related.cases))

            await hand_off(pilot, app, "network", "Printer VLAN 40 unreachable from 3rd floor")
            await hand_off(pilot, app, "hosting", "Spooler on VM-PRT-SRV02 drops 49.4C02 jobs")

            def linked() -> dict[str, Any]:
                links = store.links_of("desktop", desk.external_id)
                return {link.vendor: link for link in links if not link.mail}  # hand-offs

            await wait_for(lambda: {"network", "hosting"} <= set(linked()), 20)
            await wait_for(lambda: all(v.status for v in linked().values()), 20)  # polled back
            links = linked()
            assert links["network"].key and links["network"].key.startswith("ITSD-")
            assert links["hosting"].key and links["hosting"].key.startswith("INC")
            assert all(link.mirror_comments for link in links.values())

            await pilot.press("m")
            await wait_for(lambda: isinstance(app.screen, ActionDialog), 5)
            app.screen.query_one("#text", Input).value = "Maria confirms: jobs stop at the spooler"
            await pilot.pause(0.2)
            await pilot.press("ctrl+s")
            desk_emu = session.emulators["desktop"]
            net_emu = session.emulators["network"]
            host_emu = session.emulators["hosting"]
            net_id, host_id = links["network"].external_id, links["hosting"].external_id

            def delivered() -> bool:
                return bool(
                    desk_emu.comments_on(desk.external_id)  # type: ignore[attr-defined]
                    and net_emu.comments_on(net_id)  # type: ignore[attr-defined]
                    and host_emu.comments_on(host_id)  # type: ignore[attr-defined]
                )

            await wait_for(delivered, 20)
            mirrored = net_emu.comments_on(net_id)[0].text  # type: ignore[attr-defined]
            assert mirrored == f"[from desktop {desk.key}] Maria confirms: jobs stop at the spooler"

            # The network team's ticket moves on: set from its own screen, seen back in a poll.
            net_ticket = links["network"].ticket_id
            assert net_ticket is not None
            await pilot.press("escape")
            app.open_ticket(net_ticket)
            await wait_for(lambda: getattr(app.screen, "ticket", None) is not None)
            await pilot.press("s")
            await wait_for(lambda: isinstance(app.screen, ActionDialog), 5)
            status = app.screen.query_one("#status", Select)
            await wait_for(lambda: status.value is not Select.BLANK, 5)  # its default lands
            status.value = status.value.__class__("pending")
            await pilot.pause(0.2)
            await pilot.press("ctrl+s")
            await wait_for(lambda: linked()["network"].status == "pending", 20)

            case = store.case_detail(case_id)
            assert case is not None
            members = {(m.vendor, m.key) for m in case.members}
            assert members == {
                ("desktop", desk.key),
                ("network", links["network"].key),
                ("hosting", links["hosting"].key),
            }, "hand-offs from a case ticket join the case"
            story = [f"{e.vendor} {e.key}: {e.text}" for e in case.timeline]
            told = "\n".join(story)
            for expected in (
                "case add",
                "sent create",
                "mirrored comment",
                f"network {links['network'].key}: status: new → pending",
                "sent set_status",
            ):
                assert expected in told, f"{expected!r} missing from the timeline:\n{told}"

            await pilot.press("escape")
            app.open_cases(case_id)
            await wait_for(lambda: isinstance(app.screen, CaseScreen), 5)
            await wait_for(lambda: app.screen.detail is not None)  # type: ignore[attr-defined]

            def shown() -> str:
                return str(app.screen.query_one("#case-timeline", Static).render())

            await wait_for(lambda: bool(shown()), 10)  # the timeline renders after the detail
            assert "sent create" in shown() and "pending" in shown()
            await pilot.press("escape", "escape", "q")
    finally:
        store.close()
        session.close()
