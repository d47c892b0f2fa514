"""The only reader/writer of ``strategies``, ``backtest_results`` and ``backtest_manifests``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypedDict, cast

import pandas as pd
import sqlalchemy as sa

from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.result import BacktestResult
from workbench.core.jsontypes import JSONObject, JSONValue, json_list, json_object, json_str
from workbench.core.markets import timeframe_seconds
from workbench.core.strategies.base import Risk, Strategy
from workbench.core.strategies.registry import resolve_strategy, strategy_source
from workbench.errors import DataNotFoundError, StrategyError, ValidationError
from workbench.store.database import Database
from workbench.store.jsonb import jsonb_text
from workbench.store.manifest import git_commit, package_versions, result_digests
from workbench.store.queries import Q, query

__all__ = ["StoredRun", "backtesting", "ensure_user", "list_runs", "load_run", "load_strategy", "replay_spec",
           "resolve_strategy_class", "save_result", "save_strategy", "share_run", "stored_config", "stored_form",
           "stored_symbols", "stored_timeframe", "strategy_id_of"]


def stored_form(value: object) -> JSONValue:
    """``value`` as a JSONB column gives it back (non-finite floats as null, times as text)."""
    stored: JSONValue = json.loads(jsonb_text(value))
    return stored


def ensure_user(db: Database, username: str) -> int:
    """Id of ``username``, created (without a password: no login) if missing."""
    with db.begin() as conn:
        return int(conn.execute(query(Q.ENSURE_USER).text,
                                {"username": username, "email": f"{username}@localhost"}).scalar_one())


def _strategy_params(strategy: Strategy) -> dict[str, Any]:
    r = strategy.risk
    return {
        "name": strategy.name,
        "strategy_type": strategy.strategy_type,
        "description": strategy.description or None,
        # risk settings beyond the table's four columns (exits, sizing) only when set: stored rows stay as they were
        "parameters": jsonb_text({"class": strategy.class_path, "params": strategy.params,
                             **({"risk": r.extras()} if r.extras() else {})}),
        "risk_per_trade": r.risk_per_trade,
        "max_positions": r.max_positions,
        "stop_loss_pct": r.stop_loss_pct,
        "take_profit_pct": r.take_profit_pct,
    }


def save_strategy(db: Database, user_id: int, strategy: Strategy) -> int:
    """Insert the strategy, or update the user's strategy of the same name; return its id (one row per
    name, also when several processes save it at once)."""
    p = _strategy_params(strategy)
    with db.begin() as conn:
        conn.execute(query(Q.STRATEGY_LOCK).text, {"user_id": user_id})
        found = conn.execute(query(Q.STRATEGY_FIND).text, {"user_id": user_id, "name": strategy.name}).scalar()
        if found is None:
            return int(conn.execute(query(Q.STRATEGY_INSERT).text, {"user_id": user_id, **p}).scalar_one())
        conn.execute(query(Q.STRATEGY_UPDATE).text, {"id": found, **p})
        return int(found)


def strategy_id_of(db: Database, user_id: int, strategy: Strategy) -> int:
    """Id of the user's strategy of this name (saved first if there is none; an existing row is not changed)."""
    with db.begin() as conn:
        found = conn.execute(query(Q.STRATEGY_FIND).text, {"user_id": user_id, "name": strategy.name}).scalar()
    return int(found) if found is not None else save_strategy(db, user_id, strategy)


def _set_backtesting(conn: sa.Connection, strategy_id: int, flag: bool) -> None:
    conn.execute(query(Q.STRATEGY_SET_BACKTESTING).text, {"id": strategy_id, "flag": flag})


@contextmanager
def backtesting(db: Database, strategy_id: int | None) -> Iterator[None]:
    """``strategies.is_backtesting`` is true while the block (a backtest, sweep or optimization) runs.

    Each run holds a shared advisory lock on the strategy on its pinned connection; the last to finish
    (the one that then gets the lock exclusively) clears the flag, so concurrent runs of one strategy keep
    it set until all are done. A run killed outright leaves the flag set until the strategy's next run ends.
    ``strategy_id`` None (nothing stored): nothing is marked.
    """
    if strategy_id is None:
        yield
        return
    if db.single_connection:   # one connection at a time: no lock connection beside the run's own
        with db.begin() as conn:
            _set_backtesting(conn, strategy_id, True)
        try:
            yield
        finally:
            with db.begin() as conn:
                _set_backtesting(conn, strategy_id, False)
        return
    with db.pinned() as lock:   # the block's db.begin() calls run on it too: a pool of one is enough
        lock.execute(query(Q.STRATEGY_BACKTESTING_ENTER).text, {"id": strategy_id})
        _set_backtesting(lock, strategy_id, True)
        lock.commit()
        try:
            yield
        finally:
            if lock.in_transaction():   # a failure inside the block left one open
                lock.rollback()
            lock.execute(query(Q.STRATEGY_BACKTESTING_LEAVE).text, {"id": strategy_id})
            if lock.execute(query(Q.STRATEGY_BACKTESTING_LAST).text, {"id": strategy_id}).scalar():
                _set_backtesting(lock, strategy_id, False)
                lock.execute(query(Q.STRATEGY_BACKTESTING_RELEASE).text, {"id": strategy_id})
            lock.commit()


def resolve_strategy_class(path: str) -> type[Strategy]:
    """The Strategy class of a stored ``module:Name`` or ``/path/file.py:Name`` path (registered, built-in,
    importable, or a user's file)."""
    return resolve_strategy(path)


def load_strategy(db: Database, strategy: int | str, *, user_id: int | None = None) -> Strategy:
    """Rebuild a stored strategy by id, or by name (for ``user_id``)."""
    with db.begin() as conn:
        if isinstance(strategy, int):
            row = conn.execute(query(Q.STRATEGY_GET).text, {"id": strategy}).mappings().first()
        else:
            if user_id is None:
                raise StrategyError("load_strategy by name needs user_id")
            row = conn.execute(query(Q.STRATEGY_GET_BY_NAME).text,
                               {"user_id": user_id, "name": strategy}).mappings().first()
    if row is None:
        raise DataNotFoundError(f"no stored strategy {strategy!r}")
    spec = row["parameters"] or {}
    if "class" not in spec:
        raise StrategyError(f"strategy {row['name']!r} (id {row['id']}) has no class in its parameters")
    cls = resolve_strategy_class(spec["class"])
    risk = Risk(risk_per_trade=row["risk_per_trade"], max_positions=row["max_positions"],
                stop_loss_pct=row["stop_loss_pct"], take_profit_pct=row["take_profit_pct"], **spec.get("risk", {}))
    return cls(name=row["name"], risk=risk, **spec.get("params", {}))


def save_result(
    db: Database,
    user_id: int,
    strategy_id: int,
    result: BacktestResult,
    *,
    run_id: uuid.UUID | None = None,
    sweep_id: uuid.UUID | None = None,
    split: str = "full",
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    trade_start: pd.Timestamp | None = None,
    close_at_end: bool = False,
    extra: Callable[[sa.Connection, int], None] | None = None,
) -> int:
    """Store a run (every ``backtest_results`` column, plus its manifest) and refresh the strategy's
    summary columns, in one transaction. Returns the ``backtest_results`` id.

    ``window`` is the half-open range of the candles the run was given (by default the equity curve's
    span), ``trade_start`` and ``close_at_end`` the ``run_backtest`` arguments. With them and the result's digests
    the manifest holds what ``workbench rerun`` needs (see :func:`replay_spec`). ``extra(conn, id)`` writes
    more rows in the same transaction (e.g. a sweep item; if it fails, nothing is stored)."""
    rec = result.to_record()
    for key in ("equity_curve", "trade_history", "monthly_returns"):
        rec[key] = jsonb_text(rec[key])
    with db.begin() as conn:
        bid = int(conn.execute(query(Q.BACKTEST_INSERT).text,
                               {"strategy_id": strategy_id, "user_id": user_id, **rec}).scalar_one())
        conn.execute(query(Q.MANIFEST_INSERT).text, {
            "backtest_result_id": bid,
            "run_id": str(run_id or uuid.uuid4()),
            "sweep_id": None if sweep_id is None else str(sweep_id),
            "split": split,
            "strategy_class": result.strategy_class,
            "parameters": jsonb_text(_manifest_parameters(result, window, trade_start, close_at_end)),
            "backtest_config": jsonb_text(result.config.to_dict()),
            "data_fingerprint": result.data_fingerprint,
            "data_rows": result.data_rows,
            "package_versions": jsonb_text(package_versions()),
            "git_commit": git_commit(),
        })
        if extra is not None:
            extra(conn, bid)
        conn.execute(query(Q.STRATEGY_AGGREGATE).text, {"strategy_id": strategy_id})
    return bid


def _manifest_parameters(result: BacktestResult, window: tuple[pd.Timestamp, pd.Timestamp] | None,
                         trade_start: pd.Timestamp | None, close_at_end: bool) -> dict[str, Any]:
    out = {"params": result.params, "risk": result.risk, "symbols": result.symbols,
           "replay": replay_spec(result, window, trade_start, close_at_end)}
    source = strategy_source(result.strategy_class)
    if source is not None:   # a strategy of a user's file: which content ran (rerun refuses another)
        out["source"] = source.to_dict()
    return out


def replay_spec(result: BacktestResult, window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
                trade_start: pd.Timestamp | None = None, close_at_end: bool = False) -> dict[str, object]:
    """What re-running ``result`` needs besides strategy, parameters, risk, config and symbols: the
    timeframe, the candles' window ``[start, end)`` (default: first bar to one bar past the last), the
    ``trade_start`` and ``close_at_end`` arguments and the sha256 digests of equity, trades and metrics."""
    if window is None:
        window = (result.start, result.end + pd.Timedelta(seconds=timeframe_seconds(result.timeframe)))
    return {
        "timeframe": result.timeframe,
        "window": [pd.Timestamp(window[0]).isoformat(), pd.Timestamp(window[1]).isoformat()],
        "trade_start": None if trade_start is None else pd.Timestamp(trade_start).isoformat(),
        "close_at_end": bool(close_at_end),
        "digests": result_digests(result),
    }


def list_runs(db: Database, *, strategy_id: int | None = None, sweep_id: uuid.UUID | str | None = None,
              limit: int = 100, user_id: int | None = None) -> pd.DataFrame:
    """Stored runs with their manifests and owner, newest first; with ``user_id`` only those the user owns
    or that were shared with them (:func:`share_run`)."""
    with db.begin() as conn:
        result = conn.execute(query(Q.BACKTEST_RUNS).text, {
            "strategy_id": strategy_id, "sweep_id": None if sweep_id is None else str(sweep_id),
            "limit": limit, "user_id": user_id})
        frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    for col in ("start_date", "end_date", "created_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


class StoredRun(TypedDict):
    """One stored run (:func:`load_run`): the ``backtest_results`` row, its manifest (every manifest key None
    for a run stored without one), the strategy's name and the equity curve as a Series. A plain dict at
    run time: index it by column name."""

    id: int
    strategy_id: int
    user_id: int
    start_date: datetime
    end_date: datetime
    initial_capital: float
    symbol: str
    timeframe: str
    total_return: float | None
    annual_return: float | None
    max_drawdown: float | None
    sharpe_ratio: float | None
    sortino_ratio: float | None
    win_rate: float | None
    profit_factor: float | None
    total_trades: int | None
    winning_trades: int | None
    losing_trades: int | None
    avg_win: float | None
    avg_loss: float | None
    largest_win: float | None
    largest_loss: float | None
    equity_curve: list[JSONObject] | None      # [{"t": ISO time, "equity": KRW}, ...]
    trade_history: list[JSONObject] | None
    monthly_returns: JSONValue
    created_at: datetime | None
    execution_time: float | None
    run_id: uuid.UUID | None
    sweep_id: uuid.UUID | None
    split: str | None
    strategy_class: str | None
    parameters: JSONObject | None              # replay_spec(): symbols, params, risk, replay, source
    backtest_config: JSONObject | None
    data_fingerprint: str | None
    data_rows: int | None
    package_versions: dict[str, str] | None
    git_commit: str | None
    strategy_name: str
    equity: pd.Series


def load_run(db: Database, backtest_id: int) -> StoredRun:
    """One stored run: all ``backtest_results`` columns plus its manifest, with ``equity`` as a Series."""
    with db.begin() as conn:
        row = conn.execute(query(Q.BACKTEST_GET).text, {"id": backtest_id}).mappings().first()
    if row is None:
        raise DataNotFoundError(f"no backtest result with id {backtest_id}")
    points = row["equity_curve"] or []
    equity = pd.Series([p["equity"] for p in points],
                       index=pd.DatetimeIndex([p["t"] for p in points]).tz_convert("UTC"), name="equity")
    # the query's columns are StoredRun's keys (tests/store/test_runs.py pins them)
    return cast(StoredRun, {**row, "equity": equity})


def stored_config(run: StoredRun) -> BacktestConfig:
    """The backtest config stored with ``run`` (the defaults for a run stored without a manifest)."""
    given = json_object(run["backtest_config"] or {}, f"backtest {run['id']} manifest backtest_config")
    try:
        return BacktestConfig(**cast("dict[str, Any]", given))   # BacktestConfig checks every value itself
    except TypeError as err:
        raise ValidationError(f"backtest {run['id']} manifest backtest_config does not fit BacktestConfig: "
                              f"{err}") from None


def stored_symbols(run: StoredRun) -> list[str]:
    """The symbols ``run`` traded (its manifest's, else its ``symbol`` column)."""
    given = (run["parameters"] or {}).get("symbols")
    if not given:
        return [run["symbol"]]
    what = f"backtest {run['id']} manifest symbols"
    return [json_str(s, f"{what}[]") for s in json_list(given, what)]


def stored_timeframe(run: StoredRun) -> str:
    """The timeframe ``run`` ran on (its manifest's replay timeframe, else its ``timeframe`` column)."""
    replay = json_object((run["parameters"] or {}).get("replay") or {}, f"backtest {run['id']} manifest replay")
    return json_str(replay.get("timeframe") or run["timeframe"], f"backtest {run['id']} manifest replay.timeframe")


def share_run(db: Database, backtest_id: int, *, owner_id: int, user_id: int) -> None:
    """Let ``user_id`` see stored run ``backtest_id``; only its owner ``owner_id`` may share it (idempotent)."""
    with db.begin() as conn:
        shared = conn.execute(query(Q.BACKTEST_SHARE).text, {"backtest_id": backtest_id, "owner_id": owner_id,
                                                             "user_id": user_id}).scalar()
        if shared is None:
            owner = conn.execute(query(Q.BACKTEST_OWNER).text, {"backtest_id": backtest_id}).scalar()
            if owner is None:
                raise DataNotFoundError(f"no backtest result with id {backtest_id}")
            raise ValidationError(f"backtest {backtest_id} is not yours to share (it belongs to another user)")
