"""``paneglass check``: validate the config and try every vendor's credentials."""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy.engine import make_url

from connectors import VendorConfig, load_connector
from connectors.errors import ConnectorError
from paneglass.cli.options import config_from
from paneglass.config import Config
from paneglass.errors import UserError
from paneglass.paths import default_database_url
from paneglass.store.engine import sqlite_path

__all__ = ["check"]


def check(args: argparse.Namespace) -> int:
    """Validate the config and the database, then ask every vendor whether it accepts us.

    With ``--rules``: show what every notification rule would do instead, with the dry
    run of each escalation action (nothing is sent, no vendor is asked).
    """
    config = config_from(args, required=True)
    assert config is not None
    if getattr(args, "rules", False):
        return _check_rules(config)
    print(f"config {config.source}: ok, {len(config.vendors)} vendor(s)")
    database_ok = _check_database(args.db or default_database_url())
    vendors_code = asyncio.run(_check_vendors(config))
    return vendors_code if database_ok else 1


def _check_database(url: str) -> bool:
    """One line on the store the console and collector would use; never creates or migrates it."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from paneglass.store import Store, TicketQuery
    from paneglass.store.engine import make_engine
    from paneglass.store.migrate import is_current

    try:
        path = sqlite_path(url)
        shown = str(path) if path else make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        print(f"database FAIL  {url!r} is not a database URL (e.g. sqlite:///path/file.db)")
        return False
    if path is not None and not path.exists():
        print(f"database {shown}: not created yet (the first collect or console creates it)")
        return True
    try:
        engine = make_engine(url, writer=False)
        try:
            current = is_current(engine)
        finally:
            engine.dispose()
    except (UserError, SQLAlchemyError) as exc:
        reason = getattr(exc, "orig", None) or exc
        print(f"database {shown}: FAIL cannot open it: {reason}")
        return False
    if not current:
        print(f"database {shown}: ok, older schema (the next collect or console migrates it)")
        return True
    store = Store(url, writer=False)
    try:
        print(f"database {shown}: ok, {store.ticket_count(TicketQuery()):,} tickets")
    finally:
        store.close()
    return True


def _check_rules(config: Config) -> int:
    from paneglass.collect.notifier import plan_action
    from paneglass.notify.plan import describe_rules
    from paneglass.notify.rules import EscalationAction, Rule

    def plan(rule: Rule, spec: EscalationAction, vendor: VendorConfig) -> tuple[str, str | None]:
        planned = plan_action(rule, spec, vendor, "TICKET_ID", "TICKET_KEY")
        return planned.dry_run, planned.refused

    print(f"config {config.source}: ok, {len(config.notify.rules)} notification rule(s)")
    for line in describe_rules(config.notify, list(config.vendors), plan):
        print(line)
    return 0


async def _check_vendors(config: Config) -> int:
    failures = 0
    width = max((len(v.name) for v in config.vendors), default=4)

    async def one(vendor: VendorConfig) -> str:
        cls = load_connector(vendor.kind)
        client = cls.make_client(vendor)
        try:
            async with asyncio.timeout(30):
                return "ok     " + await cls(vendor, client).check()
        except ConnectorError as exc:
            return f"FAIL   {exc.kind}: {exc}"
        except TimeoutError:
            return "FAIL   timeout: no answer within 30 s"
        finally:
            await client.aclose()

    results = await asyncio.gather(*(one(v) for v in config.vendors))
    for vendor, result in zip(config.vendors, results, strict=True):
        failures += result.startswith("FAIL")
        print(f"{vendor.name:<{width}}  {vendor.kind:<11} {result}")
    return 1 if failures else 0
