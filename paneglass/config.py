"""The TOML config file: display settings and one section per vendor.

Precedence is simple and explicit: the file given with ``--config``, else
``$PANEGLASS_CONFIG``, else the default path; no file at all means demo mode.
Secrets are written as ``${VAR}`` and read from the environment when the file
is loaded, so the file itself can be shared and the values never reach the
database, a log or a traceback (``VendorConfig`` keeps them out of ``repr``).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors import VendorConfig, load_connector
from connectors.errors import ConfigurationError
from paneglass.errors import UserError
from paneglass.notify.config import parse_notify
from paneglass.notify.rules import NotifySettings
from paneglass.sla import DEFAULT_SETTINGS, SlaSettings, parse_sla
from paneglass.store import FilterError, SortKey, TicketQuery

__all__ = [
    "Config",
    "DisplayConfig",
    "SavedView",
    "ScorecardConfig",
    "WallConfig",
    "load_config",
    "parse_config",
]

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_VENDOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_RESERVED = {"kind", "base_url", "poll_interval", "enabled", "stale_after"}
_TOP_LEVEL = {"display", "vendors", "sla", "views", "keys", "wall", "notify", "scorecards"}
_WALL_PANES = ("sla", "tickets", "vendors")
_SORTS = {s.value for s in SortKey}


@dataclass(frozen=True)
class DisplayConfig:
    """``[display]``: how times and colours are shown."""

    timezone: str | None = None
    """IANA zone name; ``None`` means the system zone."""
    theme: str = "noc-dark"

    def zone(self) -> ZoneInfo | None:
        """The configured zone (validated at load time)."""
        return ZoneInfo(self.timezone) if self.timezone else None


@dataclass(frozen=True)
class SavedView:
    """``[views.NAME]``: a named filter and sort for the ticket pane."""

    name: str
    filter: str = ""
    sort: str = "updated"
    descending: bool = True
    query: TicketQuery = field(init=False, repr=False, compare=False)
    """The ticket query, its filter parsed once here (:class:`FilterError` if it cannot be)."""

    def __post_init__(self) -> None:
        query = TicketQuery(sort=SortKey(self.sort), descending=self.descending, text=self.filter)
        object.__setattr__(self, "query", query)


@dataclass(frozen=True)
class WallConfig:
    """``[wall]``: how ``paneglass wall`` shows itself on a NOC screen."""

    panes: tuple[str, ...] = _WALL_PANES
    """The rotation playlist (sla, tickets, vendors)."""
    rotate: float = 0.0
    """Seconds per pane; 0 shows SLA and Vendors side by side without rotating."""
    quit_key: str | None = None
    """No key quits a wall unless one is named here."""
    theme: str = "colorblind"
    title: str = ""
    """Shown left in the wall's header, e.g. the NOC's name."""
    bell: bool = False
    """Ring (bell and desktop notifications) for new notifications; a wall never rings unless
    this says so."""
    toasts: bool = True
    """Show a toast for each new notification (the counter is always there)."""


@dataclass(frozen=True)
class ScorecardConfig:
    """``[scorecards]``: whose published incidents are whose (SLA credit evidence)."""

    status_pages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Ticketing vendor → the status-page vendors that publish its incidents. A status page
    called ``NAME-status`` belongs to vendor ``NAME`` without being listed."""


@dataclass(frozen=True)
class Config:
    """The whole config file, validated."""

    display: DisplayConfig = field(default_factory=DisplayConfig)
    vendors: tuple[VendorConfig, ...] = ()
    sla: SlaSettings = DEFAULT_SETTINGS
    views: tuple[SavedView, ...] = ()
    wall: WallConfig = field(default_factory=WallConfig)
    keys: dict[str, str] = field(default_factory=dict)
    """Binding id → keys, e.g. ``{"tickets.sort" = "o"}`` (see ``paneglass keys``)."""
    source: Path | None = None
    demo: bool = False
    notify: NotifySettings = field(default_factory=NotifySettings)
    """``[notify]``: rules, channels, SMTP relay."""
    scorecards: ScorecardConfig = field(default_factory=ScorecardConfig)

    def vendor(self, name: str) -> VendorConfig:
        """The vendor section called ``name``."""
        for vendor in self.vendors:
            if vendor.name == name:
                return vendor
        raise KeyError(name)


def load_config(path: Path) -> Config:
    """Read and validate ``path``; every problem becomes one :class:`UserError` line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read config {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"config {path} is not valid TOML: {exc}") from None
    return parse_config(data, source=path)


def parse_config(data: dict[str, Any], *, source: Path | None = None) -> Config:
    """Validate an already-parsed config mapping."""
    where = f"config {source}" if source else "config"
    unknown = set(data) - _TOP_LEVEL
    if unknown:
        raise UserError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}")
    display = _display(data.get("display", {}), where)
    vendors_section = data.get("vendors", {})
    if not isinstance(vendors_section, dict):
        raise UserError(f"{where}: [vendors] must be a table of [vendors.NAME] sections")
    vendors = tuple(_vendor(name, section, where) for name, section in vendors_section.items())
    sla = parse_sla(data.get("sla"), where)
    names = {v.name for v in vendors}
    for policy in sla.policies:
        strangers = sorted(policy.vendors - names)
        if strangers:
            raise UserError(
                f"{where}: policy {policy.name!r} names unknown vendor(s) {', '.join(strangers)}"
            )
    views = tuple(_view(name, section, where) for name, section in data.get("views", {}).items())
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise UserError(f'{where}: [keys] maps binding ids to keys, e.g. "tickets.sort" = "o"')
    notify = parse_notify(
        _expand_all(data.get("notify"), f"{where}: [notify]"),
        where,
        default_zone=display.zone() or ZoneInfo("UTC"),
        # A config without vendors only adds rules to the demo world: its names are not known.
        known_vendor=(lambda name: name in names) if vendors else (lambda name: True),
        policies=frozenset(p.name for p in sla.policies) if "sla" in data else None,
    )
    return Config(
        display=display,
        vendors=vendors,
        sla=sla,
        views=views,
        keys=dict(keys),
        wall=_wall(data.get("wall", {}), where),
        source=source,
        notify=notify,
        scorecards=_scorecards(data.get("scorecards", {}), where, names),
    )


def _scorecards(section: Any, where: str, vendors: set[str]) -> ScorecardConfig:
    label = f"{where}: [scorecards]"
    if not isinstance(section, dict):
        raise UserError(f"{label} must be a table")
    unknown = set(section) - {"status_pages"}
    if unknown:
        raise UserError(f"{label} has unknown key(s) {', '.join(sorted(unknown))}")
    pages = section.get("status_pages", {})
    if not isinstance(pages, dict):
        raise UserError(
            f'{label}: status_pages maps vendors to pages, e.g. {{ hosting = "hosting-status" }}'
        )
    found: dict[str, tuple[str, ...]] = {}
    for vendor, value in pages.items():
        listed = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
        strangers = sorted({vendor, *listed} - vendors)
        if strangers:
            raise UserError(f"{label}: status_pages names unknown vendor(s) {', '.join(strangers)}")
        found[vendor] = listed
    return ScorecardConfig(found)


def _wall(section: Any, where: str) -> WallConfig:
    label = f"{where}: [wall]"
    if not isinstance(section, dict):
        raise UserError(f"{label} must be a table")
    unknown = set(section) - {"panes", "rotate", "quit_key", "theme", "title", "bell", "toasts"}
    if unknown:
        raise UserError(f"{label} has unknown key(s) {', '.join(sorted(unknown))}")
    panes = tuple(str(p) for p in section.get("panes", _WALL_PANES))
    wrong = [p for p in panes if p not in _WALL_PANES]
    if wrong or not panes:
        raise UserError(f"{label}: panes are chosen from {', '.join(_WALL_PANES)}")
    rotate = section.get("rotate", 0)
    if isinstance(rotate, bool) or not isinstance(rotate, int | float) or rotate < 0:
        raise UserError(f"{label}: rotate is a number of seconds (0 = no rotation)")
    quit_key = section.get("quit_key")
    for flag in ("bell", "toasts"):
        if not isinstance(section.get(flag, False), bool):
            raise UserError(f"{label}: {flag} is true or false")
    return WallConfig(
        bell=bool(section.get("bell", False)),
        toasts=bool(section.get("toasts", True)),
        panes=panes,
        rotate=float(rotate),
        quit_key=str(quit_key) if quit_key else None,
        theme=str(section.get("theme", "colorblind")),
        title=str(section.get("title", "")),
    )


def _view(name: str, section: Any, where: str) -> SavedView:
    label = f"{where}: [views.{name}]"
    if not isinstance(section, dict):
        raise UserError(f"{label} must be a table")
    unknown = set(section) - {"filter", "sort", "descending"}
    if unknown:
        raise UserError(f"{label} has unknown key(s) {', '.join(sorted(unknown))}")
    text = str(section.get("filter", ""))
    sort = str(section.get("sort", "updated"))
    if sort not in _SORTS:
        raise UserError(f"{label}: sort is one of {', '.join(sorted(_SORTS))}")
    try:
        return SavedView(name, text, sort, bool(section.get("descending", sort == "updated")))
    except FilterError as exc:
        raise UserError(f"{label} filter: {exc}") from None


def _display(section: Any, where: str) -> DisplayConfig:
    if not isinstance(section, dict):
        raise UserError(f"{where}: [display] must be a table")
    unknown = set(section) - {"timezone", "theme"}
    if unknown:
        raise UserError(f"{where}: [display] has unknown key(s) {', '.join(sorted(unknown))}")
    zone = section.get("timezone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(f"{where}: [display] timezone {zone!r} is not a known zone") from None
    return DisplayConfig(timezone=zone, theme=str(section.get("theme", "noc-dark")))


def _vendor(name: str, section: Any, where: str) -> VendorConfig:
    label = f"{where}: [vendors.{name}]"
    if not _VENDOR_NAME.match(name):
        raise UserError(f"{label}: name must be 1-40 letters, digits, '-', '_' or '.'")
    if not isinstance(section, dict):
        raise UserError(f"{label} must be a table")
    kind = section.get("kind")
    if not isinstance(kind, str) or not kind:
        raise UserError(f'{label} needs kind = "..." (e.g. servicenow, zendesk, statuspage)')
    base_url = section.get("base_url")
    if not isinstance(base_url, str) or not base_url:
        raise UserError(f"{label} needs base_url")
    interval = section.get("poll_interval", 60)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval < 1:
        raise UserError(f"{label}: poll_interval must be a number of seconds >= 1")
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        raise UserError(f"{label}: enabled must be true or false")
    stale_after = section.get("stale_after", 2)
    if isinstance(stale_after, bool) or not isinstance(stale_after, int | float) or stale_after < 1:
        raise UserError(f"{label}: stale_after is a number of poll intervals >= 1")
    settings = {
        key: _expand(value, f"{label} {key}")
        for key, value in section.items()
        if key not in _RESERVED
    }
    vendor = VendorConfig(
        name=name,
        kind=kind,
        base_url=_expand(base_url, f"{label} base_url"),
        poll_interval=float(interval),
        enabled=enabled,
        stale_after=float(stale_after),
        settings=settings,
    )
    try:
        connector = load_connector(kind)
        # Parsed once, here; the connector, its dry runs and checks reuse the result.
        vendor = replace(vendor, options=connector.parse_settings(vendor))
        connector.validate(vendor)
    except ConfigurationError as exc:
        raise UserError(f"{where}: {exc}") from None
    return vendor


def _expand_all(value: Any, label: str) -> Any:
    """``${VAR}`` expanded in every string of a nested section (webhook URLs, passwords)."""
    if isinstance(value, dict):
        return {key: _expand_all(item, f"{label} {key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_expand_all(item, label) for item in value]
    return _expand(value, label)


def _expand(value: Any, label: str) -> Any:
    """Replace ``${VAR}`` with the environment's value; a missing variable is an error."""
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        variable = match.group(1)
        found = os.environ.get(variable)
        if found is None:
            raise UserError(
                f"{label} refers to ${{{variable}}}, which is not set in the environment"
            )
        return found

    return _ENV_REF.sub(lookup, value)
