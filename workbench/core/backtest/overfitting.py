"""How likely the best of many backtests is overfit (pure numpy; no I/O).

- **Deflated Sharpe ratio** (Bailey & López de Prado, "The Deflated Sharpe Ratio: Correcting for Selection
  Bias, Backtest Overfitting and Non-Normality", J. Portfolio Management 40(5), 2014): the probability
  that the selected strategy's true Sharpe ratio exceeds the Sharpe ratio the best of ``n_trials``
  skill-less trials reaches by luck, given the track record's length, skewness and kurtosis.
- **Probability of backtest overfitting** by combinatorially symmetric cross-validation (Bailey, Borwein,
  López de Prado & Zhu, "The Probability of Backtest Overfitting", J. Computational Finance 20(4), 2017;
  SSRN 2015): split the returns of all trials into ``S`` blocks of time, and for every way of choosing
  half the blocks as in-sample, check where the in-sample winner ranks out of sample; PBO is the share of
  splits in which it ranks at or below the out-of-sample median (logit <= 0).

Sharpe ratios here are *per period* (not annualised), as in the papers; kurtosis is the ordinary
(non-excess) kurtosis, 3 for a normal distribution.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Final, Literal

import numpy as np
import pandas as pd

from workbench.errors import ValidationError

__all__ = ["EULER_GAMMA", "OverfittingReport", "PboResult", "deflated_sharpe_ratio", "expected_max_sharpe",
           "overfitting_report", "probabilistic_sharpe_ratio", "probability_of_backtest_overfitting",
           "sharpe_ratio"]

EULER_GAMMA: Final = 0.5772156649015329
_N = NormalDist()


def sharpe_ratio(returns: np.ndarray) -> float:
    """Per-period Sharpe ratio ``mean / std`` (ddof 1) of ``returns``; 0 for a flat series, NaN if too short."""
    r = np.asarray(returns, dtype="float64")
    if r.size < 2:
        return float("nan")
    sd = float(r.std(ddof=1))
    mean = float(r.mean())
    if sd == 0.0:
        return 0.0 if mean == 0.0 else math.copysign(math.inf, mean)
    return mean / sd


def probabilistic_sharpe_ratio(sharpe: float, benchmark: float, n_obs: int, skew: float = 0.0,
                               kurtosis: float = 3.0) -> float:
    """PSR: probability that the true Sharpe ratio exceeds ``benchmark`` given an observed per-period
    ``sharpe`` over ``n_obs`` returns with the given skewness and (non-excess) kurtosis
    (Bailey & López de Prado 2012, eq. used by the DSR paper)."""
    if n_obs < 2:
        raise ValidationError(f"probabilistic Sharpe ratio needs at least 2 returns (got {n_obs})")
    var = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe
    if not math.isfinite(sharpe) or not var > 0.0:
        return float("nan")
    return _N.cdf((sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(var))


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """E[max SR] of ``n_trials`` independent skill-less trials whose Sharpe ratios have variance
    ``sharpe_variance`` (the DSR paper's SR0; the False Strategy theorem)."""
    if n_trials < 1:
        raise ValidationError(f"n_trials must be >= 1 (got {n_trials})")
    if n_trials == 1:
        return 0.0
    z1 = _N.inv_cdf(1.0 - 1.0 / n_trials)
    z2 = _N.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return math.sqrt(max(sharpe_variance, 0.0)) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


def deflated_sharpe_ratio(sharpe: float, n_obs: int, n_trials: int, sharpe_variance: float, skew: float = 0.0,
                          kurtosis: float = 3.0) -> float:
    """DSR = PSR against the expected maximum Sharpe ratio of ``n_trials`` trials (all per period)."""
    return probabilistic_sharpe_ratio(sharpe, expected_max_sharpe(n_trials, sharpe_variance), n_obs, skew,
                                      kurtosis)


@dataclass(frozen=True)
class PboResult:
    """PBO by CSCV: ``pbo`` and, per split, the in-sample winner's out-of-sample relative rank and logit."""

    pbo: float
    n_splits: int          # S: blocks of time
    n_combinations: int    # C(S, S/2)
    logits: np.ndarray = field(repr=False)
    winners: np.ndarray = field(repr=False)   # column index of each split's in-sample winner


def _block_sharpes(sums: np.ndarray, sq: np.ndarray, counts: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Sharpe ratio of every column over the union of the blocks selected by each row of ``masks``."""
    n = masks @ counts                          # (C,)
    s = masks @ sums                            # (C, N)
    q = masks @ sq
    mean = s / n[:, None]
    var = (q - n[:, None] * mean * mean) / (n[:, None] - 1.0)
    sd = np.sqrt(np.maximum(var, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = mean / sd
    flat = sd <= 1e-15 * np.maximum(np.abs(mean), 1e-300)
    out[flat] = np.where(mean[flat] == 0.0, 0.0, np.copysign(np.inf, mean[flat]))
    ratios: np.ndarray = out
    return ratios


def _average_rank_of(values: np.ndarray, column: np.ndarray) -> np.ndarray:
    """1-based ascending rank (ties averaged) of ``values[i, column[i]]`` within each row ``values[i]``."""
    picked = values[np.arange(len(values)), column][:, None]
    below = (values < picked).sum(axis=1)
    equal = (values == picked).sum(axis=1)
    ranks: np.ndarray = below + (equal + 1) / 2.0
    return ranks


def probability_of_backtest_overfitting(returns: pd.DataFrame | np.ndarray, n_splits: int = 16, *,
                                        measure: Literal["sharpe", "mean"] = "sharpe") -> PboResult:
    """PBO by combinatorially symmetric cross-validation on a ``T x N`` matrix of returns (a column per
    trial, rows in time order), with the per-period Sharpe ratio (or the ``mean`` return) as the
    performance measure.

    The rows are cut into ``n_splits`` (S, even) contiguous blocks (``numpy.array_split``: equal sizes when
    S divides T); for each of the C(S, S/2) choices of S/2 in-sample blocks, the column with the highest
    in-sample Sharpe ratio is ranked among all columns on the other half (ties averaged), its relative
    rank ω = rank / (N + 1) gives the logit λ = ln(ω / (1 − ω)), and PBO is the share of λ <= 0.
    """
    m = np.asarray(returns, dtype="float64")
    if m.ndim != 2:
        raise ValidationError(f"PBO needs a 2-d matrix of returns (got {m.ndim} dimension(s))")
    t, n = m.shape
    if n < 2:
        raise ValidationError(f"PBO needs at least 2 trials (columns); got {n}")
    if n_splits < 2 or n_splits % 2:
        raise ValidationError(f"PBO: n_splits must be an even number >= 2 (got {n_splits})")
    if measure not in ("sharpe", "mean"):
        raise ValidationError(f"PBO: measure must be 'sharpe' or 'mean' (got {measure!r})")
    least = 2 if measure == "sharpe" else 1
    if t < least * n_splits:
        raise ValidationError(f"PBO: {t} returns are too few for {n_splits} blocks of at least {least} "
                              f"return(s) each")
    if not np.isfinite(m).all():
        raise ValidationError("PBO: the returns contain NaN or infinite values")
    blocks = np.array_split(np.arange(t), n_splits)
    sums = np.stack([m[b].sum(axis=0) for b in blocks])          # (S, N)
    sq = np.stack([(m[b] ** 2).sum(axis=0) for b in blocks])
    counts = np.array([len(b) for b in blocks], dtype="float64")
    combos = list(itertools.combinations(range(n_splits), n_splits // 2))
    masks = np.zeros((len(combos), n_splits))
    for i, c in enumerate(combos):
        masks[i, list(c)] = 1.0
    if measure == "sharpe":
        in_sample = _block_sharpes(sums, sq, counts, masks)
        out_sample = _block_sharpes(sums, sq, counts, 1.0 - masks)
    else:
        in_sample = (masks @ sums) / (masks @ counts)[:, None]
        out_sample = ((1.0 - masks) @ sums) / ((1.0 - masks) @ counts)[:, None]
    winners = np.argmax(in_sample, axis=1)                        # first of tied winners
    omega = _average_rank_of(out_sample, winners) / (n + 1.0)
    logits = np.log(omega / (1.0 - omega))
    return PboResult(float(np.mean(logits <= 0.0)), n_splits, len(combos), logits, winners)


def _moments(r: np.ndarray) -> tuple[float, float]:
    """Sample skewness and (non-excess) kurtosis, the moment estimators (bias not corrected)."""
    d = r - r.mean()
    m2 = float(np.mean(d * d))
    if m2 == 0.0:
        return 0.0, 3.0
    return float(np.mean(d ** 3)) / m2 ** 1.5, float(np.mean(d ** 4)) / m2 ** 2


@dataclass(frozen=True)
class OverfittingReport:
    """Diagnostics of a sweep or search: the DSR of its best-Sharpe trial and its PBO by CSCV."""

    n_trials: int
    n_obs: int
    best: int                          # column (trial) with the highest Sharpe ratio
    sharpe: float                      # its per-period Sharpe ratio
    expected_max_sharpe: float         # SR0: what the best of n_trials reaches by luck (per period)
    deflated_sharpe_ratio: float
    pbo: float                         # NaN when the track record is too short for CSCV
    pbo_splits: int
    periods_per_year: int
    note: str = ""

    def to_dict(self) -> dict[str, float | int | str]:
        return {"trials": self.n_trials, "returns": self.n_obs,
                "best_sharpe_annual": self.sharpe * math.sqrt(self.periods_per_year),
                "luck_sharpe_annual": self.expected_max_sharpe * math.sqrt(self.periods_per_year),
                "deflated_sharpe_ratio": self.deflated_sharpe_ratio, "pbo": self.pbo,
                "pbo_splits": self.pbo_splits, "note": self.note}

    def summary(self) -> pd.Series:
        """For people: annualised Sharpe ratios, DSR and PBO as probabilities."""
        return pd.Series(self.to_dict(), name="overfitting", dtype="object")

    def describe(self) -> str:
        """One line, e.g. for the CLI."""
        ann = math.sqrt(self.periods_per_year)
        pbo = (f"PBO {self.pbo:.0%} (CSCV, {self.pbo_splits} blocks)" if math.isfinite(self.pbo)
               else f"PBO n/a ({self.note})")
        dsr = "n/a" if not math.isfinite(self.deflated_sharpe_ratio) else f"{self.deflated_sharpe_ratio:.0%}"
        return (f"overfitting: best Sharpe {self.sharpe * ann:.2f} vs {self.expected_max_sharpe * ann:.2f} "
                f"expected from luck over {self.n_trials} trials; deflated Sharpe ratio {dsr}; {pbo}")


def overfitting_report(returns: pd.DataFrame | Mapping[object, pd.Series], *, n_splits: int = 16,
                       periods_per_year: int = 365) -> OverfittingReport:
    """DSR and PBO of a set of trials given each trial's periodic (e.g. daily) returns, a column each.

    The trials' returns are aligned on their index (a period missing from a trial counts as a 0 return).
    The number of trials is the number of columns (an upper bound of the independent trials: correlated
    parameter combinations make the DSR conservative); the variance of the Sharpe ratios is taken across
    the trials (ddof 1). With fewer than ``2 * n_splits`` returns, CSCV uses the largest even number of
    blocks of at least 2 returns each (at least 2 blocks), else PBO is NaN and ``note`` says why.
    """
    frame = returns if isinstance(returns, pd.DataFrame) else pd.DataFrame(dict(returns))
    frame = frame.sort_index().fillna(0.0)
    m = frame.to_numpy(dtype="float64")
    t, n = m.shape
    if n < 1 or t < 2:
        raise ValidationError(f"overfitting diagnostics need at least 1 trial and 2 returns (got {n} x {t})")
    sharpes = np.array([sharpe_ratio(m[:, j]) for j in range(n)])
    finite = np.isfinite(sharpes)
    best = int(np.argmax(np.where(finite, sharpes, -np.inf)))
    var = float(np.var(sharpes[finite], ddof=1)) if finite.sum() > 1 else 0.0
    skew, kurt = _moments(m[:, best])
    sr0 = expected_max_sharpe(n, var)
    dsr = deflated_sharpe_ratio(float(sharpes[best]), t, n, var, skew, kurt)
    splits = min(n_splits, (t // 2) // 2 * 2)
    note = ""
    if n < 2:
        pbo, splits, note = float("nan"), 0, "one trial"
    elif splits < 2:
        pbo, splits, note = float("nan"), 0, f"{t} returns are too few"
    else:
        pbo = probability_of_backtest_overfitting(m, splits).pbo
        if splits < n_splits:
            note = f"{splits} blocks: {t} returns are too few for {n_splits}"
    return OverfittingReport(n, t, best, float(sharpes[best]), sr0, dsr, pbo, splits, periods_per_year, note)
