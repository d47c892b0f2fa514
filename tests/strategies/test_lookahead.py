"""The lookahead and warm-up gate (workbench.core.strategies.lookahead): every built-in passes, deliberately leaky
strategies are caught, warm-ups are the ones worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.core.indicators import ema, sma, track
from workbench.core.strategies import BUILTIN_STRATEGIES, check_strategy, higher_timeframe, strategy
from workbench.errors import ValidationError


def ohlcv(n: int = 1500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 1000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate([[1000.0], close[:-1]])
    idx = pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC", name="ts")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.003,
                         "low": np.minimum(open_, close) * 0.997, "close": close,
                         "volume": rng.uniform(1, 10, n)}, index=idx)


DATA = ohlcv()


# ------------------------------------------------------------------ CI gate: every built-in is clean
@pytest.mark.parametrize("name", list(BUILTIN_STRATEGIES))
def test_every_builtin_passes_the_gate(name: str) -> None:
    report = check_strategy(BUILTIN_STRATEGIES[name](), DATA)
    assert report.passed, report.lookahead_table().to_string()
    assert report.lookahead["leaks"].sum() == 0
    # the decisions and at least one recorded indicator were compared
    assert list(report.lookahead.index[:2]) == ["entry", "exit"] and len(report.lookahead) >= 3
    assert 20 <= len(report.cuts) <= 30
    assert report.warmup["settled"].all(), report.warmup_table().to_string()


def test_golden_cross_indicators_settle_after_their_windows() -> None:
    # an SMA over p bars has its first value at the p-th bar of the data and is exact from there on
    report = check_strategy(BUILTIN_STRATEGIES["GoldenCross"](), DATA)
    assert report.warmup.loc["sma(close, 50)", "settle"] == 49
    assert report.warmup.loc["sma(close, 200)", "settle"] == 199
    assert report.by_warmup.loc["sma(close, 200)", 200] < 1e-12
    assert math.isinf(report.by_warmup.loc["sma(close, 200)", 100])  # NaN where the full run has a value


@strategy("ema_probe", "swing_trading")
def ema_probe(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    ema(df["close"], 10)
    never = pd.Series(False, index=df.index)
    return never, never


def test_an_ema_settles_when_its_start_value_has_decayed() -> None:
    # close 200 for bars 0..49, then 100: the full-history EMA(10) is 100 + 100 (9/11)^(t-49) from bar 49 on;
    # started at bar s (= n // 10 with one start) it is exactly 100. Relative difference
    # d_t = 100 (9/11)^(t-49) / (100 + 100 (9/11)^(t-49)); settled from the first t with d_t <= 1e-6.
    n = 1000
    df = ohlcv(n)
    df[["open", "high", "low", "close"]] = 100.0
    df.iloc[:50, :4] = 200.0
    s = n // 10
    t = s + 9  # the later-started EMA's first value
    while 100 * (9 / 11) ** (t - 49) / (100 + 100 * (9 / 11) ** (t - 49)) > 1e-6:
        t += 1
    report = check_strategy(ema_probe(), df, starts=1)
    assert report.warmup.loc["ema(close, 10)", "settle"] == t - s
    assert report.passed and report.warmup_bars == 0


@strategy("steps", "swing_trading")
def steps(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    count = track("steps", pd.Series(np.arange(len(df), dtype=float), index=df.index))
    return count % 7 == 0, count % 7 == 3   # the later starts (bars 150, 450, 750) are not multiples of 7


def test_a_value_that_depends_on_where_the_data_starts_never_settles() -> None:
    report = check_strategy(steps(), DATA)
    assert report.passed  # no lookahead: it only counts bars so far
    assert not report.warmup.loc["steps", "settled"] and math.isnan(report.warmup.loc["steps", "settle"])
    assert math.isnan(report.warmup_bars)
    assert "never settle" in report.verdict()


# ------------------------------------------------------------------ leaks are caught
@strategy("peek", "day_trading")
def peek(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    nxt = df["close"].shift(-1)
    return nxt > df["close"], nxt < df["close"]


@strategy("centred", "day_trading")
def centred(df: pd.DataFrame, *, window: int = 5) -> tuple[pd.Series, pd.Series]:
    mid = df["close"].rolling(window, center=True).mean()
    return df["close"] < mid, df["close"] > mid


@strategy("daily_high", "day_trading")
def daily_high(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    # the day's high, shown on every bar of the day (needs .shift(1) on the daily bars to be honest)
    high = df["high"].resample("1D").max().reindex(df.index, method="ffill")
    return df["close"] >= high * 0.995, df["close"] < high * 0.97


@strategy("peeking_indicator", "day_trading")
def peeking_indicator(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    fast = ema(df["close"].shift(-1), 5)
    never = pd.Series(False, index=df.index)
    return never, never & (fast > 0)


@pytest.mark.parametrize(("strat", "leaky", "ahead"), [
    (peek(), ["entry", "exit"], 1),            # uses the next bar's close
    (centred(), ["entry", "exit"], 2),         # a centred 5-bar window reaches 2 bars ahead
    (daily_high(), None, None),                # up to 23 bars ahead (the rest of the day)
    (peeking_indicator(), ["ema(close, 5)"], 1),  # caught in the indicator though no decision fires
])
def test_leaky_strategies_are_caught(strat: object, leaky: list[str] | None, ahead: int | None) -> None:
    report = check_strategy(strat, DATA)  # type: ignore[arg-type]
    assert not report.passed
    if leaky is not None:
        assert report.leaky == leaky
        assert (report.lookahead.loc[leaky, "looks_ahead"] == ahead).all()
    else:
        assert 1 <= report.lookahead.loc[report.leaky, "looks_ahead"].max() <= 23
    assert report.verdict().startswith(f"{strat.name}: LOOKAHEAD in ")  # type: ignore[attr-defined]
    row = report.lookahead.loc[report.leaky[0]]
    assert row["first_cut"] >= row["bar"] and row["full"] != row["cut_value"]


@strategy("htf_naive", "swing_trading")
def htf_naive(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    # 4h closes labelled by their bucket's start and forward-filled: the 08:00 bar already "knows" 11:00's close
    close4 = df["close"].resample("4h").last().reindex(df.index, method="ffill")
    return df["close"] > close4 * 1.002, df["close"] < close4 * 0.998


@strategy("htf_aligned", "swing_trading")
def htf_aligned(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    close4 = higher_timeframe(df, "4h")["close"]
    return df["close"] > close4 * 1.002, df["close"] < close4 * 0.998


def test_the_gate_catches_naive_higher_timeframe_alignment_and_passes_the_aligned_one() -> None:
    naive = check_strategy(htf_naive(), DATA)
    assert not naive.passed and set(naive.leaky) <= {"entry", "exit"}
    assert 1 <= naive.lookahead.loc[naive.leaky, "looks_ahead"].max() <= 3
    aligned = check_strategy(htf_aligned(), DATA)
    assert aligned.passed, aligned.lookahead_table().to_string()


# ------------------------------------------------------------------ report and inputs
def test_tables_for_people() -> None:
    report = check_strategy(peek(), DATA, cuts=10)
    table = report.lookahead_table()
    assert list(table.columns) == ["series", "lookahead", "cuts changed", "bars ahead", "first change (KST)",
                                   "full -> cut"]
    assert table["lookahead"].tolist() == ["LEAK", "LEAK"]
    assert table["bars ahead"].tolist() == ["1", "1"]
    assert table.loc[0, "full -> cut"] == "1 -> 0"   # True with the next close, False without it
    # the bar that changed and the cut, in KST (UTC+9) like every time of a report
    bar, cut = (pd.Timestamp(report.lookahead.iloc[0][k]) + pd.Timedelta(hours=9) for k in ("bar", "first_cut"))
    assert table.loc[0, "first change (KST)"] == f"{bar:%Y-%m-%d %H:%M} (cut after {cut:%Y-%m-%d %H:%M})"
    warm = report.warmup_table(max_columns=3)
    # warm-ups shorter than the shortest later-started run (1500 - 750 bars): 10 25 50 100 200 300 500;
    # three of them spread: the first, the middle, the last
    assert list(warm.columns) == ["series", "settles after", "after 10", "after 100", "after 500"]
    html = report._repr_html_()
    assert "LOOKAHEAD in entry, exit" in html and "<table" in html


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValidationError, match="20 bars are too few"):
        check_strategy(peek(), DATA.iloc[:20])
    with pytest.raises(ValidationError, match="cuts and starts must be >= 1"):
        check_strategy(peek(), DATA, cuts=0)


def test_sma_probe_agrees_with_pandas() -> None:
    # the recorded indicator is the workbench's SMA, the same values pandas' rolling mean gives
    from workbench.core.indicators import record_indicators

    with record_indicators() as rec:
        sma(DATA["close"], 7)
    np.testing.assert_allclose(rec.series["sma(close, 7)"].to_numpy(),
                               DATA["close"].rolling(7).mean().to_numpy(), rtol=1e-12)
