"""``connect()``: one object that carries settings, database and cache for notebooks and the CLI."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench import research
from workbench.config import Settings
from workbench.markets import TimeLike
from workbench.quality import QualityReport, quality_report
from workbench.services.resolve import ResolvedUrls, resolve_urls
from workbench.store import market_data as loaders
from workbench.store.cache import FrameCache, NullCache, RedisCache
from workbench.store.database import Database
from workbench.store.migrations import migrate

__all__ = ["Workbench", "connect"]


@dataclass
class Workbench:
    """A connected workbench: ``db`` (PostgreSQL), ``cache`` (Redis or none) and their settings."""

    settings: Settings
    db: Database
    cache: FrameCache
    urls: ResolvedUrls
    _user_id: int | None = field(default=None, repr=False)

    def candles(self, symbol: str, timeframe: str = "1h", start: TimeLike | None = None,
                end: TimeLike | None = None, **kwargs: Any) -> Any:
        """See :func:`workbench.store.market_data.load_candles`."""
        return loaders.load_candles(self.db, symbol, timeframe, start, end, cache=self.cache, **kwargs)

    def tickers(self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None,
                **kwargs: Any) -> Any:
        return loaders.load_tickers(self.db, symbol, start, end, **kwargs)

    def transactions(self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None,
                     **kwargs: Any) -> Any:
        return loaders.load_transactions(self.db, symbol, start, end, **kwargs)

    def orderbooks(self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None,
                   **kwargs: Any) -> Any:
        return loaders.load_orderbooks(self.db, symbol, start, end, **kwargs)

    def candles_from_transactions(self, symbol: str, timeframe: str = "1m", start: TimeLike | None = None,
                                  end: TimeLike | None = None, **kwargs: Any) -> Any:
        return loaders.candles_from_transactions(self.db, symbol, timeframe, start, end, **kwargs)

    def quality(self, symbol: str, timeframe: str = "1m", start: TimeLike | None = None,
                end: TimeLike | None = None) -> QualityReport:
        """Data quality report of the stored candles."""
        df = self.candles(symbol, timeframe, start, end)
        return quality_report(df, timeframe, symbol=symbol)

    def inventory(self) -> pd.DataFrame:
        """Stored candles: one row per (symbol, timeframe) with first/last timestamp and row count."""
        table = self.db.fetch_arrow("candle_inventory", {})
        return table.to_pandas()

    def compute_indicators(self, symbol: str, timeframe: str, start: TimeLike | None = None,
                           end: TimeLike | None = None, *, store: bool = True) -> pd.DataFrame:
        """Indicator table of stored candles (see ``compute_and_store_indicators``)."""
        from workbench.store.indicator_store import compute_and_store_indicators

        return compute_and_store_indicators(self.db, symbol, timeframe, start, end, store_rows=store,
                                            cache=self.cache).table

    def indicators(self, symbol: str, timeframe: str, start: TimeLike | None = None,
                   end: TimeLike | None = None, **kwargs: Any) -> Any:
        """Stored ``technical_indicators`` rows."""
        return loaders.load_indicators(self.db, symbol, timeframe, start, end, **kwargs)

    def backtest(self, strategy: Any, symbols: Any, timeframe: str, start: TimeLike | None = None,
                 end: TimeLike | None = None, **kwargs: Any) -> Any:
        """Load, backtest, store; see :func:`workbench.research.backtest`."""
        return research.backtest(self, strategy, symbols, timeframe, start, end, **kwargs)

    def sweep(self, strategy: Any, grid: Any, symbols: Any, timeframe: str, start: TimeLike | None = None,
              end: TimeLike | None = None, **kwargs: Any) -> Any:
        """Parameter grid sweep; see :func:`workbench.research.sweep`. With ``dask=True`` (or ``scheduler=``,
        ``client=``, ``per_symbol=True``) it runs on Dask: :func:`workbench.distributed.distributed_sweep`."""
        if kwargs.pop("dask", False) or any(kwargs.get(k) for k in ("scheduler", "client", "per_symbol")):
            from workbench.distributed import distributed_sweep

            redis_url = self.urls.redis_url if self.settings.cache_enabled else None
            return distributed_sweep(self, strategy, grid, symbols, timeframe, start, end, redis_url=redis_url,
                                     **kwargs)
        return research.sweep(self, strategy, grid, symbols, timeframe, start, end, **kwargs)

    def optimize(self, strategy: Any, space: Any, symbols: Any, timeframe: str, start: TimeLike | None = None,
                 end: TimeLike | None = None, **kwargs: Any) -> Any:
        """Optuna search (resumable by ``study_name``); see :func:`workbench.optimize.optimize`."""
        from workbench.optimize import optimize

        return optimize(self, strategy, space, symbols, timeframe, start, end, **kwargs)

    def walk_forward(self, strategy: Any, grid: Any, symbols: Any, timeframe: str,
                     start: TimeLike | None = None, end: TimeLike | None = None, **kwargs: Any) -> Any:
        """Walk-forward test; see :func:`workbench.research.walk_forward_study`. With ``dask=True`` (or
        ``scheduler=``, ``client=``) one Dask task per fold: :func:`workbench.distributed.distributed_walk_forward`."""
        if kwargs.pop("dask", False) or any(kwargs.get(k) for k in ("scheduler", "client")):
            from workbench.distributed import distributed_walk_forward

            redis_url = self.urls.redis_url if self.settings.cache_enabled else None
            return distributed_walk_forward(self, strategy, grid, symbols, timeframe, start, end,
                                            redis_url=redis_url, **kwargs)
        return research.walk_forward_study(self, strategy, grid, symbols, timeframe, start, end, **kwargs)

    def runs(self, *, strategy_id: int | None = None, sweep_id: Any = None, limit: int = 100) -> pd.DataFrame:
        """Stored backtest runs with their manifests, newest first."""
        from workbench.store.runs import list_runs

        return list_runs(self.db, strategy_id=strategy_id, sweep_id=sweep_id, limit=limit)

    def run(self, backtest_id: int) -> dict[str, Any]:
        """One stored run (all columns, manifest, equity as a Series)."""
        from workbench.store.runs import load_run

        return load_run(self.db, backtest_id)

    def strategy(self, strategy: int | str) -> Any:
        """A stored strategy, by id or name."""
        from workbench.store.runs import load_strategy

        return load_strategy(self.db, strategy, user_id=self.user_id)

    @property
    def user_id(self) -> int:
        """Id of the settings' user (``local`` by default), created on first use."""
        if self._user_id is None:
            from workbench.store.runs import ensure_user

            self._user_id = ensure_user(self.db, self.settings.username)
        return self._user_id

    def close(self) -> None:
        self.db.dispose()


def connect(settings: Settings | None = None, *, init_db: bool = True, **overrides: Any) -> Workbench:
    """Connect to the configured servers, or start the embedded ones, and bring the schema up to date.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to ``Settings()`` (environment ``WORKBENCH_*`` and ``.env``).
    init_db : bool
        Apply pending migrations (idempotent; a no-op when up to date).
    **overrides
        Settings fields to override, e.g. ``connect(database_url="postgresql://...")``.
    """
    if settings is None:
        settings = Settings(**overrides)
    elif overrides:
        settings = settings.model_copy(update=overrides)
    urls = resolve_urls(settings)
    db = Database(urls.database_url, pool_size=settings.pool_size, max_overflow=settings.max_overflow)
    if init_db:
        migrate(db)
    cache: FrameCache = NullCache()
    if settings.cache_enabled and urls.redis_url:
        source = hashlib.sha256(db.url.encode()).hexdigest()[:16]  # which database the frames are from
        cache = RedisCache.from_url(urls.redis_url, source=source)
    return Workbench(settings=settings, db=db, cache=cache, urls=urls)
