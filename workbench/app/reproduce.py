"""Re-run a stored backtest from its manifest and say whether it reproduces bit for bit.

The manifest of a run holds the strategy class, parameters, risk, config (costs, benchmark and
risk-free rate), symbols, timeframe, the candles' window, the data fingerprint, the dependency lock's
hash, the git commit and sha256 digests of the result (full equity curve, trade list, metrics).
:func:`rerun` loads the same window, runs the same strategy with the public engine (``run_backtest``)
and compares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench.app.research import ResearchContext, benchmark_close, load_market
from workbench.core.backtest import BacktestResult, run_backtest
from workbench.core.jsontypes import json_list, json_object, json_str
from workbench.core.markets import timeframe_seconds
from workbench.core.strategies import Risk, Strategy
from workbench.core.strategies.registry import file_sha256
from workbench.errors import DataNotFoundError, StrategyError, ValidationError
from workbench.store.manifest import LOCK_KEY, git_commit, lock_hash, result_digests
from workbench.store.runs import (
    StoredRun,
    load_run,
    resolve_strategy_class,
    stored_config,
    stored_form,
    stored_symbols,
    stored_timeframe,
)

__all__ = ["Check", "RerunReport", "rerun"]

#: ``to_record()`` keys that are not the run's numbers (or are compared elsewhere, or vary by design)
_NOT_METRICS = frozenset({"equity_curve", "trade_history", "monthly_returns", "execution_time", "symbol",
                          "timeframe", "initial_capital", "start_date", "end_date"})
#: the checks that decide whether a run reproduced
_DECISIVE = ("data", "equity", "trades", "metrics")


@dataclass(frozen=True)
class Check:
    """One comparison: ``ok`` is None when the stored run did not record what it needs."""

    name: str
    ok: bool | None
    detail: str


@dataclass(frozen=True)
class RerunReport:
    """The new result and how it compares with the stored run."""

    backtest_id: int
    result: BacktestResult
    checks: tuple[Check, ...]

    @property
    def reproduced(self) -> bool:
        """Same data, and equity, trades and metrics identical bit for bit."""
        return all(c.ok is True for c in self.checks if c.name in _DECISIVE)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({
            "check": [c.name for c in self.checks],
            "result": ["-" if c.ok is None else ("same" if c.ok else "DIFFERENT") for c in self.checks],
            "detail": [c.detail for c in self.checks],
        })

    def _repr_html_(self) -> str:
        verdict = "reproduced bit for bit" if self.reproduced else "NOT reproduced"
        return f"re-run of backtest {self.backtest_id}: <b>{verdict}</b>" + self.table().to_html(index=False)


def _same(a: Any, b: Any) -> bool:
    """Exact equality of stored values (NaN equals NaN, null equals null)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool | float | int) and isinstance(b, bool | float | int):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _number(a: Any, b: Any) -> bool:
    """Stored FLOAT/INTEGER columns: bit-equal numbers (an int column may come back as int)."""
    if a is None or b is None:
        return a is None and b is None
    fa, fb = float(a), float(b)
    return (math.isnan(fa) and math.isnan(fb)) or fa == fb


def _kwargs(value: object, what: str) -> dict[str, Any]:
    """Stored keyword arguments (a JSON object) for a constructor that checks them itself."""
    return dict(json_object(value, what))


def _check_source(backtest_id: int, spec: Mapping[str, object]) -> None:
    """Refuse to re-run a strategy of a user's file whose content changed since the run."""
    if not spec.get("source"):
        return
    source = json_object(spec["source"], f"backtest {backtest_id} manifest source")
    path = json_str(source.get("file"), f"backtest {backtest_id} manifest source.file")
    stored = json_str(source.get("sha256"), f"backtest {backtest_id} manifest source.sha256")
    try:
        now = file_sha256(path)
    except StrategyError as err:
        raise StrategyError(f"backtest {backtest_id} ran a strategy file that cannot be read now: {err}") from None
    if now != stored:
        raise StrategyError(f"backtest {backtest_id} ran the strategy file {path!r} with sha256 "
                            f"{stored[:16]}…; the file now has sha256 {now[:16]}…: it changed, so the "
                            "run cannot be reproduced (restore the file's content to re-run it)")


def _strategy(row: StoredRun, strategy_class: str, spec: Mapping[str, object]) -> Strategy:
    _check_source(row["id"], spec)
    cls = resolve_strategy_class(strategy_class)
    risk = Risk(**_kwargs(spec.get("risk", {}), f"backtest {row['id']} manifest risk"))
    params = _kwargs(spec.get("params", {}), f"backtest {row['id']} manifest params")
    try:
        return cls(name=row["strategy_name"], risk=risk, **params)
    except TypeError as err:
        raise StrategyError(f"backtest {row['id']}: stored parameters {params} no longer fit "
                            f"{strategy_class}: {err}") from None


def _digest_check(name: str, stored: dict[str, str] | None, new: dict[str, str], columns_same: bool,
                  columns_detail: str) -> Check:
    if stored is None or name not in stored:
        return Check(name, columns_same, f"{columns_detail} (stored columns only: the run recorded no digest)")
    bits = stored[name] == new[name]
    return Check(name, bits and columns_same,
                 columns_detail if not bits or not columns_same else f"sha256 {new[name][:16]}… identical")


def rerun(wb: ResearchContext, backtest_id: int) -> RerunReport:
    """Re-execute stored run ``backtest_id`` from its manifest and compare the result with it.

    Nothing is stored. Raises DataNotFoundError if the run or its manifest is missing, or the
    candles of its window are no longer stored.
    """
    row = load_run(wb.db, backtest_id)
    spec, strategy_class = row["parameters"], row["strategy_class"]
    if not spec or strategy_class is None:
        raise DataNotFoundError(f"backtest {backtest_id} has no manifest; it cannot be re-run")
    if row["split"] == "walk_forward":
        raise ValidationError(f"backtest {backtest_id} is the stitched curve of a walk-forward (sweep id "
                              f"{row['sweep_id']}), not one run; re-run its out-of-sample runs (split "
                              "out_of_sample, same sweep id in `workbench runs`) instead")
    what = f"backtest {backtest_id} manifest"
    replay = json_object(spec.get("replay") or {}, f"{what} replay")
    timeframe = stored_timeframe(row)
    if "window" in replay:
        window = json_list(replay["window"], f"{what} replay.window")
        if len(window) != 2:
            raise ValidationError(f"{what} replay.window must be [start, end] (got {window!r})")
        start, end = (pd.Timestamp(json_str(t, f"{what} replay.window[]")) for t in window)
    else:  # runs stored before windows were recorded: the equity curve's span
        start = pd.Timestamp(row["start_date"])
        end = pd.Timestamp(row["end_date"]) + pd.Timedelta(seconds=timeframe_seconds(timeframe))
    trade_start = replay.get("trade_start")
    strategy = _strategy(row, strategy_class, spec)
    config = stored_config(row)
    data = load_market(wb, stored_symbols(row), timeframe, start, end)
    result = run_backtest(data, strategy, config, timeframe=timeframe,
                          trade_start=None if trade_start is None else
                          pd.Timestamp(json_str(trade_start, f"{what} replay.trade_start")),
                          close_at_end=bool(replay.get("close_at_end", False)),
                          benchmark_close=benchmark_close(wb, config, list(data), timeframe, start, end))
    return RerunReport(backtest_id, result, tuple(_compare(row, replay, result)))


def _compare(row: StoredRun, replay: Mapping[str, object], result: BacktestResult) -> list[Check]:
    rec = result.to_record()
    new_digests = result_digests(result)
    digests = replay.get("digests")
    stored_digests = None if digests is None else {
        k: json_str(v, f"backtest {row['id']} manifest replay.digests.{k}")
        for k, v in json_object(digests, f"backtest {row['id']} manifest replay.digests").items()}
    columns: Mapping[str, object] = row   # the stored metric columns, looked up by to_record()'s keys
    checks = []

    same_data = row["data_fingerprint"] == result.data_fingerprint and row["data_rows"] == result.data_rows
    checks.append(Check("data", same_data,
                        f"fingerprint {result.data_fingerprint[:16]}…, {result.data_rows:,} rows" if same_data else
                        f"stored {str(row['data_fingerprint'])[:16]}… ({row['data_rows']:,} rows), now "
                        f"{result.data_fingerprint[:16]}… ({result.data_rows:,} rows): the stored candles changed"))

    curve_same = _same(stored_form(rec["equity_curve"]), row["equity_curve"])
    span_same = (pd.Timestamp(row["start_date"]) == result.start and pd.Timestamp(row["end_date"]) == result.end)
    checks.append(_digest_check("equity", stored_digests, new_digests, curve_same and span_same,
                                f"{len(result.equity):,} points, final {result.equity.iloc[-1]:,.0f} KRW"
                                if curve_same and span_same else
                                f"equity curve differs (final {result.equity.iloc[-1]:,.0f} KRW now)"))

    stored_trades = row["trade_history"] or []
    trades_same = _same(stored_form(rec["trade_history"]), stored_trades)
    checks.append(_digest_check("trades", stored_digests, new_digests, trades_same,
                                f"{len(result.trades):,} trades" if trades_same else
                                f"{len(stored_trades):,} trades stored, {len(result.trades):,} now"))

    changed = [k for k, v in rec.items() if k not in _NOT_METRICS and k in columns and not _number(columns[k], v)]
    if not _same(stored_form(rec["monthly_returns"]), row["monthly_returns"]):
        changed.append("monthly_returns")
    detail = ("all stored metric columns identical" if not changed else
              "; ".join(f"{k}: {columns[k]!r} -> {rec[k]!r}" if k != "monthly_returns" else k for k in changed))
    checks.append(_digest_check("metrics", stored_digests, new_digests, not changed, detail))

    versions = row["package_versions"] or {}
    stored_lock, now_lock = versions.get(LOCK_KEY), lock_hash()
    checks.append(Check("environment", None if stored_lock is None else stored_lock == now_lock,
                        "the run recorded no lock hash" if stored_lock is None else
                        f"installed from the same lock (sha256 {stored_lock[:16]}…)" if stored_lock == now_lock else
                        f"stored lock sha256 {stored_lock[:16]}…, now {str(now_lock)[:16]}…: reinstall from the "
                        "stored commit's requirements.lock to re-run in the original environment"))
    stored_commit, now_commit = row["git_commit"], git_commit()
    checks.append(Check("code", None if stored_commit is None else stored_commit == now_commit,
                        "the run recorded no git commit" if stored_commit is None else
                        f"commit {stored_commit[:12]}" if stored_commit == now_commit else
                        f"stored commit {stored_commit[:12]}, now {str(now_commit)[:12]}"))
    return checks
