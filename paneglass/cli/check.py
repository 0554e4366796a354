"""``paneglass check``: validate the config and try every vendor's credentials."""

from __future__ import annotations

import argparse
import asyncio

from connectors import VendorConfig, load_connector
from connectors.errors import ConnectorError
from paneglass.cli.options import config_from
from paneglass.config import Config

__all__ = ["check"]


def check(args: argparse.Namespace) -> int:
    """Validate the config, then ask every vendor whether it answers and accepts us.

    With ``--rules``: show what every notification rule would do instead, with the dry
    run of each escalation action (nothing is sent, no vendor is asked).
    """
    config = config_from(args, required=True)
    assert config is not None
    if getattr(args, "rules", False):
        return _check_rules(config)
    return asyncio.run(_check_vendors(config))


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
    print(f"config {config.source}: ok, {len(config.vendors)} vendor(s)")
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
