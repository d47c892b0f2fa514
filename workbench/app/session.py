"""``connect()``: one object that carries settings, database and cache for notebooks and the CLI."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, Unpack, cast

import pandas as pd

from workbench.app import research
from workbench.core.backtest import BacktestConfig, WalkForwardResult
from workbench.core.markets import TimeLike
from workbench.core.quality import QualityReport, quality_report
from workbench.core.strategies import Strategy
from workbench.services.config import Settings
from workbench.services.resolve import ResolvedUrls, resolve_urls
from workbench.store.archive import Archive, ArchiveProgress, ArchiveReport, RetentionReport, apply_retention, archive
from workbench.store.cache import FrameCache, NullCache, RedisCache, TieredCache
from workbench.store.database import Database
from workbench.store.market_data import ARROW, PANDAS, POLARS, FrameKind, Frames
from workbench.store.migrations import migrate
from workbench.store.queries import Q

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa
    from distributed import Client
    from redis import Redis

    from workbench.app.optimize import SearchOutcome
    from workbench.app.paper.reconcile import Reconciliation
    from workbench.app.paper.runner import CandleSource, LiveOptions, PaperOutcome, ReplayOptions, ResumeOptions
    from workbench.app.reproduce import RerunReport
    from workbench.core.backtest.search import SpaceLike
    from workbench.ingest.bithumb import BithumbClient
    from workbench.store.archive_verify import VerifyReport
    from workbench.store.runs import StoredRun

__all__ = ["Workbench", "connect"]

F = TypeVar("F")


@dataclass
class Workbench:
    """A connected workbench: ``db`` (PostgreSQL), ``cache`` (Redis or none) and their settings."""

    settings: Settings
    db: Database
    cache: FrameCache
    urls: ResolvedUrls
    archive: Archive
    _user_id: int | None = field(default=None, repr=False)
    _redis: Redis | None = field(default=None, repr=False)

    def frames(self, kind: FrameKind[F]) -> Frames[F]:
        """The loaders of one frame kind, with this session's cache and archive:
        ``wb.frames(POLARS).candles("KRW-BTC", "1m")``; :attr:`polars` and :attr:`arrow` are shorthands."""
        return Frames(self.db, kind, cache=self.cache, archive=self.archive)

    @property
    def polars(self) -> Frames[pl.DataFrame]:
        """Loaders that return polars DataFrames (``ts`` a column): ``wb.polars.candles("KRW-BTC", "1m")``."""
        return self.frames(POLARS)

    @property
    def arrow(self) -> Frames[pa.Table]:
        """Loaders that return pyarrow Tables (``ts`` a column): ``wb.arrow.tickers("KRW-BTC")``."""
        return self.frames(ARROW)

    def candles(self, symbol: str, timeframe: str = "1h", start: TimeLike | None = None,
                end: TimeLike | None = None, *, source_timeframe: str | None = None,
                allow_empty: bool = False) -> pd.DataFrame:
        """Candles through the cache; see :func:`workbench.store.market_data.load_candles`.

        A pandas DataFrame indexed by ``ts``; ``wb.polars.candles(...)`` for a polars DataFrame,
        ``wb.arrow.candles(...)`` for a pyarrow Table.
        """
        return self.frames(PANDAS).candles(symbol, timeframe, start, end, source_timeframe=source_timeframe,
                                           allow_empty=allow_empty)

    def tickers(self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None) -> pd.DataFrame:
        """Ticker snapshots (archived ones included); ``wb.polars`` / ``wb.arrow`` for other kinds."""
        return self.frames(PANDAS).tickers(symbol, start, end)

    def transactions(self, symbol: str, start: TimeLike | None = None,
                     end: TimeLike | None = None) -> pd.DataFrame:
        """Trades (archived ones included); ``wb.polars`` / ``wb.arrow`` for other kinds."""
        return self.frames(PANDAS).transactions(symbol, start, end)

    def orderbooks(self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None) -> pd.DataFrame:
        """Order book snapshots (archived ones included); ``wb.polars`` / ``wb.arrow`` for other kinds."""
        return self.frames(PANDAS).orderbooks(symbol, start, end)

    def candles_from_transactions(self, symbol: str, timeframe: str = "1m", start: TimeLike | None = None,
                                  end: TimeLike | None = None) -> pd.DataFrame:
        """OHLCV bars built on the server from stored trades (with ``vwap`` and ``trades``)."""
        return self.frames(PANDAS).candles_from_transactions(symbol, timeframe, start, end)

    def indicators(self, symbol: str, timeframe: str, start: TimeLike | None = None,
                   end: TimeLike | None = None) -> pd.DataFrame:
        """Stored indicator rows (archived ones included); ``wb.polars`` / ``wb.arrow`` for other kinds."""
        return self.frames(PANDAS).indicators(symbol, timeframe, start, end)

    def quality(self, symbol: str, timeframe: str = "1m", start: TimeLike | None = None,
                end: TimeLike | None = None) -> QualityReport:
        """Data quality report of the stored candles."""
        df = self.candles(symbol, timeframe, start, end)
        return quality_report(df, timeframe, symbol=symbol)

    def inventory(self) -> pd.DataFrame:
        """Stored candles: one row per (symbol, timeframe) with first/last timestamp and row count."""
        frame: pd.DataFrame = self.db.fetch_arrow(Q.CANDLE_INVENTORY, {}).to_pandas()
        return frame

    def compute_indicators(self, symbol: str, timeframe: str, start: TimeLike | None = None,
                           end: TimeLike | None = None, *, store: bool = True) -> pd.DataFrame:
        """Indicator table of stored candles (see ``compute_and_store_indicators``)."""
        from workbench.store.indicator_store import compute_and_store_indicators

        return compute_and_store_indicators(self.db, symbol, timeframe, start, end, store_rows=store,
                                            cache=self.cache).table

    def backtest(self, strategy: Strategy, symbols: str | Sequence[str], timeframe: str,
                 start: TimeLike | None = None, end: TimeLike | None = None, *,
                 config: BacktestConfig | None = None, store: bool = True,
                 close_at_end: bool = False, benchmark: str | None = None,
                 risk_free_rate: float | None = None) -> research.StoredRun:
        """Load, backtest, store; see :func:`workbench.app.research.backtest`. ``benchmark``: ``"equal-weight"``
        (default), ``"none"`` or a symbol (``"KRW-BTC"``); ``risk_free_rate``: annual, as a fraction."""
        return research.backtest(self, strategy, symbols, timeframe, start, end, config=config, store=store,
                                 close_at_end=close_at_end, benchmark=benchmark, risk_free_rate=risk_free_rate)

    def sweep(self, strategy: Strategy, grid: Mapping[str, Sequence[object]], symbols: str | Sequence[str],
              timeframe: str, start: TimeLike | None = None, end: TimeLike | None = None, *,
              config: BacktestConfig | None = None, chunk_size: int = 8, store: bool = True,
              progress: bool = True, sweep_id: uuid.UUID | str | None = None, dask: bool = False,
              scheduler: str | None = None, client: Client | None = None,
              per_symbol: bool = False) -> research.SweepOutcome:
        """Parameter grid sweep, resumable by ``sweep_id``; see :func:`workbench.app.research.sweep`. With
        ``dask`` (or ``scheduler``, ``client``, ``per_symbol``) it runs on Dask:
        :func:`workbench.app.distributed.distributed_sweep`."""
        if dask or scheduler or client is not None or per_symbol:
            from workbench.app.distributed import DaskOptions, SweepJob, distributed_sweep

            return distributed_sweep(self, SweepJob(strategy, grid, symbols, timeframe, start, end, config),
                                     store=store, sweep_id=sweep_id, per_symbol=per_symbol,
                                     dask=DaskOptions(client, scheduler, self._worker_redis_url(), chunk_size,
                                                      progress))
        return research.sweep(self, strategy, grid, symbols, timeframe, start, end, config=config,
                              chunk_size=chunk_size, store=store, progress=progress, sweep_id=sweep_id)

    def _worker_redis_url(self) -> str | None:
        return self.urls.redis_url if self.settings.cache_enabled else None

    def optimize(self, strategy: Strategy, space: SpaceLike | Sequence[str], symbols: str | Sequence[str],
                 timeframe: str, start: TimeLike | None = None, end: TimeLike | None = None, *,
                 n_trials: int = 50, metric: str = "sharpe_ratio", study_name: str | None = None,
                 n_folds: int = 3, holdout: float = 0.3, config: BacktestConfig | None = None,
                 seed: int | None = None, progress: bool = True) -> SearchOutcome:
        """Optuna search (resumable by ``study_name``); see :func:`workbench.app.optimize.optimize`."""
        from workbench.app.optimize import optimize

        return optimize(self, strategy, space, symbols, timeframe, start, end, n_trials=n_trials, metric=metric,
                        study_name=study_name, n_folds=n_folds, holdout=holdout, config=config, seed=seed,
                        progress=progress)

    def walk_forward(self, strategy: Strategy, grid: Mapping[str, Sequence[object]], symbols: str | Sequence[str],
                     timeframe: str, start: TimeLike | None = None, end: TimeLike | None = None, *,
                     config: BacktestConfig | None = None, mode: str = "rolling", n_folds: int | None = None,
                     train_bars: int | None = None, test_bars: int | None = None,
                     train_fraction: float | None = None, metric: str = "sharpe_ratio", overfitting: bool = True,
                     store: bool = True, progress: bool = True, dask: bool = False,
                     scheduler: str | None = None, client: Client | None = None) -> WalkForwardResult:
        """Walk-forward test (``mode`` rolling or anchored; out-of-sample windows tiling the history after
        the first training window); see :func:`workbench.app.research.walk_forward_study`. With ``dask``
        (or ``scheduler``, ``client``) one Dask task per fold:
        :func:`workbench.app.distributed.distributed_walk_forward`."""
        if dask or scheduler or client is not None:
            from workbench.app.distributed import DaskOptions, SweepJob, WindowSpec, distributed_walk_forward

            return distributed_walk_forward(self, SweepJob(strategy, grid, symbols, timeframe, start, end, config),
                                            WindowSpec(mode, n_folds, train_bars, test_bars, train_fraction),
                                            metric=metric, overfitting=overfitting, store=store,
                                            dask=DaskOptions(client, scheduler, self._worker_redis_url(),
                                                             progress=progress))
        return research.walk_forward_study(self, strategy, grid, symbols, timeframe, start, end, config=config,
                                           metric=metric, overfitting=overfitting, store=store, progress=progress,
                                           mode=mode, n_folds=n_folds, train_bars=train_bars, test_bars=test_bars,
                                           train_fraction=train_fraction)

    def runs(self, *, strategy_id: int | None = None, sweep_id: uuid.UUID | str | None = None,
             limit: int = 100) -> pd.DataFrame:
        """Stored backtest runs with their manifests, newest first: the user's own and those shared with
        them."""
        from workbench.store.runs import list_runs

        return list_runs(self.db, strategy_id=strategy_id, sweep_id=sweep_id, limit=limit, user_id=self.user_id)

    def run(self, backtest_id: int) -> StoredRun:
        """One stored run (all columns, manifest, equity as a Series)."""
        from workbench.store.runs import load_run

        return load_run(self.db, backtest_id)

    def rerun(self, backtest_id: int) -> RerunReport:
        """Re-execute a stored run from its manifest; see :func:`workbench.app.reproduce.rerun`."""
        from workbench.app.reproduce import rerun

        return rerun(self, backtest_id)

    def strategy(self, strategy: int | str) -> Strategy:
        """A stored strategy, by id or name."""
        from workbench.store.runs import load_strategy

        return load_strategy(self.db, strategy, user_id=self.user_id)

    def paper_replay(self, strategy: Strategy, symbols: str | Sequence[str], timeframe: str, start: TimeLike,
                     end: TimeLike, **options: Unpack[ReplayOptions]) -> PaperOutcome:
        """Paper-trade over stored candles; see :func:`workbench.app.paper.runner.replay`."""
        from workbench.app.paper.runner import replay

        return replay(self, strategy, symbols, timeframe, start, end, **options)

    def paper_live(self, strategy: Strategy, symbols: str | Sequence[str], timeframe: str,
                   client: CandleSource | None = None, **options: Unpack[LiveOptions]) -> PaperOutcome:
        """Paper-trade on candles polled from Bithumb; see :func:`workbench.app.paper.runner.live`."""
        from workbench.app.paper.runner import live

        return live(self, strategy, symbols, timeframe, client or self._bithumb(), **options)

    def paper_resume(self, run_id: int, client: CandleSource | None = None,
                     **options: Unpack[ResumeOptions]) -> PaperOutcome:
        """Continue a stopped paper run; see :func:`workbench.app.paper.runner.resume`."""
        from workbench.app.paper.runner import resume
        from workbench.store.paper import get_run

        if client is None and get_run(self.db, run_id).mode == "live":
            client = self._bithumb()
        return resume(self, run_id, client=client, **options)

    def paper_runs(self, limit: int = 50) -> pd.DataFrame:
        """The user's paper runs, newest first."""
        from workbench.store.paper import list_runs

        return list_runs(self.db, limit=limit, user_id=self.user_id)

    def reconcile(self, run_id: int) -> Reconciliation:
        """Paper run vs backtest; see :func:`workbench.app.paper.reconcile.reconcile_run`."""
        from workbench.app.paper.reconcile import reconcile_run

        return reconcile_run(self, run_id)

    def _bithumb(self) -> BithumbClient:
        from workbench.ingest.bithumb import BithumbClient

        return BithumbClient(base_url=self.settings.bithumb_base_url)

    @property
    def user_id(self) -> int:
        """Id of the settings' user (``local`` by default), created on first use."""
        if self._user_id is None:
            from workbench.store.runs import ensure_user

            self._user_id = ensure_user(self.db, self.settings.username)
        return self._user_id

    def archive_history(self, before: TimeLike | None = None, *, retention: bool | None = None,
                        progress: ArchiveProgress | None = None) -> tuple[ArchiveReport, RetentionReport | None]:
        """Archive market rows older than ``before`` (default: the 30-day retention horizon) to Parquet,
        then, on plain PostgreSQL, apply the retention (TimescaleDB's job does it there). ``retention``
        forces it on or off. Returns what was archived and deleted."""
        from workbench.core.markets import to_utc

        cutoff = to_utc(before, name="before") if before is not None else None
        report = archive(self.db, self.archive, before=cutoff, progress=progress)
        if retention is None:
            retention = not self.db.has_timescaledb
        return report, (apply_retention(self.db) if retention else None)

    def verify_archive(self) -> VerifyReport:
        """Every archive file checked against its record in the database (``workbench archive --verify``)."""
        from workbench.store.archive_verify import verify_archive

        return verify_archive(self.db, self.archive)

    def adopt_archive(self) -> list[str]:
        """Record the archive's unrecorded files that fit their place (archives written before
        migration 0051; ``workbench archive --adopt``); returns their paths."""
        from workbench.store.archive_verify import adopt_unrecorded

        return adopt_unrecorded(self.db, self.archive)

    def redis_client(self) -> Redis | None:
        """A client of the Redis server in use (None with the cache disabled): sessions, login limits."""
        if not (self.settings.cache_enabled and self.urls.redis_url):
            return None
        if self._redis is None:
            from redis import Redis

            self._redis = Redis.from_url(self.urls.redis_url)
        return self._redis

    def close(self) -> None:
        self.db.timings.flush()
        if self._redis is not None:
            self._redis.close()
        self.db.dispose()


def connect(settings: Settings | None = None, *, init_db: bool = True, need_redis: bool = True,
            **overrides: object) -> Workbench:
    """Connect to the configured servers, or start the embedded ones, and bring the schema up to date.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to ``Settings()`` (environment ``WORKBENCH_*`` and ``.env``).
    init_db : bool
        Apply pending migrations (idempotent; a no-op when up to date).
    need_redis : bool
        ``False``: do not start an embedded Redis (a configured one is still used).
    **overrides
        Settings fields to override, e.g. ``connect(database_url="postgresql://...")``.
    """
    if settings is None:   # pydantic checks each override's type (a wrong one raises its ValidationError)
        settings = Settings(**cast("dict[str, Any]", overrides))
    elif overrides:
        settings = settings.model_copy(update=overrides)
    urls = resolve_urls(settings, need_redis=need_redis)
    db = Database(urls.database_url, pool_size=settings.pool_size, max_overflow=settings.max_overflow,
                  pool_timeout=settings.pool_timeout,
                  single_connection=settings.single_connection)
    if init_db:
        migrate(db)
    cache: FrameCache = NullCache()
    if settings.cache_enabled:
        from workbench.store.versions import cache_secret

        source = hashlib.sha256(db.url.encode()).hexdigest()[:16]  # which database the frames are from
        inner: FrameCache = (RedisCache.from_url(urls.redis_url, source=source, secret=cache_secret(db))
                             if urls.redis_url else NullCache())
        cache = TieredCache(inner)
        if isinstance(inner, RedisCache):
            db.timings.attach(inner.client)   # query timings of every process add up in Redis
    return Workbench(settings=settings, db=db, cache=cache, urls=urls,
                     archive=Archive.open(settings.archive_location))
