"""The default study: sample data -> indicators -> every built-in strategy backtested and stored ->
HTML reports. What ``./wb study`` (``workbench study``) runs on the embedded default."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.app.session import Workbench, connect
from workbench.core.checks import SAMPLE_DAYS
from workbench.core.markets import normalize_timeframe
from workbench.core.strategies import BUILTIN_STRATEGIES, Risk
from workbench.ingest.sample import SAMPLE_LABEL, SAMPLE_SYMBOLS, generate_sample_candles
from workbench.present.story import versus_benchmark
from workbench.services.config import Settings
from workbench.services.resolve import finish_embedded
from workbench.store.writer import write_frame

__all__ = ["StudyResult", "run_study"]

DEFAULT_START = "2025-01-01"
DEFAULT_DAYS = 60


@dataclass(frozen=True)
class StudyResult:
    backtest_ids: dict[str, int]
    best_strategy: str
    reports: dict[str, Path]
    #: one honest sentence: the best by Sharpe ratio, or "all lose to buy & hold (+25.00%)" when they do
    verdict: str = ""


def run_study(
    settings: Settings | None = None,
    *,
    timeframe: str = "1h",
    days: int = DEFAULT_DAYS,
    keep_services: bool = False,
    log: Callable[[str], None] = print,
) -> StudyResult:
    """Run the default study end to end and return the report paths.

    Loads the synthetic sample (if not stored yet), computes indicators, backtests every built-in
    strategy on the sample basket, stores each run, and renders ``strategy_backtest`` (best strategy
    by Sharpe ratio) and ``run_comparison`` into ``settings.reports_dir``. Embedded servers this call
    started are stopped at the end unless ``keep_services`` (or, while another process still uses them,
    left to the last of those to finish).
    """
    from workbench.app.notify.events import report_finished
    from workbench.app.report import run_report

    timeframe = normalize_timeframe(timeframe)   # checked before anything is started or written
    SAMPLE_DAYS.check(days, "days")
    settings = settings or Settings()
    wb = connect(settings)
    try:
        symbols = list(SAMPLE_SYMBOLS)
        inv = wb.inventory()
        have = set(inv.loc[inv["timeframe"] == "1m", "symbol"]) if len(inv) else set()
        if not set(symbols) <= have:
            log(f"loading the sample data set ({days} days of 1m candles, {len(symbols)} symbols)")
            log(f"  {SAMPLE_LABEL}")
            log(f"  {write_frame(wb.db, 'candles', generate_sample_candles(days=days), cache=wb.cache)}")
            inv = wb.inventory()
        stored = inv[(inv["timeframe"] == "1m") & inv["symbol"].isin(symbols)]
        # one window for the stored runs and the reports: the same numbers in both
        window = (DEFAULT_START, (pd.Timestamp(stored["last_ts"].max()) + pd.Timedelta(minutes=1)).isoformat())
        for s in symbols:
            wb.compute_indicators(s, timeframe)
        log(f"indicators stored for {', '.join(symbols)} at {timeframe}")
        ids: dict[str, int] = {}
        sharpe: dict[str, float] = {}
        returns: dict[str, float] = {}
        benchmark = math.nan
        risk = Risk(risk_per_trade=1.0, max_positions=3, stop_loss_pct=3.0, take_profit_pct=6.0)
        for name, cls in BUILTIN_STRATEGIES.items():
            run = wb.backtest(cls(risk=risk), symbols, timeframe, *window)
            assert run.backtest_id is not None
            ids[name] = run.backtest_id
            m = run.result.metrics
            sharpe[name] = m.sharpe_ratio
            returns[name] = m.total_return
            benchmark = m.benchmark_return  # the same equal-weight buy & hold for every run
            log(f"  {name:<20} {cls.strategy_type:<14} return {m.total_return:+8.2%}  sharpe "
                f"{m.sharpe_ratio:+6.2f}  trades {m.total_trades:4d}  -> backtest_results.id {run.backtest_id}")
        best = max(sharpe, key=lambda k: sharpe[k])
        verdict = versus_benchmark(returns, benchmark, best=best)
        log(verdict)
        out_dir = settings.reports_dir
        env_params = {"symbols": ",".join(symbols), "timeframe": timeframe, "start": window[0], "end": window[1]}
        log("rendering reports (papermill) ...")
        with _environ(_env(wb)):
            reports = {
                "strategy_backtest": run_report(
                    "strategy_backtest",
                    {"strategy": best, **env_params, "max_positions": 3, "risk_per_trade": 1.0,
                     "stop_loss_pct": 3.0, "take_profit_pct": 6.0, "store": False},
                    output_dir=out_dir),
                "run_comparison": run_report(
                    "run_comparison", {"run_ids": ",".join(str(i) for i in ids.values())}, output_dir=out_dir),
            }
        for html in reports.values():
            report_finished(wb, html)
        wb.close()
        return StudyResult(ids, best, reports, verdict)
    finally:
        if not keep_services:
            wb.close()
            finish_embedded(settings, wb.urls)  # what this call started or was handed, and only if unused


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration (report kernels inherit them), then restore."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _env(wb: Workbench) -> dict[str, str]:
    """Environment for the report kernels: the servers this process resolved (embedded or not)."""
    urls = wb.urls
    env = {"WORKBENCH_DATABASE_URL": urls.database_url}
    if urls.redis_url:
        env["WORKBENCH_REDIS_URL"] = urls.redis_url
    return env
