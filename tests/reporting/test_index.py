"""reports/index.html: one row per report from its metadata (or its file name), links, sorting hooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

from workbench.present.index import build_index, report_entries


def _report(folder: Path, stem: str, meta: dict[str, object] | None) -> None:
    (folder / f"{stem}.html").write_text("<html></html>", encoding="utf-8")
    if meta is not None:
        (folder / f"{stem}.json").write_text(json.dumps(meta), encoding="utf-8")


def test_index_rows_from_metadata_and_file_names(tmp_path: Path) -> None:
    _report(tmp_path, "strategy_backtest-20250301T120000", {
        "notebook": "strategy_backtest", "created": "2025-03-01T12:00:00+00:00", "synthetic": True,
        "title": "EmaCross(fast=8, slow=21) on KRW-BTC · 1h",
        "kpis": {"total_return": -0.020542, "benchmark_return": 0.3, "max_drawdown": 0.1743,
                 "sharpe_ratio": 1.23456, "total_trades": 71}})
    _report(tmp_path, "run_comparison-20250302T000000", None)  # an older report without metadata
    (tmp_path / "failed").mkdir()
    entries = report_entries(tmp_path)
    assert [e["notebook"] for e in entries] == ["run_comparison", "strategy_backtest"]  # newest first
    assert entries[0]["created"] == "2025-03-02T00:00:00+00:00"
    page = build_index(tmp_path).read_text(encoding="utf-8")
    rows = re.findall(r"<tr>(<td.*?)</tr>", page, flags=re.S)
    assert len(rows) == 2
    first, second = rows
    # the day and the time on two lines
    assert 'href="run_comparison-20250302T000000.html"' in first and "2025-03-02<br>09:00 KST" in first
    for text in ("-2.05%", "+30.00%", "-17.43%", "1.23", ">71<", "SYNTHETIC DATA", "2025-03-01<br>21:00 KST",
                 'href="strategy_backtest-20250301T120000.html"', "EmaCross(fast=8, slow=21) on KRW-BTC"):
        assert text in second, text
    assert 'data-sort="-0.020542"' in second  # sorts on the number, shows the formatted text
    assert "<script src" not in page and "http://" not in page and "https://" not in page


def test_index_escapes_titles(tmp_path: Path) -> None:
    _report(tmp_path, "x-20250101T000000", {"title": "<script>alert(1)</script>", "notebook": "x"})
    page = build_index(tmp_path).read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_two_rebuilds_at_once_both_reports_listed(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Report A lists the folder, report B is written and rebuilds while A has not written yet: A must
    not overwrite the index with its older listing (rebuilds take turns)."""
    import threading

    from workbench.present import index as index_module

    real = index_module.report_entries
    listed, go = threading.Event(), threading.Event()

    def slow_first_listing(folder: Path) -> list[dict[str, object]]:
        entries = real(folder)
        if not listed.is_set():
            listed.set()
            go.wait(30)   # A holds its listing until B has finished or is seen waiting
        return entries

    monkeypatch.setattr(index_module, "report_entries", slow_first_listing)
    _report(tmp_path, "a-20250101T000000", {"title": "report A", "notebook": "a"})
    a = threading.Thread(target=build_index, args=(tmp_path,))
    a.start()
    assert listed.wait(30)
    _report(tmp_path, "b-20250101T000001", {"title": "report B", "notebook": "b"})
    b = threading.Thread(target=build_index, args=(tmp_path,))
    b.start()
    b.join(1.0)   # without turns, B writes both rows now and A then overwrites them with its one row
    go.set()
    a.join(30)
    b.join(30)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "report A" in page and "report B" in page
