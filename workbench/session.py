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
        """Parameter grid sweep; see :func:`workbench.research.sweep`."""
        return research.sweep(self, strategy, grid, symbols, timeframe, start, end, **kwargs)

    def walk_forward(self, strategy: Any, grid: Any, symbols: Any, timeframe: str,
                     start: TimeLike | None = None, end: TimeLike | None = None, **kwargs: Any) -> Any:
        """Walk-forward test; see :func:`workbench.research.walk_forward_study`."""
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

    def paper_replay(self, strategy: Any, symbols: Any, timeframe: str, start: TimeLike, end: TimeLike,
                     **kwargs: Any) -> Any:
        """Paper-trade over stored candles; see :func:`workbench.paper.runner.replay`."""
        from workbench.paper.runner import replay

        return replay(self, strategy, symbols, timeframe, start, end, **kwargs)

    def paper_live(self, strategy: Any, symbols: Any, timeframe: str, client: Any = None, **kwargs: Any) -> Any:
        """Paper-trade on candles polled from Bithumb; see :func:`workbench.paper.runner.live`."""
        from workbench.paper.runner import live

        return live(self, strategy, symbols, timeframe, client or self._bithumb(), **kwargs)

    def paper_resume(self, run_id: int, client: Any = None, **kwargs: Any) -> Any:
        """Continue a stopped paper run; see :func:`workbench.paper.runner.resume`."""
        from workbench.paper.runner import resume
        from workbench.store.paper import get_run

        if client is None and get_run(self.db, run_id).mode == "live":
            client = self._bithumb()
        return resume(self, run_id, client=client, **kwargs)

    def paper_runs(self, limit: int = 50) -> pd.DataFrame:
        """Paper runs, newest first."""
        from workbench.store.paper import list_runs

        return list_runs(self.db, limit=limit)

    def reconcile(self, run_id: int) -> Any:
        """Paper run vs backtest; see :func:`workbench.paper.reconcile.reconcile_run`."""
        from workbench.paper.reconcile import reconcile_run

        return reconcile_run(self, run_id)

    def _bithumb(self) -> Any:
        from workbench.ingest.bithumb import BithumbClient

        return BithumbClient(base_url=self.settings.bithumb_base_url)

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
