"""The demo's printer story talks: the vendors' people have written on its tickets, a
vendor's agent answers a hand-off in a reply, and that reply reaches the desktop ticket
through mirroring (network's Jira to desktop's Zendesk), once.

Real parts: the demo's own loopback emulators and world, the collector, a SQLite file.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from connectors.actions import Action, ActionKind
from paneglass.collect import Collector
from paneglass.demo.session import start_demo
from paneglass.store import Actor, NewAction, Store, TicketQuery
from paneglass.writeback import handoff_from

KIM = Actor("kim", "/dev/pts/4")


async def test_the_printer_story_shows_replies_and_a_handoff_answer_is_mirrored(
    tmp_path: Path,
) -> None:
    session = start_demo(seed=3, live=False)
    store = Store(f"sqlite:///{tmp_path / 'demo.db'}")
    vendors = [v for v in session.config.vendors if v.name in ("desktop", "network")]
    collector = Collector(store, vendors)
    try:
        await collector.poll_all_once()
        rows = store.ticket_window(TicketQuery(text="vendor:desktop cannot print 49.4C02"), 0, 5)
        assert len(rows) == 1
        desk = store.ticket_detail(rows[0].id)
        assert desk is not None
        talk = [(i.entry.author, i.entry.visibility) for i in desk.timeline if i.entry]
        assert ("Maria Jensen", "public") in talk and ("Kim Lee", "internal") in talk
        files = [f.name for i in desk.timeline if i.entry for f in i.entry.attachments]
        assert files == ["PRN-3F-EAST-display.jpg"]
        network_rows = store.ticket_window(TicketQuery(text="vendor:network VLAN 49.4C02"), 0, 5)
        assert network_rows, "the network vendor's story ticket"
        network_story = store.ticket_detail(network_rows[0].id)
        assert network_story is not None
        assert any(i.entry and i.entry.author == "Ana Ruiz" for i in network_story.timeline)

        now = datetime.now(UTC)
        handoff = handoff_from(desk, "VLAN 40 may be down", conversation=True)
        store.enqueue_action(
            KIM,
            now,
            NewAction(
                vendor="network",
                kind="create",
                payload=Action(ActionKind.CREATE, handoff=handoff).to_json(),
                summary=f"hand off (create) from desktop {desk.key}",
                source=("desktop", desk.external_id),
                mirror_comments=True,
            ),
        )
        await collector.send_actions()
        jira, zendesk = session.world.tickets["network"], session.world.tickets["desktop"]
        assert len(jira.created) == 1, "the hand-off created the network ticket"
        net_id = jira.created[0]

        # The network agent picks it up and replies (the world's thread, as in the demo).
        assert await asyncio.to_thread(session.world.work_handoff) is not None
        for _ in range(3):
            await collector.poll_all_once()
            await collector.send_actions()
        copies = [c.text for c in zendesk.comments_on(desk.external_id)]
        mirrored = [text for text in copies if text.startswith("[from network ")]
        assert len(mirrored) == 1, copies
        assert "picked up" in mirrored[0] and "Network Ops" in mirrored[0]
        answers = [c.text for c in jira.comments_on(net_id)]
        assert len(answers) == 1 and "picked up" in answers[0], "something bounced back"
    finally:
        await collector.aclose()
        store.close()
        session.close()
