"""run_report: parameters checked and converted, notebook executed, HTML written atomically and viewable
offline; a failing cell keeps the executed notebook and writes no HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from workbench.app.report import available_notebooks, notebook_parameters, resolve_notebook, run_report
from workbench.errors import ValidationError, WorkbenchError

PARAMETERS = '''
greeting = "hello"  # any text
repeat = 2
scale = 1.5
flag = False
items = [1, 2]
note = None
'''

BODY = '''
from workbench.present import setup_plotly

setup_plotly()
import plotly.graph_objects as go

print(f"SEEN greeting={greeting!r} repeat={repeat!r} scale={scale!r} flag={flag!r} items={items!r} note={note!r}")
go.Figure(go.Scatter(y=[1, 2, repeat]))
'''


def write_notebook(path: Path, *cells: str, markdown: str = "# Tiny report\n\nProse for stakeholders.") -> Path:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"},
                                "language_info": {"name": "python"}})
    params = new_code_cell(PARAMETERS.strip())
    params.metadata["tags"] = ["parameters"]
    nb.cells = [new_markdown_cell(markdown), params, *(new_code_cell(c.strip()) for c in cells)]
    nbformat.write(nb, path)
    return path


def report(notebook: Path, parameters: dict[str, str] | None = None, **kwargs: object) -> Path:
    """``run_report`` of the notebook file ``notebook`` by name, from its folder as the user's notebooks dir."""
    return run_report(notebook.stem, parameters, notebooks_dir=notebook.parent, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_notebook(tmp_path / "tiny.ipynb", BODY)


def test_html_report_with_parameters_and_offline_figures(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    html_path = report(tiny, {"greeting": "bonjour-4242", "repeat": "3", "scale": "2", "flag": "yes",
                                  "items": "[3, 4]", "note": "just text"}, output_dir=out, progress=False)
    assert html_path.parent == out and re.fullmatch(r"tiny-\d{8}T\d{6}\.html", html_path.name)
    executed = html_path.with_suffix(".ipynb")
    assert executed.is_file()
    html = html_path.read_text(encoding="utf-8")
    # values arrive converted to the defaults' types
    assert ("SEEN greeting='bonjour-4242' repeat=3 scale=2.0 flag=True items=[3, 4] note='just text'"
            in html)
    assert "Prose for stakeholders" in html
    # figures are drawn by plotly.js embedded in the page, nothing is fetched from a CDN
    assert "Plotly.newPlot" in html and re.search(r"plotly\.js v\d+\.\d+", html)
    assert '<script src="https://cdn.plot.ly' not in html
    assert not re.search(r"<script[^>]*\bsrc=\"https?://", html)
    # titled with the notebook name and parameters; code hidden by default
    title = re.search(r"<title>(.*?)</title>", html).group(1)  # type: ignore[union-attr]
    assert title.startswith("tiny (") and "bonjour-4242" in title
    assert "setup_plotly()" not in html
    sidecar = html_path.with_suffix(".json")
    # no temp files: the report, the executed notebook, the index's metadata and the index
    assert sorted(p.name for p in out.iterdir()) == sorted([html_path.name, executed.name, sidecar.name,
                                                             "index.html"])
    # the kept notebook has the figure (as plotly JSON) but not a second copy of plotly.js
    kept = executed.read_text(encoding="utf-8")
    assert "application/vnd.plotly.v1+json" in kept and "window.PlotlyConfig" not in kept
    assert not re.search(r"plotly\.js v\d+\.\d+", kept) and len(kept) < 200_000
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    assert meta["notebook"] == "tiny" and meta["html"] == html_path.name and "bonjour-4242" in meta["title"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="{html_path.name}"' in index


def test_show_code_and_defaults(tiny: Path, tmp_path: Path) -> None:
    html = report(tiny, output_dir=tmp_path / "r", hide_code=False, progress=False).read_text("utf-8")
    assert "repeat=2 scale=1.5 flag=False" in html
    assert "setup_plotly" in html and "tiny (default parameters)" in html


def test_unknown_parameter_is_named_with_the_known_ones(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        report(tiny, {"greting": "x"}, output_dir=tmp_path / "r", progress=False)
    message = str(err.value)
    assert "greting" in message and "greeting, repeat, scale, flag, items, note" in message
    assert not (tmp_path / "r").exists()  # rejected before anything ran


@pytest.mark.parametrize("name, value, expected", [
    ("repeat", "three", "int"),
    ("repeat", "2.5", "int"),
    ("scale", "1,5", "float"),
    ("flag", "maybe", "bool"),
    ("items", "{\"a\": 1}", "list"),
    ("items", "[1,", "list"),
])
def test_value_that_does_not_convert(tiny: Path, tmp_path: Path, name: str, value: str, expected: str) -> None:
    with pytest.raises(ValidationError) as err:
        report(tiny, {name: value}, output_dir=tmp_path / "r", progress=False)
    message = str(err.value)
    assert f"'{name}'" in message and repr(value) in message and expected in message


def test_failing_cell_keeps_the_notebook_and_writes_no_html(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "broken.ipynb", "x = 1", "total = 1 + 1\nraise RuntimeError(f'boom {greeting}')",
                        "print('never')")
    out = tmp_path / "reports"
    with pytest.raises(WorkbenchError) as err:
        report(nb, {"greeting": "here"}, output_dir=out, progress=False)
    message = str(err.value)
    assert "'broken'" in message and "total = 1 + 1" in message
    assert "RuntimeError: boom here" in message
    kept = list((out / "failed").glob("broken-*.ipynb"))
    assert len(kept) == 1 and str(kept[0]) in message
    assert not list(out.rglob("*.html"))
    assert not list(out.glob("*.ipynb"))  # moved, not copied
    failed = nbformat.read(kept[0], as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in failed.cells for o in c.get("outputs", []))


def test_notebook_names_resolve_to_the_checkout(tmp_path: Path) -> None:
    names = available_notebooks()
    assert {"data_exploration", "strategy_backtest", "parameter_sweep", "run_comparison"} <= set(names)
    path = resolve_notebook("strategy_backtest")
    assert path.name == "strategy_backtest.ipynb" and path.parent.name == "notebooks"
    assert resolve_notebook("strategy_backtest.ipynb") == path
    assert notebook_parameters("strategy_backtest")["strategy"] == "EmaCross"
    with pytest.raises(ValidationError) as err:
        run_report("no_such_report", output_dir=tmp_path, progress=False)
    assert "no_such_report" in str(err.value) and "strategy_backtest" in str(err.value)
    assert not list(tmp_path.iterdir())   # refused before anything was written


@pytest.mark.parametrize("given", ["../../etc/passwd", "/etc/passwd", "notebooks/strategy_backtest.ipynb",
                                   "..", ".hidden", "a\\b", "strategy_backtest\n", "", "ünïcode"])
def test_a_path_is_refused_without_reading_it(given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real_open = Path.open

    def spy(self: Path, *args: object, **kwargs: object) -> object:
        opened.append(str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", spy)
    with pytest.raises(ValidationError) as err:
        run_report(given, output_dir=tmp_path / "r", progress=False)
    message = str(err.value)
    assert message.startswith(f"notebook {given!r} is not a notebook name") and "\n" not in message
    assert "WORKBENCH_NOTEBOOKS_DIR" in message and "root:" not in message
    assert opened == [] and not (tmp_path / "r").exists()


def test_a_path_object_is_refused_too(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is not a notebook name"):
        run_report(tiny, output_dir=tmp_path / "r", progress=False)  # type: ignore[arg-type]


def test_the_users_notebooks_dir_is_searched(tiny: Path) -> None:
    assert "tiny" not in available_notebooks()
    assert "tiny" in available_notebooks(tiny.parent) and "strategy_backtest" in available_notebooks(tiny.parent)
    assert resolve_notebook("tiny", tiny.parent) == tiny.resolve()
    assert notebook_parameters("tiny", tiny.parent)["repeat"] == 2
    with pytest.raises(ValidationError, match="unknown notebook 'tiny'.*WORKBENCH_NOTEBOOKS_DIR"):
        resolve_notebook("tiny")


def _tmpfs(path: Path, size: str) -> bool:
    """Mount a tmpfs of ``size`` on ``path`` (root only); False when that is not possible here."""
    import os
    import subprocess

    if os.geteuid() != 0:
        return False
    path.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, timeout=30).returncode == 0


def test_disk_full_while_the_notebook_runs_leaves_nothing(tiny: Path, tmp_path: Path) -> None:
    """A 64 KiB tmpfs: papermill's first save fits, the one with plotly.js (several MB) does not."""
    import subprocess

    full = tmp_path / "full"
    if not _tmpfs(full, "64k"):
        pytest.skip("needs root to mount a tmpfs (test_disk_full_writing_the_html covers ENOSPC without it)")
    try:
        with pytest.raises(WorkbenchError) as err:
            report(tiny, output_dir=full, progress=False)
        message = str(err.value)
        assert "\n" not in message
        assert message.startswith("notebook 'tiny' did not finish: No space left on device (errno 28, disk full)")
        assert message.endswith("No executed notebook was kept (none was complete); no HTML was written")
        assert sorted(p.name for p in full.rglob("*")) == []
    finally:
        subprocess.run(["umount", str(full)], check=True, timeout=30)


def test_disk_full_writing_the_html_keeps_the_complete_notebook(tiny: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The notebook ran; the HTML's write fails with ENOSPC (a fake full disk): no HTML, no sidecar, no
    temporary file; the executed notebook, complete and valid, is in failed/ and the error says so."""
    import errno
    import os

    from workbench.app import report as report_run

    real = report_run._write_atomic

    def disk_full(path: Path, text: str) -> None:
        if path.suffix == ".html":
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text[: len(text) // 2], encoding="utf-8")   # half of it got out
            tmp.unlink()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, text)

    monkeypatch.setattr(report_run, "_write_atomic", disk_full)
    out = tmp_path / "reports"
    with pytest.raises(WorkbenchError) as err:
        report(tiny, output_dir=out, progress=False)
    message = str(err.value)
    kept = list((out / "failed").glob("tiny-*.ipynb"))
    assert len(kept) == 1
    html = kept[0].with_suffix(".html").name
    assert message == (f"report 'tiny': the notebook ran, but writing the report failed: No space left on device "
                       f"(errno 28, disk full) writing {out / html}. The executed notebook is kept at {kept[0]}; "
                       "no HTML was written")
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["failed", f"failed/{kept[0].name}"]
    nbformat.validate(nbformat.read(kept[0], as_version=4))
