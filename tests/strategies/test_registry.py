"""Strategies by name (workbench.core.strategies.registry): user files, entry points, built-ins, module paths."""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.strategies import EmaCross, make_strategy, resolve_strategy
from workbench.core.strategies.registry import (
    available_strategies,
    is_strategy_reference,
    load_strategy_file,
    strategy_source,
)
from workbench.errors import StrategyError

USER_FILE = '''
from workbench.core.indicators import sma
from workbench.core.strategies import EmaCross, Strategy, crossed_above, crossed_below, strategy


class SmaCross(Strategy):
    strategy_type = "swing_trading"
    defaults = {"fast": 5, "slow": 20}

    def generate(self, df):
        fast, slow = sma(df["close"], int(self.params["fast"])), sma(df["close"], int(self.params["slow"]))
        return crossed_above(fast, slow), crossed_below(fast, slow)


@strategy("dip_buyer", "swing_trading")
def dip_buyer(df, *, drop=0.02):
    change = df["close"].pct_change(5)
    return change < -drop, change > drop
'''

ONE_STRATEGY = '''
from workbench.core.strategies import strategy


@strategy("always", "scalping")
def always(df):
    return df["close"] > 0, df["close"] < 0
'''


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_strategies.py"
    path.write_text(USER_FILE)
    return path


def test_a_user_file_by_path_and_name(user_file: Path) -> None:
    cls = resolve_strategy(f"{user_file}:SmaCross")
    assert cls.__name__ == "SmaCross" and cls.defaults == {"fast": 5, "slow": 20}
    assert resolve_strategy("dip_buyer", strategy_file=user_file) is resolve_strategy(f"{user_file}:dip_buyer")
    s = make_strategy("SmaCross", strategy_file=str(user_file), fast=3)
    assert s.params == {"fast": 3, "slow": 20}
    assert s.class_path == f"{user_file.resolve()}:SmaCross"
    # the class path finds the class again (what a stored run or paper run records)
    assert resolve_strategy(s.class_path) is cls
    source = strategy_source(s.class_path)
    assert source is not None and source.sha256 == hashlib.sha256(user_file.read_bytes()).hexdigest()
    assert strategy_source(type(s)) == source
    # only the file's own strategies: EmaCross, imported by the file, is not one of them
    assert sorted({c.__name__ for c in load_strategy_file(user_file).values()}) == ["SmaCross", "dip_buyer"]
    assert strategy_source(EmaCross) is None and strategy_source(EmaCross().class_path) is None


def test_a_file_of_one_strategy_needs_no_name(tmp_path: Path, user_file: Path) -> None:
    one = tmp_path / "one.py"
    one.write_text(ONE_STRATEGY)
    assert resolve_strategy(str(one)).__name__ == "always"
    with pytest.raises(StrategyError, match=r"defines 2 strategies \(SmaCross, dip_buyer\); name one"):
        resolve_strategy(str(user_file))


def test_file_errors_name_the_file(tmp_path: Path, user_file: Path) -> None:
    with pytest.raises(StrategyError, match="defines no strategy 'Nope'; it defines SmaCross, dip_buyer"):
        resolve_strategy(f"{user_file}:Nope")
    with pytest.raises(StrategyError, match="is not an existing .py file"):
        resolve_strategy(f"{tmp_path / 'missing.py'}:X")
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_here\n")
    with pytest.raises(StrategyError, match=r"broken.py' failed to import: ModuleNotFoundError"):
        resolve_strategy(str(broken))
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    with pytest.raises(StrategyError, match="defines no Strategy class or @strategy function"):
        resolve_strategy(str(empty))
    with pytest.raises(StrategyError, match="strategy 'Nope' is not one of RsiReversion, "):
        resolve_strategy("Nope")


def test_a_changed_file_is_a_new_class(user_file: Path) -> None:
    old = resolve_strategy(f"{user_file}:SmaCross")
    user_file.write_text(USER_FILE.replace('"slow": 20', '"slow": 30'))
    new = resolve_strategy(f"{user_file}:SmaCross")
    assert new is not old and new.defaults["slow"] == 30
    assert strategy_source(f"{user_file.resolve()}:SmaCross") == strategy_source(new)


def test_file_strategies_pickle_by_file_into_another_process(user_file: Path) -> None:
    s = make_strategy(f"{user_file}:dip_buyer", drop=0.05)
    blob = pickle.dumps(s)
    assert pickle.loads(blob).params == {"drop": 0.05}
    code = ("import pickle, sys; s = pickle.loads(sys.stdin.buffer.read()); "
            "print(type(s).__name__, s.params, s.class_path)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-c", code], input=blob, capture_output=True, env=env, timeout=120)
    assert proc.stdout.decode().strip() == f"dip_buyer {{'drop': 0.05}} {user_file.resolve()}:dip_buyer", proc.stderr
    user_file.write_text(USER_FILE + "\n# changed\n")
    with pytest.raises(StrategyError, match="changed since dip_buyer was loaded from it"):
        pickle.loads(blob)


def test_entry_points_of_installed_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wbtest_ep_strats.py").write_text(USER_FILE)
    info = tmp_path / "wbtest_ep-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wbtest-ep\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[workbench.core.strategies]\nsma_cross = wbtest_ep_strats:SmaCross\n"
                                           "not_a_strategy = wbtest_ep_strats:sma\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cls = resolve_strategy("sma_cross")
    assert cls.__name__ == "SmaCross" and cls.__module__ == "wbtest_ep_strats"
    assert cls().class_path == "wbtest_ep_strats:SmaCross"   # importable: a stored run finds it
    assert is_strategy_reference("sma_cross") and is_strategy_reference("EmaCross")
    assert not is_strategy_reference("my stored strategy")
    with pytest.raises(StrategyError, match=r"entry point 'not_a_strategy' \(wbtest_ep_strats:sma\) is not a "
                                            "Strategy class"):
        resolve_strategy("not_a_strategy")
    with pytest.raises(StrategyError, match="is not a Strategy class"):
        available_strategies()
    (info / "entry_points.txt").write_text("[workbench.core.strategies]\nsma_cross = wbtest_ep_strats:SmaCross\n")
    assert list(available_strategies()) == ["RsiReversion", "BollingerReversion", "EmaCross", "MacdTrend",
                                            "GoldenCross", "MomentumRotation", "InverseVolatility", "EqualWeight",
                                            "sma_cross"]


def test_builtins_and_module_paths() -> None:
    assert resolve_strategy("EmaCross") is EmaCross
    assert resolve_strategy("workbench.core.strategies.builtin:EmaCross") is EmaCross
    with pytest.raises(StrategyError, match="cannot import strategy class 'no_such_mod:X'"):
        resolve_strategy("no_such_mod:X")
