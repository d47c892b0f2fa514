"""Values for JSONB columns, cleaned one way: non-finite floats become null (JSONB has no NaN or
Infinity), mapping keys text, tuples lists, anything else JSON does not know (times, UUIDs, numpy
scalars other than float64) its ``str``. (Sweep items keep NaN apart from null on purpose:
:func:`workbench.store.sweep_items.encode_metrics`.)

>>> jsonb_text({"a": float("nan"), 1: (2.5, float("inf"))})
'{"a": null, "1": [2.5, null]}'
"""

from __future__ import annotations

import json
import math

__all__ = ["jsonb_or_null", "jsonb_text"]


def _clean(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def jsonb_text(value: object) -> str:
    """``value`` as the JSON text of a JSONB column (``None`` gives ``'null'``, a JSON null)."""
    return json.dumps(_clean(value), default=str, allow_nan=False)


def jsonb_or_null(value: object) -> str | None:
    """:func:`jsonb_text`, but ``None`` stays None (SQL NULL)."""
    return None if value is None else jsonb_text(value)
