"""Sweeps on a Dask cluster: one task per (symbol x) parameter chunk, each loading its own data.

A task receives only small things (database and Redis URLs, the strategy, its chunk of parameter
combinations, the data range), loads the candles itself (Arrow from the cache or the database, not
frames pickled by the client), runs the chunk on the numba engine, stores each combination (its backtest
run and its ``sweep_items`` row in one transaction, so a resumed sweep skips it and nothing is stored
twice) and sends back one row of parameters and metrics, plus the daily returns, per combination.

The cluster: an existing one at ``scheduler`` (or ``WORKBENCH_DASK_ADDRESS``), else a local cluster
sized to the machine (one single-threaded worker process per core). Workers must reach the database
and Redis at the URLs the client uses.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.app.research import (
    ResearchContext,
    SweepOutcome,
    benchmark_close,
    load_market,
    overfitting_of,
    store_walk_forward,
    sweep_uuid,
    symbol_list,
)
from workbench.core.backtest import (
    BacktestConfig,
    BacktestResult,
    MarketData,
    WalkForwardResult,
    check_metric,
    combo_key,
    daily_returns,
    prepare_data,
    run_strategies,
    sweep_strategies,
)
from workbench.core.backtest.walkforward import FoldWindow, finish_walk_forward, walk_forward_fold, walk_forward_windows
from workbench.core.indicators import indicator_cache
from workbench.core.markets import TimeLike, normalize_timeframe
from workbench.core.strategies.base import Strategy
from workbench.errors import ValidationError
from workbench.store.cache import FrameCache, NullCache, RedisCache
from workbench.store.database import Database
from workbench.store.market_data import load_candles
from workbench.store.runs import backtesting, save_strategy
from workbench.store.sweep_items import load_sweep_items, save_sweep_result

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["DaskOptions", "FoldTask", "SweepJob", "SweepTask", "WindowSpec", "dask_client", "distributed_sweep",
           "distributed_walk_forward", "run_fold_task", "run_sweep_task"]


@dataclass(frozen=True)
class SweepJob:
    """What a sweep or walk-forward study runs: a strategy and its grid on symbols, timeframe and range."""

    strategy: Strategy
    grid: Mapping[str, Sequence[object]]
    symbols: str | Sequence[str]
    timeframe: str
    start: TimeLike | None = None
    end: TimeLike | None = None
    config: BacktestConfig | None = None


@dataclass(frozen=True)
class DaskOptions:
    """Where and how the tasks run: ``client`` (else :func:`dask_client` of ``scheduler``), the cache the
    workers use (``redis_url``; None: the database only), combinations per task, a progress bar."""

    client: Client | None = None
    scheduler: str | None = None
    redis_url: str | None = None
    chunk_size: int = 8
    progress: bool = True


@dataclass(frozen=True)
class WindowSpec:
    """Walk-forward windows (:func:`workbench.core.backtest.walk_forward_windows`)."""

    mode: str = "rolling"
    n_folds: int | None = None
    train_bars: int | None = None
    test_bars: int | None = None
    train_fraction: float | None = None


@dataclass(frozen=True)
class SweepTask:
    """What one worker needs for one chunk (small and picklable)."""

    database_url: str
    redis_url: str | None
    user_id: int
    strategy_id: int | None          # None: store nothing
    sweep_id: str
    strategy: Strategy
    combos: tuple[dict[str, Any], ...]
    symbols: tuple[str, ...]
    timeframe: str
    start: TimeLike | None
    end: TimeLike | None
    config: BacktestConfig
    per_symbol: bool
    run_token: str = ""              # one sweep call: a worker reuses the data it loaded for this call


@dataclass(frozen=True)
class FoldTask:
    """One walk-forward fold for a worker: it loads the whole range and runs its own fold."""

    database_url: str
    redis_url: str | None
    strategy: Strategy
    grid: dict[str, list[Any]]
    symbols: tuple[str, ...]
    timeframe: str
    start: TimeLike | None
    end: TimeLike | None
    config: BacktestConfig
    window: FoldWindow
    metric: str
    chunk_size: int
    run_token: str = ""
    benchmark_close: pd.Series | None = None


def run_fold_task(task: FoldTask) -> tuple[dict[str, object], BacktestResult, dict[str, object]]:
    """Run on a worker: one fold of :func:`workbench.core.backtest.walk_forward` (its row, out-of-sample run and
    chosen parameters; the run carries only its fold's window of data back)."""
    md = _task_data(task)
    return walk_forward_fold(md, task.strategy, task.grid, task.config, task.window, metric=task.metric,
                             chunk_size=task.chunk_size, benchmark_close=task.benchmark_close)


def distributed_walk_forward(wb: ResearchContext, job: SweepJob, windows: WindowSpec = WindowSpec(), *,
                             metric: str = "sharpe_ratio", overfitting: bool = True, store: bool = True,
                             dask: DaskOptions = DaskOptions()) -> WalkForwardResult:
    """:func:`workbench.app.research.walk_forward_study` with one Dask task per fold (each loading its data
    itself); the client stitches the out-of-sample runs, computes the overfitting figures and stores
    them as the in-process study does."""
    strategy, grid, start, end, chunk_size = job.strategy, job.grid, job.start, job.end, dask.chunk_size
    check_metric(metric)
    sweep_strategies(strategy, grid)              # the grid's errors, before any task starts
    tf = normalize_timeframe(job.timeframe)
    config = job.config or BacktestConfig()
    names = tuple(symbol_list(job.symbols))
    md = prepare_data(load_market(wb, names, tf, start, end), timeframe=tf)   # to stitch the folds
    folds = walk_forward_windows(len(md.index), mode=windows.mode, n_folds=windows.n_folds,
                                 train_bars=windows.train_bars, test_bars=windows.test_bars,
                                 train_fraction=windows.train_fraction)
    bench = benchmark_close(wb, config, names, tf, start, end)
    token = uuid.uuid4().hex
    tasks = [FoldTask(wb.db.url, dask.redis_url, strategy, {k: list(v) for k, v in grid.items()}, names, tf, start,
                      end, config, window, metric, chunk_size, token, bench) for window in folds]
    with (_given(dask.client) if dask.client is not None else dask_client(dask.scheduler)) as c:
        if dask.progress:
            print(f"dask dashboard: {c.dashboard_link}", file=sys.stderr)
        done = c.gather(c.map(run_fold_task, tasks, pure=False))
    rows = [d[0] for d in done]
    results = [d[1] for d in done]
    chosen = [d[2] for d in done]
    wf = finish_walk_forward(md, strategy, grid, config, rows, results, chosen, metric=metric, mode=windows.mode,
                             overfitting=overfitting, chunk_size=chunk_size, benchmark_close=bench)
    if store:
        store_walk_forward(wb, strategy, wf)
    return wf


@dataclass(frozen=True)
class TaskRow:
    key: str
    row: dict[str, Any]
    returns: pd.Series
    fingerprint: str


#: one Database per URL and worker thread (its ADBC connection is not shared), reused across tasks
_DATABASES: dict[tuple[str, int], Database] = {}


def _worker_db(url: str) -> Database:
    key = (url, threading.get_ident())
    db = _DATABASES.get(key)
    if db is None:
        db = _DATABASES[key] = Database(url, pool_size=2, max_overflow=2)
    return db


#: the last data loaded per worker (for one sweep call), so a worker's next chunk of the same call does not
#: load it again; bounded to a few entries
_FRAMES: dict[tuple[Any, ...], MarketData] = {}
_FRAMES_MAX = 4


def _task_data(task: SweepTask | FoldTask) -> MarketData:
    """The task's candles, loaded by the worker itself (Redis or PostgreSQL), reused within one call."""
    db = _worker_db(task.database_url)
    key = (task.run_token, task.database_url, task.symbols, task.timeframe, str(task.start), str(task.end),
           threading.get_ident())
    md = _FRAMES.get(key) if task.run_token else None
    if md is None:
        cache: FrameCache = NullCache()
        if task.redis_url:
            cache = RedisCache.from_url(task.redis_url, source=hashlib.sha256(db.url.encode()).hexdigest()[:16])
        frames = {s: load_candles(db, s, task.timeframe, task.start, task.end, cache=cache) for s in task.symbols}
        md = prepare_data(frames, timeframe=task.timeframe)
        if task.run_token:
            while len(_FRAMES) >= _FRAMES_MAX:
                _FRAMES.pop(next(iter(_FRAMES)))
            _FRAMES[key] = md
    return md


def _key(params: Mapping[str, Any], symbol: str | None) -> str:
    return combo_key(params if symbol is None else {**params, "@symbol": symbol})


def run_sweep_task(task: SweepTask) -> list[TaskRow]:
    """Run on a worker: load the data, backtest the chunk, store each combination, return its rows."""
    db = _worker_db(task.database_url)
    md = _task_data(task)
    symbol = task.symbols[0] if task.per_symbol else None
    rows: list[TaskRow] = []
    strategies = [task.strategy.with_params(**c) for c in task.combos]
    with indicator_cache():
        for result in run_strategies(md, strategies, task.config):
            key = _key(result.params, symbol)
            bid = None
            if task.strategy_id is not None:
                _, bid = save_sweep_result(db, task.user_id, task.strategy_id, result, uuid.UUID(task.sweep_id),
                                           key=key)
            row = {**({"symbol": symbol} if symbol else {}), **result.params, **result.metrics.to_dict(),
                   "backtest_id": bid}
            rows.append(TaskRow(key, row, daily_returns(result.equity, result.config.initial_capital),
                                md.fingerprint))
    return rows


#: a scheduler address: ``[tcp|tls|ws|wss|ucx://]host:port``, or dask's in-process ``inproc://host/pid/n``
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:]+\]|[A-Za-z0-9][A-Za-z0-9.\-]*):\d{1,5}$"
                      r"|^inproc://[A-Za-z0-9.\-]+/\d+/\d+$")


@contextmanager
def dask_client(scheduler: str | None = None, **cluster_kwargs: object) -> Iterator[Client]:
    """A client of the cluster at ``scheduler`` (else ``WORKBENCH_DASK_ADDRESS``), or of a new local
    cluster (``cluster_kwargs``, default: one single-threaded worker process per core) closed on exit."""
    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get("WORKBENCH_DASK_ADDRESS") or None
    if address:
        try:
            if not _ADDRESS.match(address):
                raise ValueError("expected [protocol://]host:port")
            client = Client(address)
        except (ValueError, AssertionError) as err:   # dask's parse_address: no port, unknown protocol ...
            raise ValidationError(f"Dask scheduler address {address[:100]!r} is not valid ({str(err)[:80]}); "
                                  "give one like tcp://host:8786") from None
        with client:
            yield client
        return
    kwargs = {"n_workers": os.cpu_count() or 1, "threads_per_worker": 1, "processes": True,
              "dashboard_address": ":0", **cluster_kwargs}
    with LocalCluster(**kwargs) as cluster, Client(cluster) as client:
        yield client


def _chunks(items: Sequence[dict[str, Any]], size: int) -> Iterator[tuple[dict[str, Any], ...]]:
    for i in range(0, len(items), size):
        yield tuple(items[i:i + size])


def distributed_sweep(wb: ResearchContext, job: SweepJob, *, store: bool = True,
                      sweep_id: uuid.UUID | str | None = None, per_symbol: bool = False,
                      dask: DaskOptions = DaskOptions()) -> SweepOutcome:
    """:func:`workbench.app.research.sweep` on Dask: the same rows, computed by tasks of ``dask.chunk_size``
    combinations (per symbol with ``per_symbol``: each symbol its own sweep, rows tagged ``symbol``),
    resumable by ``sweep_id`` in the same way (see :class:`DaskOptions` for where the tasks run)."""
    strategy, grid, start, end, chunk_size = job.strategy, job.grid, job.start, job.end, dask.chunk_size
    if chunk_size < 1:
        raise ValidationError(f"chunk_size must be >= 1 (got {chunk_size})")
    tf = normalize_timeframe(job.timeframe)
    config = job.config or BacktestConfig()
    names = symbol_list(job.symbols)
    strategies, skipped = sweep_strategies(strategy, grid)
    combos = [{k: s.params[k] for k in grid} for s in strategies]
    groups: list[tuple[str, ...]] = [(s,) for s in names] if per_symbol else [tuple(names)]
    sid_ = sweep_uuid(sweep_id) if sweep_id is not None else uuid.uuid4()
    stored = {i.combo_key: i for i in load_sweep_items(wb.db, sid_)} if store else {}
    strategy_id = save_strategy(wb.db, wb.user_id, strategy) if store else None
    # the data each group sees, fingerprinted on the client to refuse resuming on other data
    fingerprints = {g: prepare_data({s: load_candles(wb.db, s, tf, start, end, cache=wb.cache) for s in g},
                                    timeframe=tf).fingerprint for g in groups} if stored else {}
    other = {i.data_fingerprint for i in stored.values()} - set(fingerprints.values())
    if other:
        raise ValidationError(f"sweep {sid_} was run on other data: resume it on the same symbols, timeframe "
                              "and range")
    rows: dict[str, dict[str, Any]] = {}
    returns: dict[str, pd.Series] = {}
    for k, item in stored.items():
        symbol = json.loads(k).get("@symbol")
        params = {p: item.params[p] for p in strategy.params if p in item.params}
        rows[k] = {**({"symbol": symbol} if per_symbol else {}), **params, **item.metrics,
                   "backtest_id": item.backtest_id}
        returns[k] = item.daily_returns
    tasks = []
    token = uuid.uuid4().hex
    for g in groups:
        todo = [c for c, s in zip(combos, strategies, strict=True)
                if _key(s.params, g[0] if per_symbol else None) not in stored]
        tasks += [SweepTask(wb.db.url, dask.redis_url, wb.user_id, strategy_id, str(sid_), strategy, chunk, g, tf,
                            start, end, config, per_symbol, token) for chunk in _chunks(todo, chunk_size)]
    if tasks:
        with backtesting(wb.db, strategy_id), \
                (_given(dask.client) if dask.client is not None else dask_client(dask.scheduler)) as c:
            _run(c, tasks, rows, returns, dask.progress, f"sweep {strategy.name}")
    order = [_key(s.params, g[0] if per_symbol else None) for g in groups for s in strategies]
    keys = [k for k in order if k in rows]
    table = pd.DataFrame([rows[k] for k in keys])
    table.attrs["params"] = [dict(s.params) for g in groups for s in strategies
                             if _key(s.params, g[0] if per_symbol else None) in rows]
    table.attrs["skipped"] = skipped
    table.attrs["resumed"] = len(stored)
    return SweepOutcome(table, sid_, skipped, overfitting_of({k: returns[k] for k in keys}))


@contextmanager
def _given(client: Client) -> Iterator[Client]:
    yield client


def _run(client: Client, tasks: list[SweepTask], rows: dict[str, dict[str, Any]], returns: dict[str, pd.Series],
         progress: bool, desc: str) -> None:
    from distributed import as_completed
    from tqdm.auto import tqdm

    if progress:
        print(f"dask dashboard: {client.dashboard_link}", file=sys.stderr)
    futures = client.map(run_sweep_task, tasks, pure=False)
    with tqdm(total=sum(len(t.combos) for t in tasks), desc=desc, unit="combo", disable=not progress) as bar:
        for future in as_completed(futures):
            for r in future.result():
                rows[r.key] = r.row
                returns[r.key] = r.returns
            bar.update(len(tasks[futures.index(future)].combos))
