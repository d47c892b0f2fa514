"""The command line's small parameter language: ``--param name=value``, ``--grid name=v1,v2`` and papermill's
``-p NAME VALUE``. A value is JSON when it parses as JSON (``5``, ``0.5``, ``true``), else the text itself.

>>> name_values(["fast=5", " slow = 13 "], "--param")
{'fast': '5', 'slow': '13'}
>>> {k: value(v) for k, v in name_values(["fast=5", "mode=fast"], "--param").items()}
{'fast': 5, 'mode': 'fast'}
>>> grid(["fast=3,5", "slow=13"])
{'fast': [3, 5], 'slow': [13]}
>>> parse_report_params(["-p", "symbol", "KRW-BTC", "-p", "days=3"])
{'symbol': 'KRW-BTC', 'days': '3'}
"""

from __future__ import annotations

from typing import Any

from workbench.errors import WorkbenchError

__all__ = ["grid", "name_values", "parse_report_params", "value"]


def value(text: str) -> Any:
    """``text`` as JSON if it parses (``"5"`` -> 5, ``"[1, 2]"`` -> [1, 2]), else ``text``.

    >>> value("0.5"), value("weekly"), value("")
    (0.5, 'weekly', '')
    """
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


def name_values(items: list[str] | None, option: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}`` (names and values stripped); an item without a name
    and ``=`` is an error naming ``option``.

    >>> name_values(["=1"], "--param")
    Traceback (most recent call last):
    workbench.errors.WorkbenchError: --param '=1' must look like name=value
    """
    out = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise WorkbenchError(f"{option} {item!r} must look like name=value")
        out[key.strip()] = text.strip()
    return out


def grid(items: list[str] | None) -> dict[str, list[Any]]:
    """``--grid`` values: ``["fast=3,5"]`` -> ``{"fast": [3, 5]}`` (empty values dropped); none is an error.

    >>> grid(["fast=3,,5,"])
    {'fast': [3, 5]}
    >>> grid([])
    Traceback (most recent call last):
    workbench.errors.WorkbenchError: give at least one --grid name=v1,v2,...
    """
    values = {k: [value(x) for x in v.split(",") if x.strip()] for k, v in name_values(items, "--grid").items()}
    if not values:
        raise WorkbenchError("give at least one --grid name=v1,v2,...")
    return values


def parse_report_params(args: list[str]) -> dict[str, str]:
    """``["-p", "k", "v", "-p", "x=1"]`` -> ``{"k": "v", "x": "1"}``; anything else is an error.

    >>> parse_report_params(["--parameter", "a=1", "-p", "b", "2"])
    {'a': '1', 'b': '2'}
    >>> parse_report_params(["-p", "symbol"])
    Traceback (most recent call last):
    workbench.errors.WorkbenchError: -p needs a name and a value: -p NAME VALUE
    >>> parse_report_params(["symbol=KRW-BTC"])
    Traceback (most recent call last):
    workbench.errors.WorkbenchError: unexpected argument 'symbol=KRW-BTC'; parameters are given as -p NAME VALUE
    """
    params: dict[str, str] = {}
    i = 0
    while i < len(args):
        flag = args[i]
        if flag not in ("-p", "--parameter"):
            raise WorkbenchError(f"unexpected argument {flag!r}; parameters are given as -p NAME VALUE")
        rest = args[i + 1:i + 3]
        if rest and "=" in rest[0] and (len(rest) == 1 or rest[1] in ("-p", "--parameter")):
            key, _, text = rest[0].partition("=")
            i += 2
        elif len(rest) == 2:
            key, text = rest
            i += 3
        else:
            raise WorkbenchError(f"{flag} needs a name and a value: -p NAME VALUE")
        params[key] = text
    return params
