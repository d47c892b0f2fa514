"""Types of JSON-shaped values (what ``json.loads`` returns and JSONB columns hold)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeAlias

from workbench.errors import ValidationError

__all__ = ["JSONObject", "JSONValue", "json_bool", "json_float", "json_int", "json_list", "json_object", "json_str"]

#: A decoded JSON document.
JSONValue: TypeAlias = "dict[str, JSONValue] | list[JSONValue] | str | int | float | bool | None"
#: A decoded JSON object.
JSONObject: TypeAlias = "dict[str, JSONValue]"


# ------------------------------------------------------------------ narrowing JSON read back
# Stored JSON (JSONB state, rules) comes back as ``object``; these check one value and convert it, raising
# ValidationError naming ``what`` (e.g. ``"paper state broker.cash"``) instead of a TypeError deep inside.

def json_object(value: object, what: str) -> Mapping[str, object]:
    """``value`` as a JSON object (string keys)."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValidationError(f"{what} must be a JSON object (got {type(value).__name__})")
    return value


def json_float(value: object, what: str) -> float:
    """``value`` as a float: a JSON number, or null (a non-finite float stored as null) as NaN."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(f"{what} must be a number (got {type(value).__name__})")
    try:
        return float(value)
    except ValueError:
        raise ValidationError(f"{what} must be a number (got {value!r})") from None


def json_int(value: object, what: str) -> int:
    """``value`` as an int: a JSON integer (or a float with no fraction)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or (isinstance(value, float)
                                                                          and not value.is_integer()):
        raise ValidationError(f"{what} must be an integer (got {value!r})")
    return int(value)


def json_str(value: object, what: str) -> str:
    """``value`` as a string."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a string (got {type(value).__name__})")
    return value


def json_bool(value: object, what: str) -> bool:
    """``value`` as a bool."""
    if not isinstance(value, bool):
        raise ValidationError(f"{what} must be true or false (got {value!r})")
    return value


def json_list(value: object, what: str) -> list[object]:
    """``value`` as a JSON array."""
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{what} must be a JSON array (got {type(value).__name__})")
    return list(value)
