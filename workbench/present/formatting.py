"""Numbers and times formatted for people (reports, notebooks, the CLI): pure, no heavy imports.

Returns and rates are fractions in the library (0.05 = 5 %); here they become ``+5.00%``. KRW amounts
get a ``₩`` and thousands separators, prices as many decimals as they need, and nothing is ever shown in
scientific notation. Times are shown in Korea Standard Time (UTC+9, no daylight saving) with the zone
named.

>>> format_pct(-0.020542), format_krw(-100701.762755), format_price(92400420.0), format_price(0.00123456)
('-2.05%', '-₩100,702', '92,400,420', '0.001235')
>>> format_metric("sharpe_ratio", 1.23456), format_metric("total_trades", 1234)
('1.23', '1,234')
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, Literal

from workbench.core.metrics import Unit as MetricUnit
from workbench.core.metrics import metric_info

__all__ = [
    "KST",
    "MISSING",
    "Unit",
    "format_cell",
    "format_count",
    "format_days",
    "format_krw",
    "format_metric",
    "format_param_value",
    "format_params",
    "format_pct",
    "format_pct_small",
    "format_price",
    "format_ratio",
    "format_time_kst",
    "metric_short",
    "metric_title",
    "metric_unit",
]

#: how a value is shown: a metric unit (:data:`workbench.core.metrics.Unit`) or ``price``
Unit = MetricUnit | Literal["price"]

#: Korea Standard Time; Korea has no daylight saving time
KST: Final = timezone(timedelta(hours=9), "KST")
#: what a missing (None/NaN) value is shown as
MISSING: Final = "–"

#: units of table columns that are not metrics (trade lists, reconciliations, data summaries); the
#: metrics' units are in the registry, :mod:`workbench.core.metrics`
_COLUMN_UNITS: Final[dict[str, Unit]] = {
    **dict.fromkeys(("ret", "return", "change", "share"), "pct"),
    **dict.fromkeys(("pnl", "fees", "initial_capital", "final_equity", "equity", "pnl_difference", "difference",
                     "krw", "fees_p", "fees_b", "pnl_p", "pnl_b"), "krw"),
    **dict.fromkeys(("data_rows", "bars"), "count"),
}
_SUFFIX_UNITS: Final[tuple[tuple[tuple[str, ...], Unit], ...]] = (
    (("_return", "drawdown", "_rate"), "pct"), (("_ratio", "_factor"), "ratio"), (("_trades",), "count"),
    (("_pnl", "_fees", "_krw", "_effect"), "krw"), (("price", "price_p", "price_b", "_open", "_close"), "price"))
#: rates shown without a + sign (they are never negative)
_UNSIGNED: Final = ("volatility", "exposure", "_rate", "deflated_sharpe_ratio", "pbo")


def _number(value: object) -> float | None:
    """``value`` as a float, or None when it is missing (None, NaN, not a number)."""
    if value is None or isinstance(value, bool | str):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]  # anything float() refuses is caught below
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _infinite(x: float) -> str:
    return "∞" if x > 0 else "-∞"


def format_pct(value: object, digits: int = 2, *, sign: bool = True) -> str:
    """A fraction in percent: ``0.0512`` -> ``+5.12%`` (``sign=False``: ``5.12%``)."""
    x = _number(value)
    if x is None:
        return MISSING
    if math.isinf(x):
        return _infinite(x)
    pct = x * 100.0
    if round(pct, digits) == 0:
        pct = 0.0  # no "-0.00%"
    return f"{pct:{'+' if sign and pct else ''},.{digits}f}%"


def format_pct_small(value: object, significant: int = 2) -> str:
    """A small fraction (a relative difference, a tolerance) in percent to ``significant`` digits, never
    in scientific notation: ``4.32e-04`` -> ``0.043%``, ``1.01e-06`` -> ``0.00010%``, ``0.25`` -> ``25%``."""
    x = _number(value)
    if x is None:
        return MISSING
    if math.isinf(x):
        return _infinite(x)
    pct = x * 100.0
    if pct == 0:
        return "0%"
    digits = min(12, max(0, significant - 1 - math.floor(math.log10(abs(pct)))))
    return f"{pct:,.{digits}f}%"


def format_krw(value: object, digits: int = 0) -> str:
    """A KRW amount: ``-100701.76`` -> ``-₩100,702``."""
    x = _number(value)
    if x is None:
        return MISSING
    if math.isinf(x):
        return _infinite(x) + " ₩"
    if round(x, digits) == 0:
        x = 0.0
    return f"{'-' if x < 0 else ''}₩{abs(x):,.{digits}f}"


def format_price(value: object) -> str:
    """A price with the decimals it needs: ``92400420.0`` -> ``92,400,420``, ``1234.5`` -> ``1,234.5``,
    ``0.00123456`` -> ``0.001235`` (4 significant digits below 1; never scientific notation)."""
    x = _number(value)
    if x is None:
        return MISSING
    if math.isinf(x):
        return _infinite(x)
    magnitude = abs(x)
    if magnitude >= 1000:
        digits = 0 if magnitude >= 100_000 or x == round(x) else 1
    elif magnitude >= 1:
        digits = 2
    elif magnitude == 0:
        digits = 0
    else:
        digits = min(12, 3 - math.floor(math.log10(magnitude)))
    text = f"{x:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_ratio(value: object, digits: int = 2) -> str:
    """A ratio (Sharpe, profit factor, beta): ``1.23456`` -> ``1.23``; infinite -> ``∞``."""
    x = _number(value)
    if x is None:
        return MISSING
    if math.isinf(x):
        return _infinite(x)
    if round(x, digits) == 0:
        x = 0.0
    return f"{x:,.{digits}f}"


def format_count(value: object) -> str:
    """A count: ``1234`` -> ``1,234``."""
    x = _number(value)
    if x is None:
        return MISSING
    if math.isinf(x):
        return _infinite(x)
    return f"{round(x):,d}"


def format_days(value: object) -> str:
    """A duration in days: ``12.46`` -> ``12.5 days``; below one day in hours (``0.25`` -> ``6 h``)."""
    x = _number(value)
    if x is None:
        return MISSING
    if math.isinf(x):
        return _infinite(x)
    if abs(x) < 1:
        return f"{x * 24:,.0f} h"
    return f"{x:,.1f} days"


_FORMATTERS: Final = {"pct": format_pct, "krw": format_krw, "ratio": format_ratio, "count": format_count,
                      "days": format_days, "price": format_price}


def _unit_of(name: str) -> Unit | None:
    info = metric_info(name)
    return info.unit if info is not None else _COLUMN_UNITS.get(name)


def metric_unit(name: str) -> Unit | None:
    """The unit of a metric (the registry's, :mod:`workbench.core.metrics`) or trade column (``pct krw
    ratio count days price``), None if unknown."""
    unit = _unit_of(name)
    if unit is None and name.startswith(("is_", "oos_")):
        unit = _unit_of(name.partition("_")[2])
    if unit is None:
        for suffixes, by_suffix in _SUFFIX_UNITS:
            if name.endswith(suffixes):
                return by_suffix
    return unit


def metric_title(name: str) -> str:
    """A metric's title for people, from the registry (``sharpe_ratio`` -> ``Sharpe ratio``,
    ``oos_total_return`` -> ``OOS Total return``); unknown names are de-underscored."""
    info = metric_info(name)
    if info is not None:
        return info.title
    for prefix, label in (("is_", "IS"), ("oos_", "OOS"), ("in_sample_", "in-sample"),
                          ("out_of_sample_", "out-of-sample"), ("best_", "best")):
        rest = name.removeprefix(prefix)
        inner = metric_info(rest) if rest != name else None
        if inner is not None:
            return f"{label} {inner.title}"
    return name.replace("_", " ")


def metric_short(name: str) -> str:
    """A metric's short name for compact headers and prose (``sharpe_ratio`` -> ``Sharpe``,
    ``max_drawdown`` -> ``max drawdown``); unknown names are de-underscored."""
    info = metric_info(name)
    return info.short if info is not None else name.replace("_", " ")


def format_metric(name: str, value: object) -> str:
    """``value`` formatted by the unit of metric ``name``; unknown metrics: numbers to 4 significant
    digits without scientific notation, anything else as ``str``."""
    unit = metric_unit(name)
    if unit == "pct" and name.endswith("drawdown"):
        # one sign convention: a drawdown is a loss from the peak, shown negative (the metric is stored as
        # a positive fraction, drawdown periods' depths as negative ones): -8.30% either way
        x = _number(value)
        return format_pct(None if x is None else -abs(x))
    if unit == "pct":
        return format_pct(value, sign=not name.endswith(_UNSIGNED))
    if unit is not None:
        return _FORMATTERS[unit](value)
    x = _number(value)
    if x is None:
        return MISSING if value is None or isinstance(value, float) else str(value)
    integer = isinstance(value, int) or getattr(getattr(value, "dtype", None), "kind", "f") in ("i", "u")
    if integer or abs(x) >= 1000:
        return format_count(x)
    return f"{x:,.2f}" if abs(x) >= 1 else format_price(x)


def format_time_kst(value: object, *, seconds: bool = False) -> str:
    """A UTC instant (datetime, pandas Timestamp or ISO text) in KST: ``2025-01-01 09:00 KST``.

    Naive values are taken as UTC. Missing values (None, NaT) give :data:`MISSING`.
    """
    if value is None:
        return MISSING
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    if not isinstance(value, datetime) or value != value:  # NaT compares unequal to itself
        return MISSING
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST" if seconds else "%Y-%m-%d %H:%M KST")


def format_params(params: object) -> str:
    """Strategy parameters compactly: ``{"fast": 5.0, "slow": 13}`` -> ``fast=5 slow=13`` (whole floats
    without ``.0``, others to 4 significant digits); no or empty parameters -> :data:`MISSING`."""
    if not isinstance(params, dict) or not params:
        return MISSING
    return " ".join(f"{k}={format_param_value(v)}" for k, v in params.items())


def format_param_value(value: object) -> str:
    """A strategy parameter's value: whole floats without ``.0`` (``5.0`` -> ``5``), others to 4 significant
    digits, lists comma-separated."""
    value = value.item() if hasattr(value, "item") else value  # numpy scalars
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.4g}" if 1e-4 <= abs(value) < 1e6 else format_price(value)
    if isinstance(value, dict):
        return f"({format_params(value)})"
    if isinstance(value, list | tuple):
        return ",".join(format_param_value(v) for v in value)
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        return format_time_kst(value)  # an ISO instant (a replay window) in KST
    return str(value)


def format_cell(column: str, value: object) -> str:
    """One table cell for people, by its column name: metrics by their unit (``+5.12%``, ``₩1,234``),
    instants in KST to the minute, parameter dicts as ``k=v``, lists comma-separated, missing values as
    :data:`MISSING`, text as is. Used by the CLI's tables and the reports'."""
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        return format_time_kst(value)
    if isinstance(value, dict):
        return format_params(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or MISSING
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind == "M":  # numpy datetime64
        return format_time_kst(datetime.fromisoformat(str(value)[:26]).replace(tzinfo=UTC)) if value == value \
            else MISSING
    if isinstance(value, bool) or kind == "b":
        return "yes" if value else "no"
    if isinstance(value, int | float) or kind in ("i", "u", "f"):
        return format_metric(column, value)
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        return format_time_kst(value)  # an ISO instant
    return str(value)
