"""Optuna search: stored in PostgreSQL, resumable by name, best trial stored in and out of sample."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest

from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.backtest.search import ParamSpec, parse_space
from workbench.core.markets import normalize_timeframe
from workbench.core.strategies import EmaCross
from workbench.errors import ValidationError
from workbench.ingest.sample import generate_sample_candles
from workbench.store.writer import write_table


def test_parse_space_from_the_cli_and_from_python() -> None:
    cli = parse_space(["fast=3:30", "slow=10:100:5", "mult=0.001:0.1:log", "kind=a,b,3"])
    assert cli["fast"] == ParamSpec("fast", "int", 3, 30)
    assert cli["slow"] == ParamSpec("slow", "int", 10, 100, 5)
    assert cli["mult"] == ParamSpec("mult", "float", 0.001, 0.1, log=True)
    assert cli["kind"].choices == ("a", "b", 3)
    py = parse_space({"fast": (3, 30), "x": (0.5, 2.0), "slow": range(10, 101, 5), "kind": ["a", "b"]})
    assert py["fast"].kind == "int" and py["x"].kind == "float" and (py["slow"].low, py["slow"].high) == (10, 100)
    assert py["slow"].describe() == "slow=10:100:5"
    for bad, match in [(["fast"], "not name=low:high"), (["fast=30:3"], "above high"),
                       (["fast=a:3"], "not a number"), (["x=0:1:log"], "log scale"), ([], "empty"),
                       (["fast=1:2", "fast=3:4"], "twice")]:
        with pytest.raises(ValidationError, match=match):
            parse_space(bad)


@pytest.fixture
def loaded(session):  # type: ignore[no-untyped-def]
    write_table(session.db, "candles", generate_sample_candles(days=10))
    return session


@pytest.mark.db
@pytest.mark.redis
def test_optimize_stores_the_study_and_the_best_runs_and_resumes(loaded) -> None:  # type: ignore[no-untyped-def]
    name = f"test-{uuid.uuid4().hex[:8]}"
    space = {"fast": (3, 10), "slow": (15, 40)}
    res = loaded.optimize(EmaCross(), space, "KRW-SYNBTC", "1h", n_trials=6, n_folds=2, holdout=0.3, seed=1,
                          study_name=name, progress=False)
    assert len(res.trials) == 6 and set(res.trials["state"]) <= {"COMPLETE", "PRUNED"}
    assert 3 <= res.best_params["fast"] <= 10 and 15 <= res.best_params["slow"] <= 40
    # the best value by hand: 240 bars, the last round(0.3 * 240) = 72 held out, the first 168 in 2 folds
    frame = loaded.candles("KRW-SYNBTC", "1h")
    assert len(frame) == 240
    best = EmaCross(**res.best_params)
    tf = normalize_timeframe("1h")
    fold_sharpes = [run_backtest(frame.iloc[lo:hi], best, BacktestConfig(), timeframe=tf).metrics.sharpe_ratio
                    for lo, hi in [(0, 84), (84, 168)]]
    assert res.best_value == pytest.approx(np.mean(fold_sharpes), rel=1e-12)
    complete = res.trials[res.trials["state"] == "COMPLETE"]
    assert res.best_value == pytest.approx(complete["value"].max())
    # both runs of the best parameters are stored, with manifests, under the study's sweep id
    runs = loaded.runs(sweep_id=res.sweep_id)
    assert sorted(runs["split"]) == ["in_sample", "out_of_sample"]
    assert all(p["params"] == res.best_params for p in runs["parameters"])
    oos = res.out_of_sample
    assert oos is not None and oos.result.equity.index[0] == frame.index[168]
    in_sample = run_backtest(frame.iloc[:168], best, BacktestConfig(), timeframe=tf)
    assert res.in_sample.result.metrics.total_return == pytest.approx(in_sample.metrics.total_return)
    assert res.overfitting is not None and res.overfitting.n_trials == len(complete)
    imp = res.importances()
    assert set(imp.index) <= {"fast", "slow"} and (imp.empty or imp.sum() == pytest.approx(1.0))
    # resumed with the same total: no new trial, nothing stored twice
    again = loaded.optimize(EmaCross(), space, "KRW-SYNBTC", "1h", n_trials=6, n_folds=2, holdout=0.3,
                            study_name=name, progress=False)
    assert len(again.trials) == 6 and again.best_params == res.best_params
    assert len(loaded.runs(sweep_id=res.sweep_id)) == 2
    assert again.in_sample.backtest_id == res.in_sample.backtest_id
    # a larger total runs only the missing trials
    more = loaded.optimize(EmaCross(), space, "KRW-SYNBTC", "1h", n_trials=8, n_folds=2, holdout=0.3,
                           study_name=name, progress=False)
    assert len(more.trials) == 8
    assert more.trials["number"].tolist()[:6] == res.trials["number"].tolist()
    # the same name with other settings is refused, naming what differs
    with pytest.raises(ValidationError, match="metric was 'sharpe_ratio', now 'total_return'"):
        loaded.optimize(EmaCross(), space, "KRW-SYNBTC", "1h", n_trials=8, n_folds=2, holdout=0.3,
                        study_name=name, metric="total_return", progress=False)


@pytest.mark.db
@pytest.mark.redis
def test_optimize_rejects_unknown_parameters_and_prunes_invalid_ones(loaded) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="not parameter"):
        loaded.optimize(EmaCross(), {"nope": (1, 2)}, "KRW-SYNBTC", "1h", n_trials=2, progress=False)
    # fast >= slow everywhere in this space: every trial is pruned, which is an error naming the study
    with pytest.raises(ValidationError, match="no trial completed"):
        loaded.optimize(EmaCross(), {"fast": (30, 40), "slow": (10, 20)}, "KRW-SYNBTC", "1h", n_trials=3,
                        progress=False, study_name=f"bad-{uuid.uuid4().hex[:6]}")


@pytest.mark.db
@pytest.mark.redis
def test_optimize_killed_midway_resumes_to_the_total(  # type: ignore[no-untyped-def]
        loaded, cli_env: dict[str, str]) -> None:
    import optuna

    from workbench.app.optimize import study_storage, study_sweep_id

    name = f"kill-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **cli_env}
    cmd = [sys.executable, "-c", "from workbench.cli import main; main()", "optimize", "EmaCross",
           "--space", "fast=3:12", "--space", "slow=15:60", "--trials", "30", "--study", name, "--folds", "2",
           "--seed", "3"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    storage = study_storage(loaded.db)
    deadline = time.monotonic() + 240
    finished = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            finished = len(optuna.load_study(study_name=name, storage=storage).get_trials(states=done))
        except KeyError:   # the study does not exist yet
            finished = 0
        if finished >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"the worker ended before it could be killed: {proc.stderr.read()!r}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    study = optuna.load_study(study_name=name, storage=storage)
    before = len(study.get_trials(states=done))
    assert 3 <= before < 30
    assert len(loaded.runs(sweep_id=study_sweep_id(name))) == 0       # killed before storing the best
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    study = optuna.load_study(study_name=name, storage=storage)
    assert len(study.get_trials(states=done)) == 30                    # finished: only the missing ones ran
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers)) and len(numbers) <= 31   # at most the killed trial extra
    assert len(loaded.runs(sweep_id=study_sweep_id(name))) == 2       # the best, in and out of sample, once


@pytest.mark.db
@pytest.mark.redis
def test_two_workers_share_one_study_and_store_each_best_once(  # type: ignore[no-untyped-def]
        loaded, cli_env: dict[str, str]) -> None:
    import optuna

    from workbench.app.optimize import study_storage, study_sweep_id

    name = f"pair-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **cli_env}
    cmd = [sys.executable, "-c", "from workbench.cli import main; main()", "optimize", "EmaCross",
           "--space", "fast=3:8", "--space", "slow=13:30", "--trials", "16", "--study", name, "--folds", "1"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    study = optuna.load_study(study_name=name, storage=study_storage(loaded.db))
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))
    assert 16 <= len(done) <= 17                  # a worker may finish one trial past the total
    runs = loaded.runs(sweep_id=study_sweep_id(name))
    assert runs["run_id"].is_unique and len(runs) in (2, 4)
    assert sorted(runs["split"]) == sorted(["in_sample", "out_of_sample"] * (len(runs) // 2))
    assert study.user_attrs["stored_best"]["trial"] in {t.number for t in done}
