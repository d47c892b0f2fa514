"""workbench.core.indicators against the real TA-Lib (``talib``) on synthetic random-walk bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib  # the reference: a dev dependency, required (a missing TA-Lib fails the run, it does not skip)

from workbench.core.indicators import (
    CANDLE_INDICATOR_COLUMNS,
    INDICATOR_COLUMNS,
    atr,
    bollinger,
    candle_columns_of,
    cci,
    compute_indicator_table,
    ema,
    keltner,
    macd,
    obv,
    rsi,
    sma,
    stochastic,
    true_range,
    volume_ma,
    vwap,
)

RTOL = 1e-9
ATOL = 1e-9

SEEDS = (0, 1, 2)
#: Price levels: a typical alt-coin, a BTC-like KRW quote, a sub-1-KRW coin.
BASES = (100.0, 5.0e7, 0.3)
#: Lengths around the lookbacks (RSI 14, STOCH 17, CCI/BB 20, MACD 33, SMA 200).
SHORT_LENGTHS = (0, 1, 2, 5, 13, 14, 15, 17, 18, 19, 20, 21, 26, 33, 34, 35, 199, 200, 201)


# --------------------------------------------------------------------------
# Synthetic data and comparison helpers
# --------------------------------------------------------------------------


def make_ohlcv(seed: int, n: int, *, base: float = 100.0, freq: str = "1h") -> pd.DataFrame:
    """Reproducible random-walk OHLCV bars with a flat, volume-less stretch and zero-volume runs."""
    rng = np.random.default_rng(seed)
    close = base * np.exp(np.cumsum(0.01 * rng.standard_normal(n)))
    open_ = np.r_[close[:1], close[:-1]]
    high = np.maximum(open_, close) * (1.0 + 0.004 * np.abs(rng.standard_normal(n)))
    low = np.minimum(open_, close) * (1.0 - 0.004 * np.abs(rng.standard_normal(n)))
    volume = rng.gamma(2.0, 10.0, n)
    if n > 120:
        # A market that does not trade: high == low == close == open, no volume,
        # longer than every window used here and spanning a whole KST day.
        start, length = n // 5, 60
        price = close[start - 1]
        for arr in (open_, high, low, close):
            arr[start : start + length] = price
        volume[start : start + length] = 0.0
    if n > 400:
        # Bars that move but trade nothing.
        volume[n // 2 : n // 2 + 30] = 0.0
        volume[n // 2 + 45 : n // 2 + 47] = 0.0
    index = pd.date_range("2024-03-01", periods=n, freq=freq, tz="UTC", name="ts")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def hlcv(df: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    return df["high"], df["low"], df["close"], df["volume"]


def arrays(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return tuple(df[c].to_numpy(dtype=np.float64) for c in ("high", "low", "close", "volume"))


def assert_matches(ours: pd.Series | np.ndarray, expected: np.ndarray, what: str = "") -> None:
    """NaN positions identical and values equal within rtol/atol 1e-9 elsewhere."""
    ours = np.asarray(ours, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert ours.shape == expected.shape, what
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected), err_msg=f"NaN positions differ {what}")
    valid = ~np.isnan(expected)
    np.testing.assert_allclose(ours[valid], expected[valid], rtol=RTOL, atol=ATOL, err_msg=what)


def reference_vwap(df: pd.DataFrame, session_tz: str = "Asia/Seoul") -> np.ndarray:
    """Straightforward pandas session VWAP: groupby local calendar date, cumulative sums."""
    typical = (df["high"] + df["low"] + df["close"]) / 3.0
    day = pd.Series(df.index.tz_convert(session_tz).date, index=df.index)
    cum_pv = (typical * df["volume"]).groupby(day).cumsum()
    cum_v = df["volume"].groupby(day).cumsum()
    return (cum_pv / cum_v).where(cum_v != 0).to_numpy()


@pytest.fixture(
    scope="module", params=[(s, b) for s in SEEDS for b in BASES], ids=lambda p: f"seed{p[0]}-{p[1]:g}"
)
def bars(request: pytest.FixtureRequest) -> pd.DataFrame:
    seed, base = request.param
    return make_ohlcv(seed, 1500, base=base)


# --------------------------------------------------------------------------
# Function by function against TA-Lib
# --------------------------------------------------------------------------


def test_sma_ema_volume_ma(bars: pd.DataFrame) -> None:
    h, lo, c, v = hlcv(bars)
    _, _, C, V = arrays(bars)
    for p in (1, 2, 5, 20, 200):
        assert_matches(sma(c, p), talib.SMA(C, timeperiod=p), f"sma {p}")
        assert_matches(ema(c, p), talib.EMA(C, timeperiod=p), f"ema {p}")
        assert_matches(volume_ma(v, p), talib.SMA(V, timeperiod=p), f"volume_ma {p}")


def test_rsi(bars: pd.DataFrame) -> None:
    c = bars["close"]
    for p in (2, 14, 30):
        assert_matches(rsi(c, p), talib.RSI(c.to_numpy(), timeperiod=p), f"rsi {p}")


def test_stochastic(bars: pd.DataFrame) -> None:
    h, lo, c, _ = hlcv(bars)
    H, L, C, _ = arrays(bars)
    for kp, ks, dp in ((14, 3, 3), (5, 1, 1), (1, 2, 4), (9, 5, 2)):
        ours = stochastic(h, lo, c, k_period=kp, k_smooth=ks, d_period=dp)
        k, d = talib.STOCH(
            H, L, C, fastk_period=kp, slowk_period=ks, slowk_matype=0, slowd_period=dp, slowd_matype=0
        )
        assert list(ours.columns) == ["stochastic_k", "stochastic_d"]
        assert_matches(ours["stochastic_k"], k, f"stoch k {kp, ks, dp}")
        assert_matches(ours["stochastic_d"], d, f"stoch d {kp, ks, dp}")


def test_stochastic_flat_window_is_zero_like_talib() -> None:
    """TA-Lib's fast %K is 0 (not NaN, not 50) when highest high == lowest low over the window."""
    df = make_ohlcv(7, 600, base=100.0)
    h, lo, c, _ = hlcv(df)
    H, L, C, _ = arrays(df)
    flat = slice(600 // 5 + 20, 600 // 5 + 55)  # windows lying wholly inside the flat stretch
    fast = stochastic(h, lo, c, k_period=14, k_smooth=1, d_period=1)
    k, d = talib.STOCH(H, L, C, 14, 1, 0, 1, 0)
    assert (fast["stochastic_k"].iloc[flat] == 0.0).all()
    assert (k[flat] == 0.0).all() and (d[flat] == 0.0).all()
    # With smoothing, TA-Lib's running-sum SMA leaves a tiny residue instead of an exact 0.
    slow = stochastic(h, lo, c)
    k, _ = talib.STOCH(H, L, C, 14, 3, 0, 3, 0)
    np.testing.assert_allclose(slow["stochastic_k"].iloc[flat], 0.0, atol=1e-9)
    assert_matches(slow["stochastic_k"], k)


def test_macd(bars: pd.DataFrame) -> None:
    c = bars["close"]
    C = c.to_numpy()
    for fast, slow, signal in ((12, 26, 9), (2, 3, 1), (5, 35, 5), (12, 13, 1)):
        ours = macd(c, fast=fast, slow=slow, signal=signal)
        line, sig, hist = talib.MACD(C, fastperiod=fast, slowperiod=slow, signalperiod=signal)
        assert list(ours.columns) == ["macd_line", "macd_signal", "macd_histogram"]
        assert_matches(ours["macd_line"], line, f"macd line {fast, slow, signal}")
        assert_matches(ours["macd_signal"], sig, f"macd signal {fast, slow, signal}")
        assert_matches(ours["macd_histogram"], hist, f"macd hist {fast, slow, signal}")
        assert np.isnan(ours.iloc[: slow - 1 + signal - 1].to_numpy()).all()


def test_cci(bars: pd.DataFrame) -> None:
    h, lo, c, _ = hlcv(bars)
    H, L, C, _ = arrays(bars)
    for p in (2, 14, 20, 45):
        assert_matches(cci(h, lo, c, p), talib.CCI(H, L, C, timeperiod=p), f"cci {p}")


def test_atr_and_true_range(bars: pd.DataFrame) -> None:
    h, lo, c, _ = hlcv(bars)
    H, L, C, _ = arrays(bars)
    assert_matches(true_range(h, lo, c), talib.TRANGE(H, L, C), "trange")
    for p in (1, 2, 14, 30):
        assert_matches(atr(h, lo, c, p), talib.ATR(H, L, C, timeperiod=p), f"atr {p}")


def test_bollinger(bars: pd.DataFrame) -> None:
    c = bars["close"]
    C = c.to_numpy()
    for p, dev in ((20, 2.0), (2, 1.0), (5, 1.5), (50, 3.0)):
        ours = bollinger(c, period=p, nbdev=dev)
        upper, middle, lower = talib.BBANDS(C, timeperiod=p, nbdevup=dev, nbdevdn=dev, matype=0)
        assert list(ours.columns) == ["bollinger_upper", "bollinger_middle", "bollinger_lower"]
        assert_matches(ours["bollinger_upper"], upper, f"bb upper {p, dev}")
        assert_matches(ours["bollinger_middle"], middle, f"bb middle {p, dev}")
        assert_matches(ours["bollinger_lower"], lower, f"bb lower {p, dev}")


def test_keltner_is_talib_ema_plus_minus_atr(bars: pd.DataFrame) -> None:
    h, lo, c, _ = hlcv(bars)
    H, L, C, _ = arrays(bars)
    for p, ap, m in ((20, 10, 2.0), (5, 14, 1.5), (1, 1, 3.0)):
        ours = keltner(h, lo, c, period=p, atr_period=ap, multiplier=m)
        mid = talib.EMA(C, timeperiod=p)
        width = m * talib.ATR(H, L, C, timeperiod=ap)
        assert list(ours.columns) == ["keltner_upper", "keltner_middle", "keltner_lower"]
        assert_matches(ours["keltner_middle"], mid, f"keltner middle {p, ap, m}")
        assert_matches(ours["keltner_upper"], mid + width, f"keltner upper {p, ap, m}")
        assert_matches(ours["keltner_lower"], mid - width, f"keltner lower {p, ap, m}")


def test_obv(bars: pd.DataFrame) -> None:
    _, _, c, v = hlcv(bars)
    assert_matches(obv(c, v), talib.OBV(c.to_numpy(), v.to_numpy()), "obv")


@pytest.mark.parametrize("n", SHORT_LENGTHS)
def test_short_inputs_have_talib_warmup(n: int) -> None:
    df = make_ohlcv(3, n)
    h, lo, c, v = hlcv(df)
    H, L, C, V = arrays(df)
    assert_matches(sma(c, 20), talib.SMA(C, 20), "sma")
    assert_matches(sma(c, 200), talib.SMA(C, 200), "sma200")
    assert_matches(ema(c, 21), talib.EMA(C, 21), "ema")
    assert_matches(rsi(c), talib.RSI(C, 14), "rsi")
    st = stochastic(h, lo, c)
    k, d = talib.STOCH(H, L, C, 14, 3, 0, 3, 0)
    assert_matches(st["stochastic_k"], k, "stoch k")
    assert_matches(st["stochastic_d"], d, "stoch d")
    m = macd(c)
    for col, exp in zip(m.columns, talib.MACD(C, 12, 26, 9), strict=True):
        assert_matches(m[col], exp, col)
    assert_matches(cci(h, lo, c), talib.CCI(H, L, C, 20), "cci")
    assert_matches(atr(h, lo, c), talib.ATR(H, L, C, 14), "atr")
    assert_matches(true_range(h, lo, c), talib.TRANGE(H, L, C), "trange")
    bb = bollinger(c)
    for col, exp in zip(bb.columns, talib.BBANDS(C, 20, 2.0, 2.0, 0), strict=True):
        assert_matches(bb[col], exp, col)
    assert_matches(volume_ma(v), talib.SMA(V, 20), "volume_ma")
    assert_matches(obv(c, v), talib.OBV(C, V), "obv")
    table = compute_indicator_table(df)
    assert table.shape == (n, len(INDICATOR_COLUMNS))
    assert table.index.equals(df.index)


def test_leading_nans_are_skipped_like_talib() -> None:
    df = make_ohlcv(4, 300)
    df.iloc[:7, df.columns.get_loc("close")] = np.nan
    df.iloc[:3, df.columns.get_loc("high")] = np.nan
    h, lo, c, v = hlcv(df)
    H, L, C, V = arrays(df)
    assert_matches(sma(c, 10), talib.SMA(C, 10), "sma")
    assert_matches(ema(c, 10), talib.EMA(C, 10), "ema")
    assert_matches(rsi(c), talib.RSI(C, 14), "rsi")
    for col, exp in zip(macd(c).columns, talib.MACD(C, 12, 26, 9), strict=True):
        assert_matches(macd(c)[col], exp, col)
    assert_matches(cci(h, lo, c), talib.CCI(H, L, C, 20), "cci")
    assert_matches(atr(h, lo, c), talib.ATR(H, L, C, 14), "atr")
    st = stochastic(h, lo, c)
    k, d = talib.STOCH(H, L, C, 14, 3, 0, 3, 0)
    assert_matches(st["stochastic_k"], k, "stoch k")
    assert_matches(st["stochastic_d"], d, "stoch d")
    assert_matches(obv(c, v), talib.OBV(C, V), "obv")


def test_outputs_keep_index_and_names() -> None:
    df = make_ohlcv(5, 100)
    h, lo, c, v = hlcv(df)
    for out, name in (
        (sma(c, 5), "sma_5"),
        (ema(c, 8), "ema_8"),
        (rsi(c), "rsi_14"),
        (cci(h, lo, c), "cci_20"),
        (atr(h, lo, c), "atr_14"),
        (true_range(h, lo, c), "true_range"),
        (volume_ma(v), "volume_ma_20"),
        (obv(c, v), "obv"),
        (vwap(h, lo, c, v), "vwap"),
    ):
        assert out.index.equals(df.index)
        assert out.name == name
        assert out.dtype == np.float64


# --------------------------------------------------------------------------
# VWAP (not in TA-Lib)
# --------------------------------------------------------------------------


def test_vwap_matches_pandas_groupby_reference(bars: pd.DataFrame) -> None:
    h, lo, c, v = hlcv(bars)
    ours = vwap(h, lo, c, v)
    expected = reference_vwap(bars)
    assert_matches(ours, expected, "vwap")
    assert np.isnan(ours.to_numpy()).any(), "the volume-less day must give NaN"


@pytest.mark.parametrize("tz", ["Asia/Seoul", "UTC", "America/New_York", "Europe/London"])
def test_vwap_other_session_zones_including_dst(tz: str) -> None:
    df = make_ohlcv(6, 24 * 400, freq="1h")  # spans DST changes in New York and London
    h, lo, c, v = hlcv(df)
    assert_matches(vwap(h, lo, c, v, session_tz=tz), reference_vwap(df, tz), tz)


def test_vwap_hand_computed_and_resets_at_kst_midnight() -> None:
    # 13:00 and 14:00 UTC are 22:00 and 23:00 KST on 1 March; 15:00 UTC is 00:00 KST on 2 March.
    index = pd.DatetimeIndex(
        ["2024-03-01 13:00", "2024-03-01 14:00", "2024-03-01 15:00", "2024-03-01 16:00", "2024-03-01 17:00"],
        tz="UTC",
        name="ts",
    )
    high = pd.Series([12.0, 15.0, 30.0, 33.0, 40.0], index=index)
    low = pd.Series([9.0, 9.0, 27.0, 30.0, 31.0], index=index)
    close = pd.Series([9.0, 12.0, 30.0, 30.0, 34.0], index=index)
    volume = pd.Series([1.0, 3.0, 0.0, 2.0, 2.0], index=index)
    # typical prices: 10, 12, 29, 31, 35
    expected = [
        10.0,  # 10*1 / 1
        (10.0 * 1 + 12.0 * 3) / 4,  # 11.5
        np.nan,  # new KST day, no volume yet
        31.0,  # 31*2 / 2
        (31.0 * 2 + 35.0 * 2) / 4,  # 33
    ]
    ours = vwap(high, low, close, volume)
    np.testing.assert_allclose(ours.to_numpy(), expected, rtol=1e-12, atol=0)
    # In UTC all five bars are one session.
    utc = vwap(high, low, close, volume, session_tz="UTC")
    assert utc.iloc[-1] == pytest.approx((10 * 1 + 12 * 3 + 29 * 0 + 31 * 2 + 35 * 2) / 8)


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def expected_table(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every table column computed with talib (keltner from talib EMA/ATR, vwap from pandas)."""
    H, L, C, V = arrays(df)
    out: dict[str, np.ndarray] = {}
    for p in (5, 10, 20, 50, 100, 200):
        out[f"ma_{p}"] = talib.SMA(C, p)
    for p in (8, 13, 21, 50, 200):
        out[f"ema_{p}"] = talib.EMA(C, p)
    out["rsi_14"] = talib.RSI(C, 14)
    out["stochastic_k"], out["stochastic_d"] = talib.STOCH(H, L, C, 14, 3, 0, 3, 0)
    out["macd_line"], out["macd_signal"], out["macd_histogram"] = talib.MACD(C, 12, 26, 9)
    out["cci_20"] = talib.CCI(H, L, C, 20)
    out["atr_14"] = talib.ATR(H, L, C, 14)
    out["bollinger_upper"], out["bollinger_middle"], out["bollinger_lower"] = talib.BBANDS(C, 20, 2, 2, 0)
    mid, width = talib.EMA(C, 20), 2.0 * talib.ATR(H, L, C, 10)
    out["keltner_upper"], out["keltner_middle"], out["keltner_lower"] = mid + width, mid, mid - width
    out["volume_ma_20"] = talib.SMA(V, 20)
    out["obv"] = talib.OBV(C, V)
    out["vwap"] = reference_vwap(df)
    return out


def test_indicator_columns_constant() -> None:
    assert INDICATOR_COLUMNS == (
        "ma_5", "ma_10", "ma_20", "ma_50", "ma_100", "ma_200",
        "ema_8", "ema_13", "ema_21", "ema_50", "ema_200",
        "rsi_14", "stochastic_k", "stochastic_d",
        "macd_line", "macd_signal", "macd_histogram",
        "cci_20", "atr_14",
        "bollinger_upper", "bollinger_middle", "bollinger_lower",
        "keltner_upper", "keltner_middle", "keltner_lower",
        "volume_ma_20", "obv", "vwap",
    )  # fmt: skip
    assert CANDLE_INDICATOR_COLUMNS == (
        "vwap", "rsi", "macd", "bollinger_upper", "bollinger_middle", "bollinger_lower",
    )  # fmt: skip


def test_compute_indicator_table_columns_order_and_values(bars: pd.DataFrame) -> None:
    table = compute_indicator_table(bars)
    assert tuple(table.columns) == INDICATOR_COLUMNS
    assert table.index.equals(bars.index)
    assert (table.dtypes == np.float64).all()
    for name, exp in expected_table(bars).items():
        assert_matches(table[name], exp, name)


def test_candle_columns(bars: pd.DataFrame) -> None:
    candles = candle_columns_of(compute_indicator_table(bars))
    assert tuple(candles.columns) == CANDLE_INDICATOR_COLUMNS
    assert candles.index.equals(bars.index)
    C = bars["close"].to_numpy()
    upper, middle, lower = talib.BBANDS(C, 20, 2, 2, 0)
    assert_matches(candles["vwap"], reference_vwap(bars), "vwap")
    assert_matches(candles["rsi"], talib.RSI(C, 14), "rsi")
    assert_matches(candles["macd"], talib.MACD(C, 12, 26, 9)[0], "macd")
    assert_matches(candles["bollinger_upper"], upper, "upper")
    assert_matches(candles["bollinger_middle"], middle, "middle")
    assert_matches(candles["bollinger_lower"], lower, "lower")


def test_large_frame_matches_talib() -> None:
    """300k bars (speed is measured by benchmarks/, not asserted here)."""
    df = make_ohlcv(11, 300_000, base=5.0e7, freq="1min")
    table = compute_indicator_table(df)
    for name, exp in expected_table(df).items():
        if name == "vwap":
            continue  # the groupby-on-date reference is slow at this size; covered above
        assert_matches(table[name], exp, name)


# --------------------------------------------------------------------------
# No look-ahead
# --------------------------------------------------------------------------


def test_future_invariance() -> None:
    """The value at bar t from df[: t + 1] equals the value at bar t from the whole frame."""
    df = make_ohlcv(8, 700)
    full = compute_indicator_table(df).to_numpy()
    cut_points = sorted(
        {0, 1, 13, 14, 16, 17, 19, 25, 32, 33, 34, 140, 150, 199, 200, 201, 350, 365, 380, 699}
    )
    for t in cut_points:
        part = df.iloc[: t + 1]
        np.testing.assert_array_equal(compute_indicator_table(part).to_numpy()[t], full[t], err_msg=f"t={t}")


def test_changing_future_bars_does_not_change_the_past() -> None:
    df = make_ohlcv(9, 400)
    base = compute_indicator_table(df)
    shocked = df.copy()
    shocked.iloc[300:, :4] *= 1.5
    shocked.iloc[300:, 4] *= 10.0
    after = compute_indicator_table(shocked)
    np.testing.assert_array_equal(after.iloc[:300].to_numpy(), base.iloc[:300].to_numpy())
    assert not np.array_equal(after.iloc[300:].to_numpy(), base.iloc[300:].to_numpy())


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return make_ohlcv(10, 50)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda d: sma(d["close"], 0), "period"),
        (lambda d: ema(d["close"], -3), "period"),
        (lambda d: volume_ma(d["volume"], 0), "period"),
        (lambda d: rsi(d["close"], 1), "period"),
        (lambda d: cci(d["high"], d["low"], d["close"], 1), "period"),
        (lambda d: atr(d["high"], d["low"], d["close"], 0), "period"),
        (lambda d: bollinger(d["close"], period=1), "period"),
        (lambda d: bollinger(d["close"], nbdev=float("nan")), "nbdev"),
        (lambda d: stochastic(d["high"], d["low"], d["close"], k_period=0), "k_period"),
        (lambda d: stochastic(d["high"], d["low"], d["close"], k_smooth=0), "k_smooth"),
        (lambda d: stochastic(d["high"], d["low"], d["close"], d_period=0), "d_period"),
        (lambda d: macd(d["close"], fast=1), "fast"),
        (lambda d: macd(d["close"], slow=1), "slow"),
        (lambda d: macd(d["close"], signal=0), "signal"),
        (lambda d: macd(d["close"], fast=26, slow=12), "fast"),
        (lambda d: keltner(d["high"], d["low"], d["close"], period=0), "period"),
        (lambda d: keltner(d["high"], d["low"], d["close"], atr_period=0), "atr_period"),
        (lambda d: keltner(d["high"], d["low"], d["close"], multiplier=float("inf")), "multiplier"),
        (lambda d: sma(d["close"], 2.5), "period"),
        (lambda d: sma(d["close"], True), "period"),
        (
            lambda d: vwap(d["high"], d["low"], d["close"], d["volume"], session_tz="Mars/Olympus"),
            "session_tz",
        ),
    ],
)
def test_bad_parameters_raise_value_error_naming_the_argument(small, call, argument: str) -> None:
    with pytest.raises(ValueError, match=f"`{argument}`"):
        call(small)


def test_misaligned_inputs_raise_value_error(small: pd.DataFrame) -> None:
    h, lo, c, v = hlcv(small)
    with pytest.raises(ValueError, match="`high`.*length"):
        cci(h.iloc[:-1], lo, c)
    with pytest.raises(ValueError, match="`low`.*same index"):
        atr(h, lo.shift(1, freq="1h"), c)
    with pytest.raises(ValueError, match="`volume`.*length"):
        obv(c, v.iloc[1:])
    with pytest.raises(ValueError, match="`volume`.*same index"):
        vwap(h, lo, c, v.reset_index(drop=True))
    with pytest.raises(TypeError, match="`close`"):
        sma(c.to_numpy(), 5)  # type: ignore[arg-type]


def test_vwap_needs_sorted_aware_datetime_index(small: pd.DataFrame) -> None:
    naive = small.tz_localize(None)
    with pytest.raises(ValueError, match="timezone-aware"):
        vwap(*hlcv(naive))
    shuffled = small.iloc[::-1]
    with pytest.raises(ValueError, match="sorted"):
        vwap(*hlcv(shuffled))
    positional = small.reset_index(drop=True)
    with pytest.raises(ValueError, match="DatetimeIndex"):
        vwap(*hlcv(positional))


@pytest.mark.parametrize("missing", ["open", "high", "low", "close", "volume"])
def test_tables_name_the_missing_column(small: pd.DataFrame, missing: str) -> None:
    df = small.drop(columns=[missing])
    with pytest.raises(ValueError, match=f"'{missing}'"):
        compute_indicator_table(df)

