"""Reports: run a parameterized notebook with papermill and export it as self-contained HTML.

>>> from workbench.app.report import run_report
>>> run_report("strategy_backtest", {"strategy": "RsiReversion", "timeframe": "4h"})  # doctest: +SKIP
PosixPath('reports/strategy_backtest-20250301T120000.html')

The CLI passes every value as a string (``workbench report strategy_backtest -p timeframe 4h``);
strings are converted to the type of the parameter's default in the notebook's ``parameters`` cell.
"""

from __future__ import annotations

import ast
import errno
import functools
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from workbench.errors import ValidationError, WorkbenchError

__all__ = ["available_notebooks", "notebook_parameters", "resolve_notebook", "run_report"]

_SUFFIX: Final = ".ipynb"
_TRUE: Final = frozenset({"true", "1", "yes", "y", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "n", "off"})
_UNSET: Final = object()
#: a notebook name: letters, digits, ``_ . -``, not starting with a dot (so never ``..``), no separators
_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def _notebook_dirs(notebooks_dir: Path | None = None) -> list[Path]:
    """Where report notebooks are looked up: the user's ``notebooks_dir`` (``WORKBENCH_NOTEBOOKS_DIR``)
    if given, then the checkout's ``notebooks/``, then the copy packaged into the wheel."""
    package = Path(__file__).resolve().parents[1]
    shipped = [package.parent / "notebooks", package / "_notebooks"]
    return [Path(notebooks_dir).expanduser(), *shipped] if notebooks_dir is not None else shipped


def available_notebooks(notebooks_dir: Path | None = None) -> list[str]:
    """Names of the report notebooks (``strategy_backtest`` ...; with those of ``notebooks_dir``), sorted."""
    names: set[str] = set()
    for folder in _notebook_dirs(notebooks_dir):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob(f"*{_SUFFIX}") if _NAME.fullmatch(p.stem))
    return sorted(names)


def resolve_notebook(notebook: str, notebooks_dir: Path | None = None) -> Path:
    """Path of the report notebook called ``notebook`` (``strategy_backtest``; ``.ipynb`` may be added).

    Notebooks are named, never given as paths: only those the workbench ships (``notebooks/``) and
    those in ``notebooks_dir`` (``WORKBENCH_NOTEBOOKS_DIR``), which is searched first, can be run.
    A name is checked before any file is opened.

    Raises
    ------
    ValidationError
        ``notebook`` is a path or not a plain name, or not one of :func:`available_notebooks` (listed).
    """
    text = notebook if isinstance(notebook, str) else str(notebook)
    name = text.removesuffix(_SUFFIX)
    if not isinstance(notebook, str) or not _NAME.fullmatch(name):
        raise ValidationError(
            f"notebook {text[:100]!r} is not a notebook name: give the name of a report notebook "
            f"({', '.join(available_notebooks(notebooks_dir)) or 'none'}); to run your own, put it in a "
            "directory and set WORKBENCH_NOTEBOOKS_DIR to it")
    for folder in _notebook_dirs(notebooks_dir):
        candidate = folder / f"{name}{_SUFFIX}"
        if candidate.is_file():
            return candidate.resolve()
    raise ValidationError(f"unknown notebook {name!r}; available: "
                          f"{', '.join(available_notebooks(notebooks_dir)) or 'none'}"
                          + ("" if notebooks_dir is not None else
                             " (your own notebooks: set WORKBENCH_NOTEBOOKS_DIR to their directory)"))


def _literal(source: str) -> Any:
    """The value of a default's source text, or ``_UNSET`` when it is not a plain literal."""
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _UNSET


def notebook_parameters(notebook: str, notebooks_dir: Path | None = None) -> dict[str, object]:
    """Parameters of ``notebook``'s ``parameters``-tagged cell: name -> default value.

    A default that is not a plain literal (e.g. ``2 * 7``) is given as its source text.
    """
    return {name: (value if value is not _UNSET else source)
            for name, (value, source) in _defaults(resolve_notebook(notebook, notebooks_dir)).items()}


def _defaults(path: Path) -> dict[str, tuple[Any, str]]:
    import papermill

    specs = papermill.inspect_notebook(str(path))
    return {name: (_literal(str(spec["default"])), str(spec["default"])) for name, spec in specs.items()}


def _convert(name: str, value: Any, default: Any) -> Any:
    """``value`` as the type of ``default`` when ``value`` is a string (as the CLI gives it)."""
    if not isinstance(value, str) or default is _UNSET or default is None or isinstance(default, str):
        return value
    text = value.strip()
    expected = type(default).__name__
    try:
        if isinstance(default, bool):
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            expected = "bool (true/false, yes/no, 1/0)"
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, list | tuple | dict):
            expected = f"{type(default).__name__} as JSON"
            parsed = json.loads(text)
            if not isinstance(parsed, dict if isinstance(default, dict) else list):
                raise ValueError(text)
            return parsed
    except ValueError:
        raise ValidationError(f"parameter {name!r}: cannot convert {value!r} to {expected} "
                              f"(the type of its default {default!r})") from None
    return value


def _coerce(path: Path, parameters: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(converted given parameters, effective parameters = defaults updated by them)."""
    defaults = _defaults(path)
    unknown = sorted(set(parameters) - set(defaults))
    if unknown:
        known = ", ".join(defaults) if defaults else "none: the notebook has no cell tagged 'parameters'"
        raise ValidationError(f"notebook {path.stem!r}: unknown parameter(s) {', '.join(unknown)}; "
                              f"known parameters: {known}")
    given = {k: _convert(k, v, defaults[k][0]) for k, v in parameters.items()}
    effective = {k: (v if v is not _UNSET else src) for k, (v, src) in defaults.items()}
    effective.update(given)
    return given, effective


@functools.cache
def _kernel_manager_class(env: tuple[tuple[str, str], ...] = ()) -> type:
    """A kernel manager that starts ipykernel on this process's interpreter (whatever kernelspecs
    are installed elsewhere), so reports run with the workbench they were started from; ``env`` goes
    (``(name, value)`` pairs) goes into the kernel spec's environment (added to this process's by
    jupyter_client, which expands ``$NAME`` in it: a ``$`` is written ``$$``)."""
    extra = {k: v.replace("$", "$$") for k, v in env}
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class CurrentInterpreterKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:
            if self._kernel_spec is None:
                spec = get_kernel_dict()
                # the kernel's own log at ERROR: its warning about TCP without CurveZMQ (on 127.0.0.1,
                # messages signed with the connection file's key) would otherwise print in every run
                spec["argv"] = [*spec["argv"], "--IPKernelApp.log_level=ERROR"]
                spec["env"] = {**spec.get("env", {}), **extra}
                self._kernel_spec = KernelSpec(resource_dir=RESOURCES, **spec)
            return self._kernel_spec

    return CurrentInterpreterKernelManager


def _new_path(output_dir: Path, name: str) -> Path:
    """A new report path, reserved by exclusive create: two reports started in the same second (in
    any processes) never get the same name."""
    import os

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = output_dir / f"{name}-{stamp}{_SUFFIX}"
    n = 2
    while True:
        if not path.with_suffix(".html").exists():
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
                return path
            except FileExistsError:
                pass
        path = output_dir / f"{name}-{stamp}-{n}{_SUFFIX}"
        n += 1


def _partial(executed: Path) -> Path:
    """Where papermill writes the notebook while it runs (renamed to ``executed`` when complete)."""
    return executed.with_name(f".{executed.stem}.partial{_SUFFIX}")


def _valid_notebook(path: Path) -> bool:
    import nbformat

    try:
        nbformat.validate(nbformat.read(path, as_version=4))
    except Exception:  # truncated (disk full), not JSON, not a notebook
        return False
    return True


def _keep_failed(written: Path, output_dir: Path, name: str) -> Path | None:
    """Move the notebook ``written`` by a failed report to ``output_dir/failed/name`` if it is a complete,
    valid notebook; delete it otherwise. Returns where it was kept (None: not kept)."""
    try:
        if not written.exists():
            return None
        if _valid_notebook(written):
            failed_dir = output_dir / "failed"
            failed_dir.mkdir(parents=True, exist_ok=True)
            return written.replace(failed_dir / name)   # a rename: needs no space
    except OSError:
        pass
    written.unlink(missing_ok=True)
    return None


def _describe(err: BaseException) -> str:
    """``OSError`` as ``No space left on device (errno 28)`` (its file named by the caller), else
    ``Type: message``, on one line."""
    if isinstance(err, OSError) and err.errno is not None:
        full = ", disk full" if err.errno == errno.ENOSPC else ""
        text = f"{err.strerror or type(err).__name__} (errno {err.errno}{full})"
        return f"{text} writing {err.filename}" if err.filename else text
    return " ".join(f"{type(err).__name__}: {err}".split())


def _first_line(source: str) -> str:
    lines = [ln.strip() for ln in source.splitlines() if ln.strip()]
    if not lines:
        return "<empty cell>"
    return lines[0] if len(lines[0]) <= 100 else lines[0][:97] + "..."


def _title(name: str, given: Mapping[str, Any]) -> str:
    if not given:
        return f"{name} (default parameters)"
    return f"{name} (" + ", ".join(f"{k}={v!r}" for k, v in given.items()) + ")"


def _header(name: str, effective: Mapping[str, Any], given: Mapping[str, Any], started: datetime) -> str:
    """The report's name, when it ran (KST, like every time of a report) and its parameters, as Markdown."""
    from workbench.present.formatting import format_time_kst

    def cell(v: Any) -> str:
        text = (v if v else "(empty)") if isinstance(v, str) else repr(v)
        return "`" + text.replace("|", "\\|").replace("`", "'") + "`"

    rows = "\n".join(f"| {k} | {cell(v)} | {'this run' if k in given else 'default'} |"
                      for k, v in effective.items())
    table = f"| parameter | value | from |\n|---|---|---|\n{rows}\n" if effective else ""
    return f"**Report `{name}`**, run {format_time_kst(started, seconds=True)}\n\n{table}"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("x", encoding="utf-8") as f:
            f.write(text)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


#: nbconvert's ``lab`` page without the require.js and MathJax it loads from a CDN (reports use
#: neither; plotly.js is embedded by the notebook renderer), so a report opens complete offline
_TEMPLATE: Final = """{%- extends 'index.html.j2' -%}
{% block html_head_js_requirejs %}{% endblock %}
{% block html_head_js_mathjax %}{% endblock %}
{% block extra_css %}{{ super() }}
<style>
/* tables take the page's width: text wraps between words (numbers have no spaces); one still too wide
   scrolls sideways instead of being clipped */
.jp-OutputArea-output.jp-RenderedHTMLCommon { overflow-x: auto; }
.jp-RenderedHTMLCommon table { max-width: none; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { white-space: normal; }
</style>
{% endblock extra_css %}
"""
#: the marker of the output cell that holds plotly.js (see ``setup_plotly``)
_PLOTLYJS_MARK: Final = "window.PlotlyConfig"


def _export_html(executed: Path, title: str, header: str, *, hide_code: bool, at_end: bool = False) -> str:
    """The executed notebook as one HTML page titled ``title``, with ``header`` (run time, parameters)
    after the notebook's title cell, or at the end (``at_end``: the notebook has its own header)."""
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0  # after the title cell
    if at_end:
        at, header = len(nb.cells), "## Report parameters\n\n" + header
    nb.cells.insert(at, nbformat.v4.new_markdown_cell(header))
    exporter = HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"workbench_report.html.j2": _TEMPLATE})],
        template_file="workbench_report.html.j2", exclude_input=hide_code,
        exclude_input_prompt=hide_code, exclude_output_prompt=hide_code,
    )
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return str(html)


def _absolute_strategy_file(given: dict[str, Any]) -> dict[str, Any]:
    """A user's strategy file given relative to this process's directory, made absolute: the kernel runs in
    the notebook's folder (``strategy_file``, or the file part of ``strategy`` = ``path.py:Name``)."""
    out = dict(given)
    file = out.get("strategy_file")
    if isinstance(file, str) and file.strip():
        out["strategy_file"] = str(Path(file).expanduser().resolve())
    ref = out.get("strategy")
    if isinstance(ref, str):
        path, sep, name = ref.rpartition(":")
        if ref.endswith(".py"):
            out["strategy"] = str(Path(ref).expanduser().resolve())
        elif sep and path.endswith(".py"):
            out["strategy"] = f"{Path(path).expanduser().resolve()}:{name}"
    return out


def run_report(
    notebook: str,
    parameters: Mapping[str, object] | None = None,
    *,
    output_dir: Path = Path("reports"),
    timeout: int = 1800,
    hide_code: bool = True,
    progress: bool = True,
    notebooks_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Execute ``notebook`` with ``parameters`` and write it as HTML; return the HTML's path.

    Parameters
    ----------
    notebook : str
        A report notebook's name (see :func:`available_notebooks`), never a path.
    parameters : mapping, optional
        Overrides of the notebook's ``parameters`` cell. Strings are converted to the type of the
        default there (int, float, bool as true/false/yes/no/1/0, list/dict as JSON).
    output_dir : Path
        Receives ``<name>-<UTC yyyymmddTHHMMSS>.ipynb`` (the executed notebook) and ``.html`` next to it.
    timeout : int
        Seconds one cell may run.
    hide_code : bool
        Leave code out of the HTML (prose, tables and figures only).
    progress : bool
        Show papermill's progress bar.
    notebooks_dir : Path, optional
        A directory of the user's own report notebooks (``WORKBENCH_NOTEBOOKS_DIR``), searched first.
    env : mapping, optional
        Environment variables for the notebook's kernel on top of this process's (e.g. the
        ``WORKBENCH_DATABASE_URL`` of servers this process resolved); this process's environment is
        not changed.

    Raises
    ------
    ValidationError
        Not a notebook name, unknown notebook, unknown parameter, or a value that does not convert to
        its parameter's type.
    WorkbenchError
        A cell failed (the message names the cell and the error), the kernel died, or a file could not
        be written (e.g. the disk is full). Nothing half-written stays: no HTML, and the executed
        notebook is kept in ``output_dir/failed/`` only when it is complete and valid (the message says
        where, or that none was kept).

    Every file is written to a temporary name and renamed when complete. The kernel runs on this
    interpreter, in the notebook's folder, with this process's environment (``WORKBENCH_*`` settings
    included) plus ``env``.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = resolve_notebook(notebook, notebooks_dir)
    name = source.stem
    given, effective = _coerce(source, parameters or {})
    given = _absolute_strategy_file(given)
    effective.update(given)
    output_dir = Path(output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        executed = _new_path(output_dir, name)
    except OSError as err:
        raise WorkbenchError(f"report {name!r}: cannot write into {output_dir}: {_describe(err)}") from err
    partial = _partial(executed)
    html_path, sidecar = executed.with_suffix(".html"), executed.with_suffix(".json")
    started = datetime.now(UTC)
    try:
        papermill.execute_notebook(
            str(source), str(partial), parameters=given, kernel_name="python3",
            kernel_manager_class=_kernel_manager_class(tuple(sorted((env or {}).items()))), progress_bar=progress,
            cwd=str(source.parent),
            execution_timeout=timeout, log_output=False,
        )
    except PapermillExecutionError as err:
        executed.unlink(missing_ok=True)
        kept = _keep_failed(partial, output_dir, executed.name)
        raise WorkbenchError(
            f"notebook {name!r} failed in cell [{err.exec_count}] `{_first_line(err.source)}`: "
            f"{err.ename}: {' '.join(str(err.evalue).split())}. {_kept_text(kept)}; no HTML was written"
        ) from err
    except Exception as err:  # kernel died, cell timed out, kernel did not start, disk full ...
        executed.unlink(missing_ok=True)
        kept = _keep_failed(partial, output_dir, executed.name)
        raise WorkbenchError(f"notebook {name!r} did not finish: {_describe(err)}. {_kept_text(kept)}; "
                             "no HTML was written") from err
    except BaseException:  # interrupted (Ctrl-C, SIGTERM via the CLI): no half-written notebook stays
        partial.unlink(missing_ok=True)
        executed.unlink(missing_ok=True)
        raise
    try:
        partial.replace(executed)
        info = _report_info(executed)
        html = _export_html(executed, str(info.get("title") or _title(name, given)),
                            _header(name, effective, given, started), hide_code=hide_code, at_end=bool(info))
        _write_atomic(html_path, html)
        _strip_plotlyjs(executed)
        _write_atomic(sidecar, json.dumps({
            "notebook": name, "html": html_path.name, "created": started.isoformat(),
            "title": info.get("title") or _title(name, given), "parameters": {k: str(v) for k, v in given.items()},
            **{k: v for k, v in info.items() if k != "title"},
        }, indent=1, default=str))
    except Exception as err:  # e.g. the disk filled up while the report was written
        for path in (html_path, sidecar):
            path.unlink(missing_ok=True)
        kept = _keep_failed(executed if executed.stat().st_size else partial, output_dir, executed.name)
        executed.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
        raise WorkbenchError(f"report {name!r}: the notebook ran, but writing the report failed: "
                             f"{_describe(err)}. {_kept_text(kept)}; no HTML was written") from err
    except BaseException:
        for path in (html_path, sidecar, executed, partial):
            path.unlink(missing_ok=True)
        raise
    from workbench.present.index import build_index

    try:
        build_index(output_dir)
    except OSError as err:
        raise WorkbenchError(f"report written to {html_path}, but {output_dir / 'index.html'} could not be "
                             f"rebuilt: {_describe(err)}") from err
    return html_path


def _kept_text(kept: Path | None) -> str:
    return (f"The executed notebook is kept at {kept}" if kept is not None
            else "No executed notebook was kept (none was complete)")


def _report_info(executed: Path) -> dict[str, Any]:
    """What the notebook handed to the index (``REPORT_MIMETYPE`` output of ``report_header``), if any."""
    import nbformat

    from workbench.present.story import REPORT_MIMETYPE

    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if REPORT_MIMETYPE in data:
                return dict(data[REPORT_MIMETYPE])
    return {}


def _strip_plotlyjs(executed: Path) -> None:
    """Drop the plotly.js bundle from the kept ``.ipynb`` (the HTML report embeds it; the notebook
    keeps each figure's data as ``application/vnd.plotly.v1+json``, which Jupyter renders itself)."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    changed = False
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/html", "")
            if isinstance(text, str) and _PLOTLYJS_MARK in text and len(text) > 100_000:
                output["data"]["text/html"] = ("<!-- plotly.js left out of the kept notebook; the HTML report "
                                               "embeds it -->")
                changed = True
    if changed:
        _write_atomic(executed, nbformat.writes(nb))
