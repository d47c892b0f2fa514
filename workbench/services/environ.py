"""The environment reads that cannot wait for :class:`~workbench.services.config.Settings`: the width of
piped output (asked for by listings that must start fast, before any pydantic is imported) and the raw
secret values to mask when a command fails (read even when Settings would refuse them, e.g. a mistyped
URL). Every other read is a field of Settings.
"""

from __future__ import annotations

import os
import re
from typing import Final

__all__ = ["output_columns", "secret_values"]

#: the settings whose values, or whose URL passwords, are masked in anything printed on failure
_URL_SETTINGS: Final = ("WORKBENCH_DATABASE_URL", "WORKBENCH_REDIS_URL")
_SECRET_SETTINGS: Final = ("WORKBENCH_SECRET_KEY", "WORKBENCH_TELEGRAM_BOT_TOKEN")  # API-key encryption, bot


def output_columns() -> int | None:
    """``COLUMNS`` as a whole number of characters, or None when unset or not a positive number."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def secret_values() -> list[str]:
    """The passwords of the configured URLs (also of mistyped ones) and the configured secrets."""
    found = []
    for name in _URL_SETTINGS:
        m = re.search(r":([^:@/\s]+)@", os.environ.get(name, ""))
        if m:
            found.append(m.group(1))
    found += [os.environ[name] for name in _SECRET_SETTINGS if os.environ.get(name)]
    return found
