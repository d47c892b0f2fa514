"""The command line's tables: rows or a DataFrame turned into a :class:`~workbench.cli.console.CliTable` of
formatted cells (:mod:`workbench.present.formatting`), printed by :meth:`workbench.cli.context.CliContext.show`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from workbench.present.formatting import metric_title

if TYPE_CHECKING:
    import pandas as pd

    from workbench.cli.console import CliTable

__all__ = ["SHORT_HEADERS", "cell", "fold_headers", "frame_table", "metrics_table", "params_text", "period_text",
           "rows_table"]

#: short headers for the metric columns of the wide tables
SHORT_HEADERS: Final = {"total_return": "return", "sharpe_ratio": "Sharpe", "max_drawdown": "max DD",
                        "total_trades": "trades", "backtest_id": "id"}


def params_text(params: Any) -> str:
    """``{"fast": 5, "slow": 13}`` -> ``fast=5 slow=13``."""
    from workbench.present.formatting import format_params

    return format_params(params)


def period_text(start: Any, end: Any) -> str:
    """``2025-01-01→03-01`` in KST (the end's year only when it differs)."""
    from workbench.present.formatting import KST

    start, end = start.astimezone(KST), end.astimezone(KST)
    return f"{start:%Y-%m-%d}→{end:{'%m-%d' if start.year == end.year else '%Y-%m-%d'}}"


def cell(column: str, value: Any) -> str:
    """One table cell for people (see :func:`workbench.present.formatting.format_cell`)."""
    from workbench.present.formatting import format_cell

    return format_cell(column, value)


def rows_table(title: str | None, names: list[str], rows: list[list[Any]], headers: dict[str, str] | None = None,
               priority: dict[str, int] | None = None, numeric: set[str] | frozenset[str] = frozenset()) -> CliTable:
    """A table of ``rows`` (values in the order of ``names``), cells formatted by :func:`cell`; ``headers``
    renames columns, ``priority`` (default 0; higher stays longer when space is short)."""
    from workbench.cli.console import CliTable
    from workbench.present.formatting import metric_unit
    from workbench.present.layout import TableColumn

    heads, ranks = headers or {}, priority or {}
    columns = []
    for i, name in enumerate(names):
        values = [row[i] for row in rows]
        is_number = name in numeric or metric_unit(name) is not None or any(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        columns.append(TableColumn(name, heads.get(name, name), tuple(cell(name, v) for v in values),
                                   numeric=is_number, priority=ranks.get(name, 0)))
    return CliTable(title, tuple(columns))


def frame_table(df: pd.DataFrame, title: str | None = None, headers: dict[str, str] | None = None,
                priority: dict[str, int] | None = None) -> CliTable:
    """:func:`rows_table` of a DataFrame's columns (times, numbers and their units from the dtypes)."""
    names = [str(c) for c in df.columns]
    typed = {str(c) for c in df.columns if df[c].dtype.kind in "ifuM"}
    rows = [list(r) for r in zip(*(df[c].tolist() for c in df.columns), strict=True)] if len(df.columns) else []
    return rows_table(title, names, rows, headers, priority, typed)


def metrics_table(result: Any, title: str) -> CliTable:
    """A backtest's metrics as ``metric | value`` rows, formatted by unit, with its symbols and period."""
    import pandas as pd

    metrics = result.metrics.to_dict()
    rows = [("symbols", ", ".join(result.symbols)), ("timeframe", result.timeframe),
            ("period", f"{cell('start', result.start)} → {cell('end', result.end)}"),
            ("benchmark", result.config.benchmark),
            *((metric_title(k), cell(k, v)) for k, v in metrics.items())]
    return frame_table(pd.DataFrame(rows, columns=["metric", "value"]), title)


def fold_headers(metric: str) -> dict[str, str]:
    """Headers of the walk-forward fold table: in-sample and out-of-sample columns of ``metric``."""
    return {**SHORT_HEADERS, f"is_{metric}": f"is {metric_title(metric)}",
            f"oos_{metric}": f"oos {metric_title(metric)}", "oos_total_return": "oos return",
            "oos_max_drawdown": "oos max DD", "oos_total_trades": "oos trades"}
