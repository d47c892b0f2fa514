"""Optuna search over a strategy's parameters, stored in the workbench's PostgreSQL (the I/O edge).

A study lives in Optuna's RDB storage in the ``optuna`` schema of the same database, so it is resumable
(start it again with the same name: it runs only the trials still missing) and several processes or
machines can work on one study at once. Each trial backtests on ``n_folds`` consecutive windows of the
search range, reporting the running mean of the metric after each fold so that the median pruner stops
hopeless trials early; the last ``holdout`` share of the data is never searched. The best trial is then
backtested on the search range (split ``in_sample``) and on the held-out tail (split ``out_of_sample``),
both stored as backtest runs with manifests under one sweep id derived from the study name.
"""

from __future__ import annotations

import contextlib
import math
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.app.notify import notify
from workbench.app.research import ResearchContext, StoredRun, load_market
from workbench.core.backtest import (
    BacktestConfig,
    MarketData,
    OverfittingReport,
    check_metric,
    overfitting_report,
    prepare_data,
)
from workbench.core.backtest.search import (
    ParamSpec,
    SpaceLike,
    backtest_window,
    evaluate_folds,
    fold_windows,
    parse_space,
    split_holdout,
)
from workbench.core.markets import TimeLike, normalize_timeframe, timeframe_seconds
from workbench.core.strategies.base import Strategy
from workbench.errors import StrategyError, ValidationError
from workbench.store.database import Database
from workbench.store.locks import advisory_lock, lock_key
from workbench.store.runs import backtesting, save_result, save_strategy, strategy_id_of

if TYPE_CHECKING:
    import optuna

__all__ = ["SearchOutcome", "optimize", "study_storage", "study_sweep_id"]

#: a trial of a killed worker is failed and retried once 4 heartbeats after its last one
HEARTBEAT_SECONDS = 15
_NAMESPACE = uuid.UUID("6f1d1c52-8a43-4f7e-9a0b-7d9b3c7e2a11")
_STORAGE_LOCK = lock_key(uuid.uuid5(_NAMESPACE, "optuna storage"))


def study_sweep_id(study_name: str) -> uuid.UUID:
    """The sweep id under which a study's stored runs are grouped (the same on every resume)."""
    return uuid.uuid5(_NAMESPACE, study_name)


def study_storage(db: Database) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage in the ``optuna`` schema of ``db`` (created by migration 0021)."""
    import optuna

    url = "postgresql+psycopg" + db.url[len("postgresql"):]
    # Optuna creates its tables on first use: two workers starting together would race to create them
    with advisory_lock(db, _STORAGE_LOCK), warnings.catch_warnings():   # heartbeats are "experimental"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url, engine_kwargs={"connect_args": {"options": "-c search_path=optuna"}, "pool_pre_ping": True},
            heartbeat_interval=HEARTBEAT_SECONDS, grace_period=4 * HEARTBEAT_SECONDS,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1))


@dataclass(frozen=True, eq=False)
class SearchOutcome:
    """A finished (or resumed) study: its trials, the best parameters and their stored runs."""

    study_name: str
    sweep_id: uuid.UUID
    metric: str
    trials: pd.DataFrame                  # number, state, value, params_*, ...
    best_params: dict[str, Any]
    best_value: float
    in_sample: StoredRun
    out_of_sample: StoredRun | None       # None when holdout = 0
    overfitting: OverfittingReport | None
    study: optuna.Study = field(repr=False)

    def importances(self) -> pd.Series:
        """fANOVA importance of each parameter for the metric over the complete trials (sums to 1), most
        important first; empty when fewer than 2 trials completed or the metric never varied."""
        import optuna

        complete = [t for t in self.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if len(complete) < 2 or len({t.value for t in complete}) < 2:
            return pd.Series(dtype="float64", name="importance")
        try:
            values = optuna.importance.get_param_importances(self.study)
        except RuntimeError:          # "zero total variance in all trees": nothing to apportion
            return pd.Series(dtype="float64", name="importance")
        return pd.Series(values, dtype="float64", name="importance")

    def summary(self) -> pd.Series:
        states = self.trials["state"].value_counts() if len(self.trials) else pd.Series(dtype=int)
        oos = self.out_of_sample.result.metrics[self.metric] if self.out_of_sample is not None else math.nan
        return pd.Series(dtype=object, data={
            "study": self.study_name, "trials": len(self.trials), "complete": int(states.get("COMPLETE", 0)),
            "pruned": int(states.get("PRUNED", 0)), "best_params": self.best_params,
            f"best_{self.metric}": self.best_value,
            f"in_sample_{self.metric}": self.in_sample.result.metrics[self.metric],
            f"out_of_sample_{self.metric}": oos,
        })


def _suggest(trial: optuna.Trial, spec: ParamSpec) -> Any:
    if spec.kind == "categorical":
        return trial.suggest_categorical(spec.name, list(spec.choices))
    if spec.kind == "int":
        return trial.suggest_int(spec.name, int(spec.low), int(spec.high), step=int(spec.step or 1), log=spec.log)
    return trial.suggest_float(spec.name, spec.low, spec.high, step=spec.step, log=spec.log)


def _settings(strategy: Strategy, space: Mapping[str, ParamSpec], symbols: str | Sequence[str], timeframe: str,
              start: TimeLike | None, end: TimeLike | None, metric: str, n_folds: int, holdout: float
              ) -> dict[str, str]:
    sym = symbols if isinstance(symbols, str) else ",".join(symbols)
    return {"strategy": strategy.name, "space": " ".join(s.describe() for s in space.values()), "symbols": sym,
            "timeframe": timeframe, "start": str(start), "end": str(end), "metric": metric,
            "n_folds": str(n_folds), "holdout": str(holdout)}


def _open_study(name: str, storage: optuna.storages.RDBStorage, direction: str, settings: dict[str, str],
                seed: int | None, n_folds: int) -> optuna.Study:
    import optuna

    pruner: optuna.pruners.BasePruner = (optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
                                         if n_folds > 1 else optuna.pruners.NopPruner())
    study = optuna.create_study(study_name=name, storage=storage, direction=direction, load_if_exists=True,
                                sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)
    stored = study.user_attrs.get("settings")
    if stored is None:
        study.set_user_attr("settings", settings)
    elif stored != settings:
        diff = {k: (stored.get(k), v) for k, v in settings.items() if stored.get(k) != v}
        raise ValidationError(f"study {name!r} exists with other settings: "
                              + "; ".join(f"{k} was {a!r}, now {b!r}" for k, (a, b) in diff.items()))
    return study


@contextlib.contextmanager
def _optuna_quiet() -> Iterator[None]:
    """Optuna's log at WARNING (no line per trial) for the duration, then its level as it was."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def optimize(wb: ResearchContext, strategy: Strategy, space: SpaceLike | Sequence[str], symbols: str | Sequence[str],
             timeframe: str, start: TimeLike | None = None, end: TimeLike | None = None, *, n_trials: int = 50,
             metric: str = "sharpe_ratio", study_name: str | None = None, n_folds: int = 3, holdout: float = 0.3,
             config: BacktestConfig | None = None, seed: int | None = None, progress: bool = True) -> SearchOutcome:
    """Search ``space`` with Optuna (TPE) for the parameters that optimise ``metric`` (in its direction).

    ``n_trials`` is the study's total: resuming a study named ``study_name`` runs only the missing trials
    (complete and pruned ones count). Without a name a new study ``<strategy>-<8 hex>`` is made. Combinations
    the strategy rejects (e.g. fast >= slow) and trials whose metric is undefined are pruned.
    """
    import optuna

    higher = check_metric(metric)
    if n_trials < 1:
        raise ValidationError(f"n_trials must be >= 1 (got {n_trials})")
    specs = parse_space(space)
    unknown = sorted(set(specs) - set(strategy.params))
    if unknown:
        raise ValidationError(f"search space: {unknown} not parameter(s) of {strategy.name}; "
                              f"known: {sorted(strategy.params)}")
    tf = normalize_timeframe(timeframe)
    config = config or BacktestConfig()
    md = prepare_data(load_market(wb, symbols, tf, start, end), timeframe=tf)
    split = split_holdout(len(md.index), holdout)
    windows = fold_windows(split, n_folds)
    name = study_name or f"{strategy.name}-{uuid.uuid4().hex[:8]}"
    settings = _settings(strategy, specs, symbols, tf, start, end, metric, n_folds, holdout)
    def objective(trial: optuna.Trial) -> float:
        params = {n: _suggest(trial, s) for n, s in specs.items()}
        try:
            candidate = strategy.with_params(**params)
        except StrategyError as err:
            trial.set_user_attr("invalid", str(err))
            raise optuna.TrialPruned(str(err)) from None
        returns: list[float] = []
        score = math.nan
        for fs in evaluate_folds(md, candidate, config, windows, metric):
            returns.extend(fs.returns.tolist())
            score = fs.running
            if not math.isfinite(score):
                trial.set_user_attr("invalid", f"{metric} undefined on fold {fs.fold}")
                raise optuna.TrialPruned(f"{metric} undefined on fold {fs.fold}")
            trial.report(score, fs.fold)
            if trial.should_prune():
                raise optuna.TrialPruned()
        trial.set_user_attr("daily_returns", returns)
        return score

    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    with _optuna_quiet():
        study = _open_study(name, study_storage(wb.db), "maximize" if higher else "minimize", settings, seed, n_folds)
        remaining = n_trials - len(study.get_trials(deepcopy=False, states=done))
        with backtesting(wb.db, strategy_id_of(wb.db, wb.user_id, strategy)):
            if remaining > 0:
                study.optimize(objective, n_trials=remaining, show_progress_bar=progress,
                               callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=done)])
            return _finish(wb, study, strategy, name, metric, md, split, config)


def _finish(wb: ResearchContext, study: optuna.Study, strategy: Strategy, name: str, metric: str, md: MarketData,
            split: int, config: BacktestConfig) -> SearchOutcome:
    """The outcome of a finished study: its best trial's runs stored, the trials, the overfitting report."""
    import optuna

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        states = pd.Series([t.state.name for t in study.get_trials(deepcopy=False)]).value_counts().to_dict()
        reasons = sorted({str(t.user_attrs["invalid"]) for t in study.get_trials(deepcopy=False)
                          if "invalid" in t.user_attrs})[:3]
        raise ValidationError(f"study {name!r}: no trial completed ({states}; e.g. {reasons}); "
                              "widen the search space or load more data")
    best = study.best_trial
    sweep_id = study_sweep_id(name)
    in_sample, out_of_sample = _store_best(wb, study, strategy.with_params(**best.params), md, split, config,
                                           sweep_id, best.number)
    outcome = SearchOutcome(name, sweep_id, metric, study.trials_dataframe(), dict(best.params),
                            float(best.value if best.value is not None else math.nan), in_sample, out_of_sample,
                            _overfitting(complete), study)
    params = " ".join(f"{k}={v}" for k, v in best.params.items())
    notify(wb, "optimize_finished",
           f"optimization {name} of {strategy.name} finished: {len(complete)} complete trials, best {metric} "
           f"{outcome.best_value:.4g} ({params})",
           study=name, strategy=strategy.name, metric=metric, best_value=outcome.best_value)
    return outcome


def _overfitting(trials: Sequence[optuna.trial.FrozenTrial]) -> OverfittingReport | None:
    columns = {t.number: t.user_attrs.get("daily_returns") for t in trials}
    series = {k: pd.Series(v) for k, v in columns.items() if isinstance(v, list) and len(v) >= 2}
    if not series or len({len(s) for s in series.values()}) != 1:
        return None
    return overfitting_report(pd.DataFrame(series))


def _store_best(wb: ResearchContext, study: optuna.Study, best: Strategy, md: MarketData, split: int,
                config: BacktestConfig, sweep_id: uuid.UUID, number: int) -> tuple[StoredRun, StoredRun | None]:
    """Backtest the best parameters in and out of sample and store both runs, unless this best trial's runs
    are stored already (a resumed study whose best did not change stores nothing again; of several workers
    finishing one study, one stores them, under an advisory lock)."""
    with advisory_lock(wb.db, lock_key(sweep_id)):
        return _store_best_locked(wb, study, best, md, split, config, sweep_id, number)


def _store_best_locked(wb: ResearchContext, study: optuna.Study, best: Strategy, md: MarketData, split: int,
                       config: BacktestConfig, sweep_id: uuid.UUID, number: int
                       ) -> tuple[StoredRun, StoredRun | None]:
    stored: dict[str, Any] = study.user_attrs.get("stored_best") or {}
    fresh = stored.get("trial") != number
    sid: int | None = save_strategy(wb.db, wb.user_id, best) if fresh else stored.get("strategy_id")

    step = pd.Timedelta(seconds=timeframe_seconds(md.timeframe))

    def run(key: str, result_hi: int, trade_start: int | None) -> StoredRun:
        result = backtest_window(md, best, config, 0, result_hi, trade_start=trade_start)
        run_id = uuid.uuid5(sweep_id, f"{number}:{key}")
        window = (md.index[0], md.index[result_hi - 1] + step)     # the candles the run was given
        begin = None if trade_start is None else md.index[trade_start]
        bid = (save_result(wb.db, wb.user_id, sid, result, run_id=run_id, sweep_id=sweep_id, split=key,
                           window=window, trade_start=begin)
               if fresh and sid is not None else stored.get(key))
        return StoredRun(result, bid, sid, run_id)

    in_sample = run("in_sample", split, None)
    out_of_sample = run("out_of_sample", len(md.index), split) if split < len(md.index) else None
    if fresh:
        study.set_user_attr("stored_best", {
            "trial": number, "strategy_id": sid, "in_sample": in_sample.backtest_id,
            "out_of_sample": None if out_of_sample is None else out_of_sample.backtest_id})
    return in_sample, out_of_sample
