"""``reports/index.html``: one sortable row per report (notebook, title, date, headline KPIs, link), the
entry point for stakeholders. Self-contained: inline CSS and a few lines of inline JavaScript, nothing
loaded from anywhere.

:func:`workbench.present.run_report` rebuilds it after every report from the ``<report>.json`` files it
writes next to each ``<report>.html``; reports without one (older ones) get a row with what their file
name says.
"""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TypeAlias

from workbench.present.formatting import MISSING, format_count, format_metric, format_pct, format_ratio, format_time_kst

__all__ = ["INDEX_NAME", "ReportEntry", "build_index", "index_page", "report_entries"]

INDEX_NAME: Final = "index.html"
_STAMP: Final = re.compile(r"^(?P<name>.+?)-(?P<stamp>\d{8}T\d{6})(?:-\d+)?$")
_COLUMNS: Final = (("total_return", "return", format_pct), ("benchmark_return", "buy & hold", format_pct),
                   ("max_drawdown", "max drawdown", lambda v: format_metric("max_drawdown", v)),
                   ("sharpe_ratio", "Sharpe", format_ratio), ("total_trades", "trades", format_count))


#: One report of the index: its ``.json`` metadata (JSON values) plus ``html`` (the file name), ``created``,
#: ``notebook`` and ``title`` (text).
ReportEntry: TypeAlias = dict[str, object]


def report_entries(reports_dir: Path) -> list[ReportEntry]:
    """One dict per ``*.html`` report in ``reports_dir`` (newest first): its ``.json`` metadata (when that
    is a JSON object), or what the file name ``<notebook>-<UTC yyyymmddTHHMMSS>.html`` says."""
    entries = []
    for page in Path(reports_dir).glob("*.html"):
        if page.name == INDEX_NAME or page.name.startswith("."):
            continue
        meta: dict[str, object] = {}
        sidecar = page.with_suffix(".json")
        if sidecar.is_file():
            try:
                loaded: object = json.loads(sidecar.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = {}
            meta = loaded if isinstance(loaded, dict) else {}
        m = _STAMP.match(page.stem)
        created = meta.get("created")
        if not created:
            when = (datetime.strptime(m.group("stamp"), "%Y%m%dT%H%M%S").replace(tzinfo=UTC) if m
                    else datetime.fromtimestamp(page.stat().st_mtime, UTC))
            created = when.isoformat()
        entries.append({**meta, "html": page.name, "created": created,
                        "notebook": meta.get("notebook") or (m.group("name") if m else page.stem),
                        "title": meta.get("title") or (m.group("name") if m else page.stem)})
    return sorted(entries, key=lambda e: str(e["created"]), reverse=True)


_PAGE: Final = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>workbench reports</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#263238}}
h1{{font-size:1.5em;margin-bottom:.2em}} .sub{{color:#607d8b;margin-bottom:1em}}
table{{border-collapse:collapse;width:100%;font-size:.9em}}
th,td{{padding:.35em .45em;border-bottom:1px solid #eceff1;text-align:left;vertical-align:top}}
th{{background:#f5f7f8;cursor:pointer;user-select:none}}
th[aria-sort=ascending]::after{{content:" ▲"}} th[aria-sort=descending]::after{{content:" ▼"}}
td.n{{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}} th[data-type=number]{{text-align:right}}
td.d,.nw{{white-space:nowrap}} td.t{{min-width:10em}} td.s{{min-width:8em}}
@media (max-width:1100px){{body{{margin:1em}}}}
.up{{color:#00796b}} .down{{color:#c62828}} .syn{{color:#b71c1c;font-size:.8em;font-weight:bold}}
tr:hover td{{background:#fafcfc}}
</style></head><body>
<h1>workbench reports</h1>
<div class="sub">{count} report(s), newest first; click a column to sort. Dates in KST (UTC+9).
Rebuilt {built}.</div>
<table id="reports"><thead><tr>{head}</tr></thead>
<tbody>
{rows}
</tbody></table>
<script>
(function () {{
  var table = document.getElementById("reports");
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {{
    th.addEventListener("click", function () {{
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) {{ h.removeAttribute("aria-sort"); }});
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var numeric = th.dataset.type === "number";
      var rows = Array.prototype.slice.call(table.tBodies[0].rows);
      rows.sort(function (a, b) {{
        var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
        if (numeric) {{
          x = x === "" ? -Infinity : parseFloat(x); y = y === "" ? -Infinity : parseFloat(y);
          return asc ? x - y : y - x;
        }}
        return asc ? x.localeCompare(y) : y.localeCompare(x);
      }});
      rows.forEach(function (r) {{ table.tBodies[0].appendChild(r); }});
    }});
  }});
}})();
</script>
</body></html>
"""


def _cell(text: str, sort: object, *, numeric: bool = False, css: str = "") -> str:
    classes = " ".join(c for c in ("n" if numeric else "", css) if c)
    attr = f' class="{classes}"' if classes else ""
    return f'<td{attr} data-sort="{html.escape(str(sort), quote=True)}">{text}</td>'


#: a word with a digit or a hyphen: a number, an amount, a symbol, a date
_TOKEN: Final = re.compile(r"[^\s<>]*[-\d][^\s<>]*")


def _unbroken(text: str) -> str:
    """``text`` as HTML in which numbers, amounts, symbols and dates never break at their hyphen
    (``-₩5,293``, ``KRW-SYNBTC``); it still wraps between words."""
    return _TOKEN.sub(lambda m: f'<span class="nw">{m.group(0)}</span>', html.escape(text))


def build_index(reports_dir: Path) -> Path:
    """Write ``reports_dir/index.html`` listing every report there; return its path.

    Rebuilds take turns (a lock on the folder itself, no lock file): the last one to write has listed
    every report whose files were written before it started, so two reports finishing together both
    appear."""
    reports_dir = Path(reports_dir)
    fd = os.open(reports_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return _write_index(reports_dir)
    finally:
        os.close(fd)   # releases the lock


def _write_index(reports_dir: Path) -> Path:
    page = index_page(report_entries(reports_dir))
    target = reports_dir / INDEX_NAME
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def index_page(entries: Sequence[Mapping[str, object]]) -> str:
    """The index of ``entries`` (:func:`report_entries`, or those of them one user may see) as HTML."""
    head = "".join(f'<th data-type="{kind}">{html.escape(title)}</th>' for title, kind in (
        ("date", "text"), ("notebook", "text"), ("title", "text"),
        *((label, "number") for _, label, _ in _COLUMNS), ("summary", "text"), ("report", "text")))
    rows = []
    for e in entries:
        given = e.get("kpis")
        kpis: Mapping[str, object] = given if isinstance(given, dict) else {}
        title = _unbroken(str(e["title"]))
        if e.get("synthetic"):
            title += ' <span class="syn">SYNTHETIC DATA</span>'
        # the date's day and time, and a notebook's name at its underscores, may go on two lines
        day, _, clock = format_time_kst(e["created"]).partition(" ")
        cells = [_cell(f"{html.escape(day)}<br>{html.escape(clock)}", e["created"], css="d"),
                 _cell(html.escape(str(e["notebook"])).replace("_", "_<wbr>"), e["notebook"]),
                 _cell(title, e["title"], css="t")]
        for key, _, fmt in _COLUMNS:
            raw = kpis.get(key)
            number = isinstance(raw, int | float) and raw == raw
            value = float(raw) if isinstance(raw, int | float) and number else 0.0
            tone = "" if key in ("max_drawdown", "total_trades") or not number else \
                ("up" if value > 0 else "down" if value < 0 else "")
            cells.append(_cell(html.escape(fmt(raw)) if number else MISSING, value if number else "",
                               numeric=True, css=tone))
        cells.append(_cell(_unbroken(str(e.get("headline") or "")), str(e.get("headline") or ""), css="s"))
        link = html.escape(str(e["html"]), quote=True)
        cells.append(_cell(f'<a href="{link}" title="{link}">open</a>', e["html"]))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _PAGE.format(count=len(entries), built=html.escape(format_time_kst(datetime.now(UTC))),
                        head=head, rows="\n".join(rows))
