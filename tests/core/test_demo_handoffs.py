"""In the demo, each vendor's own agents work the tickets handed to them, via its API."""

from __future__ import annotations

import asyncio

from connectors import VendorConfig, load_connector
from connectors.actions import Action, ActionKind, Handoff
from connectors.records import Priority, TicketStatus
from paneglass.demo.session import start_demo


def _handoff(vendor: str) -> Handoff:
    return Handoff(
        title="Printer VLAN unreachable",
        description="VLAN 40 looks down",
        source_vendor="desktop",
        source_key="#4229",
        source_external_id="4229",
        correlation=f"desktop:4229:{vendor}",
        requester="maria.jensen@acme.example",
        asset="PRN-3F-EAST",
        priority=Priority.P2,
    )


def test_vendor_agents_pick_up_then_resolve_handed_off_tickets() -> None:
    session = start_demo(seed=2, live=False)
    try:
        configs = {v.name: v for v in session.config.vendors}

        async def create_and_poll(made: dict[str, str]) -> dict[str, TicketStatus]:
            seen: dict[str, TicketStatus] = {}
            for name in session.world.tickets:
                config: VendorConfig = configs[name]
                cls = load_connector(config.kind)
                async with cls.make_client(config) as client:
                    connector = cls(config, client)
                    if name not in made and ActionKind.CREATE in cls.supported_actions:
                        action = Action(ActionKind.CREATE, handoff=_handoff(name))
                        result = await connector.perform(action)
                        assert result.created_id is not None
                        made[name] = result.created_id
                    if name in made:
                        polled = await connector.poll(None)
                        found = [t for t in polled.tickets if t.external_id == made[name]]
                        assert found, f"{name}: the handed-off ticket is not in a poll"
                        seen[name] = found[0].status
            return seen

        made: dict[str, str] = {}
        before = asyncio.run(create_and_poll(made))
        assert len(made) >= 7, made
        moves = [session.world.work_handoff() for _ in range(2 * len(made))]
        assert session.world.work_handoff() is None, "every hand-off has been worked"
        failed = [m for m in moves if m is None or "could not" in m]
        assert failed == [], failed
        after = asyncio.run(create_and_poll(made))
        for name in made:
            assert after[name] in (TicketStatus.RESOLVED, TicketStatus.CLOSED), (
                f"{name}: {before[name]} -> {after[name]}"
            )
    finally:
        session.close()
