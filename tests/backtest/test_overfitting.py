"""Overfitting diagnostics against the papers' worked numbers and hand-computed CSCV splits."""

import math

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest.overfitting import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    overfitting_report,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_ratio,
)
from workbench.errors import ValidationError


def test_deflated_sharpe_ratio_matches_the_papers_numerical_example():
    # Bailey & López de Prado (2014), section "A numerical example": 100 trials whose annualised Sharpe
    # ratios have variance 1/2, best annualised SR 2.5 over 5 years of daily returns (T = 1250, 250 a year),
    # skewness -3, kurtosis 10. The paper gives SR0 ~= 0.1132 (per day) and DSR ~= 0.9004.
    sr = 2.5 / math.sqrt(250)
    var = 0.5 / 250
    assert expected_max_sharpe(100, var) == pytest.approx(0.1132, abs=5e-4)
    assert deflated_sharpe_ratio(sr, 1250, 100, var, skew=-3.0, kurtosis=10.0) == pytest.approx(0.9004, abs=5e-4)


def test_expected_max_sharpe_is_close_to_the_expected_maximum_of_normals():
    # E[max of 100 iid N(0,1)] = 2.5076 (order-statistics tables); the DSR paper's approximation is within ~1 %.
    assert expected_max_sharpe(100, 1.0) == pytest.approx(2.5076, rel=0.015)
    # E[max of 10 iid N(0,1)] = 1.5388
    assert expected_max_sharpe(10, 1.0) == pytest.approx(1.5388, rel=0.03)
    assert expected_max_sharpe(1, 1.0) == 0.0


def test_probabilistic_sharpe_ratio_by_hand():
    # At the benchmark the PSR is 1/2; normal returns (skew 0, kurtosis 3), SR 0.1 vs 0 over 101 returns:
    # z = 0.1 * sqrt(100) / sqrt(1 + 2/4 * 0.01) = 1 / sqrt(1.005) = 0.997509;
    # Phi(z) ~= Phi(1) - phi(1) * 0.002491 = 0.841345 - 0.241971 * 0.002491 = 0.840742.
    assert probabilistic_sharpe_ratio(0.2, 0.2, 50) == pytest.approx(0.5)
    assert probabilistic_sharpe_ratio(0.1, 0.0, 101) == pytest.approx(0.840742, abs=2e-5)
    with pytest.raises(ValidationError, match="at least 2 returns"):
        probabilistic_sharpe_ratio(0.1, 0.0, 1)


def test_sharpe_ratio_of_flat_and_short_series():
    assert sharpe_ratio(np.zeros(5)) == 0.0
    assert sharpe_ratio(np.full(5, 0.01)) == math.inf
    assert math.isnan(sharpe_ratio(np.array([0.01])))
    assert sharpe_ratio(np.array([0.01, 0.03])) == pytest.approx(0.02 / math.sqrt(0.0002))


def test_pbo_by_hand_with_the_mean_as_measure():
    # 4 blocks of one return each, 3 trials A, B, C. The C(4,2) = 6 in-sample halves, by hand (sums):
    #   IS {0,1}: A9 B12 C10 -> B; OOS {2,3}: A12 B6 C18 -> B ranks 1 of 3: w = 1/4, logit ln(1/3)
    #   IS {0,2}: A4 B16 C15 -> B; OOS {1,3}: A17 B2 C13 -> rank 1: ln(1/3)
    #   IS {0,3}: A10 B10 C11 -> C; OOS {1,2}: A11 B8 C17 -> rank 3: w = 3/4, ln 3
    #   IS {1,2}: A11 B8 C17 -> C; OOS {0,3}: A10 B10 C11 -> rank 3: ln 3
    #   IS {1,3}: A17 B2 C13 -> A; OOS {0,2}: A4 B16 C15 -> rank 1: ln(1/3)
    #   IS {2,3}: A12 B6 C18 -> C; OOS {0,1}: A9 B12 C10 -> rank 2: w = 1/2, logit 0 (counts as overfit)
    # PBO = 4/6.
    m = np.array([[1, 10, 4], [8, 2, 6], [3, 6, 11], [9, 0, 7]], dtype=float)
    res = probability_of_backtest_overfitting(m, n_splits=4, measure="mean")
    assert res.n_combinations == 6
    assert res.winners.tolist() == [1, 1, 2, 2, 0, 2]
    third, three = math.log(1 / 3), math.log(3)
    assert res.logits == pytest.approx([third, third, three, three, third, 0.0])
    assert res.pbo == pytest.approx(4 / 6)


def test_pbo_is_one_when_the_in_sample_winner_always_loses_out_of_sample():
    # Two blocks of two returns: A is good in the first, bad in the second; B the reverse. Each split's
    # in-sample winner ranks 1 of 2 out of sample: w = 1/3, logit ln(1/2).
    m = pd.DataFrame({"A": [0.02, 0.04, -0.01, -0.03], "B": [-0.01, -0.02, 0.03, 0.01]})
    res = probability_of_backtest_overfitting(m, n_splits=2)
    assert res.winners.tolist() == [0, 1]
    assert res.logits == pytest.approx([math.log(0.5)] * 2)
    assert res.pbo == 1.0


def test_pbo_is_zero_for_a_trial_that_dominates_everywhere():
    rng = np.random.default_rng(7)
    base = rng.normal(0.0, 0.01, size=(64, 5))
    base[:, 2] += 0.05                     # same noise, a much higher mean in every block
    res = probability_of_backtest_overfitting(base, n_splits=8)
    assert res.n_combinations == 70        # C(8, 4)
    assert (res.winners == 2).all()
    assert res.pbo == 0.0
    assert res.logits == pytest.approx([math.log(5 / 6 / (1 / 6))] * 70)


def test_pbo_of_pure_noise_is_near_one_half():
    # Skill-less trials: the in-sample winner is a random draw out of sample, so PBO averages 1/2 over
    # realisations (one realisation's PBO varies widely: its splits share the data).
    values = [probability_of_backtest_overfitting(np.random.default_rng(seed).normal(0, 0.01, size=(160, 20)),
                                                  n_splits=8).pbo for seed in range(40)]
    assert 0.38 < float(np.mean(values)) < 0.62


def test_pbo_rejects_bad_input():
    with pytest.raises(ValidationError, match="even"):
        probability_of_backtest_overfitting(np.zeros((40, 3)), n_splits=5)
    with pytest.raises(ValidationError, match="at least 2 trials"):
        probability_of_backtest_overfitting(np.zeros((40, 1)))
    with pytest.raises(ValidationError, match="too few"):
        probability_of_backtest_overfitting(np.zeros((20, 3)), n_splits=16)
    with pytest.raises(ValidationError, match="NaN"):
        probability_of_backtest_overfitting(np.full((40, 3), np.nan), n_splits=4)


def test_overfitting_report_of_a_sweep_like_set_of_trials():
    rng = np.random.default_rng(3)
    days = pd.date_range("2025-01-01", periods=60, freq="D", tz="UTC")
    frame = pd.DataFrame(rng.normal(0, 0.01, size=(60, 12)), index=days)
    frame[5] += 0.004
    report = overfitting_report(frame)
    assert report.n_trials == 12 and report.n_obs == 60 and report.best == 5
    assert report.sharpe == pytest.approx(sharpe_ratio(frame[5].to_numpy()))
    var = float(np.var([sharpe_ratio(frame[c].to_numpy()) for c in frame], ddof=1))
    assert report.expected_max_sharpe == pytest.approx(expected_max_sharpe(12, var))
    assert 0.0 <= report.deflated_sharpe_ratio <= 1.0
    assert report.pbo_splits == 16 and 0.0 <= report.pbo <= 1.0
    assert "deflated Sharpe ratio" in report.describe()


def test_overfitting_report_shortens_the_blocks_or_says_why_not():
    days = pd.date_range("2025-01-01", periods=10, freq="D", tz="UTC")
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(0, 0.01, size=(10, 3)), index=days)
    report = overfitting_report(frame)
    assert report.pbo_splits == 4 and "too few for 16" in report.note
    short = overfitting_report(frame.iloc[:3])
    assert math.isnan(short.pbo) and "too few" in short.note
    single = overfitting_report(frame[[0]])
    assert math.isnan(single.pbo) and single.note == "one trial"
