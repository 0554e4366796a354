"""``paneglass keys``: every binding id and its key, with the config's ``[keys]`` remaps."""

from __future__ import annotations

import argparse
import sys

from paneglass.cli.options import config_from

__all__ = ["list_keys"]


def list_keys(args: argparse.Namespace) -> int:
    """Print one line per binding id: keys now, what it does, where; then any problems.

    Exits 1 when ``[keys]`` names an unknown id or makes two bindings of one screen share
    a key, so a config can be checked before a console starts with it.
    """
    from paneglass.ui.keymap import catalog, key_label, keymap_problems

    config = config_from(args, required=False)
    keymap = dict(config.keys) if config is not None else {}
    wall_quit = config.wall.quit_key if config is not None else None
    if wall_quit:
        keymap.setdefault("wall.quit", wall_quit)
    entries = catalog(keymap)
    source = f"with [keys] from {config.source}" if config is not None else "defaults: no config"
    print(f'Key bindings ({source}); remap one with [keys] "ID" = "KEY"')
    rows = []
    for entry in entries:
        keys = entry.label
        moved = f"  (default {key_label(entry.default)})" if entry.remapped else ""
        if entry.id == "wall.quit":  # no key quits a wall unless the config names one
            keys, moved = (keys, "") if entry.remapped else ("(none)", "")
        rows.append((entry.id, keys, f"{entry.description}  [{', '.join(entry.where)}]{moved}"))
    id_width = max(len(r[0]) for r in rows)
    key_width = max(len(r[1]) for r in rows)
    print(f"{'ID':<{id_width}}  {'KEYS':<{key_width}}  WHAT IT DOES  [WHERE]")
    for binding_id, keys, what in rows:
        print(f"{binding_id:<{id_width}}  {keys:<{key_width}}  {what}")
    problems = keymap_problems(keymap)
    for problem in problems:
        print(f"paneglass: warning: {problem}", file=sys.stderr)
    return 1 if problems else 0
