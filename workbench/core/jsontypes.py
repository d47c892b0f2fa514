"""Types of JSON-shaped values (what ``json.loads`` returns and JSONB columns hold)."""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["JSONObject", "JSONValue"]

#: A decoded JSON document.
JSONValue: TypeAlias = "dict[str, JSONValue] | list[JSONValue] | str | int | float | bool | None"
#: A decoded JSON object.
JSONObject: TypeAlias = "dict[str, JSONValue]"
