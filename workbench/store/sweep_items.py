"""The finished combinations of resumable sweeps (``sweep_items``), written with their backtest run."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from workbench.core.backtest import METRIC_INFO, BacktestResult, combo_key, daily_returns
from workbench.store.database import Database
from workbench.store.queries import Q, query
from workbench.store.runs import save_result

__all__ = ["SweepItem", "decode_metrics", "encode_metrics", "load_sweep_items", "save_sweep_result"]


def encode_metrics(metrics: dict[str, float]) -> dict[str, float | str]:
    """JSON-safe metrics: NaN and infinities as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``."""
    def enc(v: float) -> float | str:
        if isinstance(v, float) and not math.isfinite(v):
            return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
        return v

    return {k: enc(v) for k, v in metrics.items()}


def decode_metrics(stored: Mapping[str, float | str]) -> dict[str, float]:
    """The metrics back, in :data:`METRIC_INFO` order (JSONB does not keep key order)."""
    order = {k: i for i, k in enumerate(METRIC_INFO)}
    return {k: float(v) if isinstance(v, str) else v
            for k, v in sorted(stored.items(), key=lambda kv: order.get(kv[0], len(order)))}


@dataclass(frozen=True)
class SweepItem:
    combo_key: str
    params: dict[str, Any]
    metrics: dict[str, float]
    daily_returns: pd.Series
    data_fingerprint: str
    backtest_id: int | None


def load_sweep_items(db: Database, sweep_id: uuid.UUID) -> list[SweepItem]:
    """The stored combinations of ``sweep_id`` (empty for a new sweep)."""
    with db.begin() as conn:
        rows = conn.execute(query(Q.SWEEP_ITEMS).text, {"sweep_id": str(sweep_id)}).mappings().all()
    out = []
    for r in rows:
        days = r["daily_returns"]
        series = pd.Series(list(days.values()), index=pd.DatetimeIndex(list(days), tz="UTC"), dtype="float64",
                           name="daily_return")
        out.append(SweepItem(r["combo_key"], dict(r["params"]), decode_metrics(r["metrics"]), series,
                             r["data_fingerprint"], r["backtest_result_id"]))
    return out


def save_sweep_result(db: Database, user_id: int, strategy_id: int | None, result: BacktestResult,
                      sweep_id: uuid.UUID, *, key: str | None = None) -> tuple[bool, int | None]:
    """Store one combination of a sweep (its backtest run, if ``strategy_id`` is given, and its sweep item)
    in one transaction. ``(False, None)`` if another writer stored this combination first (nothing is
    stored twice); else ``(True, backtest id or None)``."""
    key = key or combo_key(result.params)
    days = daily_returns(result.equity, result.config.initial_capital)
    item = {
        "sweep_id": str(sweep_id), "combo_key": key,
        "params": json.dumps(result.params, default=str),
        "metrics": json.dumps(encode_metrics(result.metrics.to_dict()), allow_nan=False),
        "daily_returns": json.dumps(dict(zip(pd.DatetimeIndex(days.index).strftime("%Y-%m-%d"),
                                                 days.astype(float), strict=True)), allow_nan=False),
        "data_fingerprint": result.data_fingerprint,
    }

    def write(conn: sa.Connection, bid: int | None) -> None:
        conn.execute(query(Q.SWEEP_ITEM_INSERT).text, {**item, "backtest_result_id": bid})

    try:
        if strategy_id is None:
            with db.begin() as conn:
                write(conn, None)
            return True, None
        return True, save_result(db, user_id, strategy_id, result, sweep_id=sweep_id, extra=write)
    except IntegrityError as err:
        if "sweep_items_pkey" in str(err.orig):
            return False, None
        raise
