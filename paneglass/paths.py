"""Where paneglass keeps its files by default (platformdirs), overridable by env."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["default_config_path", "default_database_url", "user_themes_folder"]

APP = "paneglass"


def default_config_path() -> Path:
    """``$PANEGLASS_CONFIG`` or ``<user config dir>/paneglass/config.toml``."""
    override = os.environ.get("PANEGLASS_CONFIG")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def user_themes_folder() -> Path:
    """``<user config dir>/paneglass/themes``: one TOML file per user theme."""
    return Path(platformdirs.user_config_dir(APP)) / "themes"


def default_database_url() -> str:
    """``$PANEGLASS_DB`` or a SQLite file in the user data dir."""
    override = os.environ.get("PANEGLASS_DB")
    if override:
        return override
    path = Path(platformdirs.user_data_dir(APP)) / "paneglass.db"
    return f"sqlite:///{path}"
