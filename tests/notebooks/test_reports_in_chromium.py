"""The reports as a stakeholder opens them: reports/index.html and a strategy_backtest report in headless
Chromium (Debian's ``chromium``): every plotly figure draws, no script error, every link of the index
resolves to a report that draws too, and no page makes a network request.

Network requests are caught by pointing Chromium at a proxy that is a listening socket of this test:
any http(s)/ws request a page makes arrives there (``file://`` pages need none). The browser's own
service traffic (update checks, clock sync, account lookup), which the flags do not fully silence, is
told apart by host. A control page with a remote image proves the detector sees page requests.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from workbench.app.report import run_report

SMALL = {"start": "2025-01-01", "end": "2025-01-04", "strategy_params": '{"fast": 5, "slow": 13}',
         "symbols": "KRW-SYNBTC,KRW-SYNETH", "max_positions": "2", "store": "false"}
#: Chromium's own background services, not requests of a page
_BROWSER_HOSTS = re.compile(r"^(clients\d*\.google\.com|update\.googleapis\.com|accounts\.google\.com|"
                            r"optimizationguide-pa\.googleapis\.com|redirector\.gvt1\.com|[\w.-]+\.gvt1\.com)$")
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
          "--no-pings", "--disable-domain-reliability"]


class Proxy:
    """A socket that records the first line of every request sent to it (and answers nothing)."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.requests: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(3)
                try:
                    self.requests.append(conn.recv(4096).decode("latin-1").split("\r\n", 1)[0])
                except OSError as err:
                    self.requests.append(f"unreadable request: {err}")

    def page_requests(self) -> list[str]:
        """Requests not from the browser's own services."""
        out = []
        for line in self.requests:
            parts = line.split()
            target = parts[1] if len(parts) > 1 else line
            host = re.sub(r"^\w+://", "", target).split("/", 1)[0].rsplit(":", 1)[0]
            if not _BROWSER_HOSTS.match(host):
                out.append(line)
        return out

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Any]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe is not None, "the reports test needs Debian's chromium: apt-get install -y chromium"
    proxy = Proxy()

    def load(page: Path) -> tuple[str, list[str], list[str]]:
        """(DOM after scripts ran, console errors, page network requests) of ``page``."""
        proxy.requests.clear()
        profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
        proc = subprocess.run(
            [exe, *_FLAGS, f"--user-data-dir={profile}", f"--proxy-server=http://127.0.0.1:{proxy.port}",
             "--proxy-bypass-list=<-loopback>", "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=15000", "--dump-dom", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=240, env={**os.environ, "TZ": "UTC"})
        assert proc.returncode == 0, proc.stderr[-3000:]
        errors = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln and ("Uncaught" in ln or "Error" in ln)]
        return proc.stdout, errors, proxy.page_requests()

    yield load
    proxy.close()


def _figures(dom: str) -> tuple[int, int]:
    """(plotly figure divs, those plotly.js has drawn into: class ``js-plotly-plot`` and an SVG)."""
    divs = re.findall(r'<div[^>]*class="(plotly-graph-div[^"]*)"[^>]*>(.{0,400})', dom, flags=re.S)
    drawn = [d for d in divs if "js-plotly-plot" in d[0] and "main-svg" in d[1] + dom]
    return len(divs), len(drawn)


@pytest.mark.chromium
def test_the_network_detector_sees_page_requests(chromium: Any, tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    page.write_text('<html><body><img src="http://example.invalid/x.png">'
                    "<script>noSuchFunction()</script></body></html>", encoding="utf-8")
    _, errors, requests = chromium(page)
    assert any("example.invalid" in r for r in requests), requests
    assert any("noSuchFunction" in e for e in errors), errors


@pytest.mark.db
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.chromium
def test_index_and_report_in_chromium(loaded: Any, kernel_env: dict[str, str], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, chromium: Any) -> None:
    for key in [k for k in os.environ if k.startswith("WORKBENCH_")]:
        monkeypatch.delenv(key)
    for key, value in kernel_env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "reports"
    report = run_report("strategy_backtest", SMALL, output_dir=out, progress=False)
    assert report.stat().st_size <= 6 * 1024 * 1024
    kept = report.with_suffix(".ipynb").read_text(encoding="utf-8")
    assert "window.PlotlyConfig" not in kept and not re.search(r"plotly\.js v\d", kept)

    dom, errors, requests = chromium(out / "index.html")
    assert errors == [] and requests == []
    links = re.findall(r'<a href="([^"]+)"', dom)
    assert links == [report.name]
    assert "EmaCross(fast=5, slow=13) on KRW-SYNBTC, KRW-SYNETH" in dom and "SYNTHETIC DATA" in dom
    for link in links:
        target = out / link
        assert target.is_file(), f"index links to {link}, which does not exist"
        page, errors, requests = chromium(target)
        assert errors == [], errors
        assert requests == [], f"{link} made network requests: {requests}"
        total, drawn = _figures(page)
        # equity vs buy & hold, underwater, rolling Sharpe/volatility, return distribution, monthly returns,
        # trades of each of the two symbols
        assert total == 7 and drawn == 7, (total, drawn)
        assert page.count('class="main-svg"') >= 2 * total
        for text in ("Buy &amp; hold", "Total return", "Max drawdown", "KST", "SYNTHETIC SAMPLE DATA",
                     "peak (KST)", "valley (KST)", "gaps (missing bars)", "Report parameters"):
            assert text in page, text


#: run in the page once plotly has drawn: what does not fit a viewport ``innerWidth`` wide. One line each:
#: the page's width; every scroll box (a wide table's) whose content is wider than the box (clipped: the
#: reader must scroll it sideways); every SYNTHETIC stamp of a figure that covers the figure's legend
_LAYOUT_PROBE: Final = """<script>window.addEventListener("load", function () { setTimeout(function () {
  var out = ["page " + document.documentElement.scrollWidth + " " + window.innerWidth];
  document.querySelectorAll("*").forEach(function (el) {
    var x = getComputedStyle(el).overflowX;
    if ((x === "auto" || x === "scroll" || x === "hidden") && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      out.push("clipped " + el.scrollWidth + ">" + el.clientWidth + ": " + (el.innerText || "").slice(0, 80).replace(/\\s+/g, " "));
  });
  document.querySelectorAll(".js-plotly-plot").forEach(function (plot) {
    var legend = plot.querySelector("g.legend");
    if (!legend) return;
    var l = legend.getBoundingClientRect();
    plot.querySelectorAll("g.annotation").forEach(function (a) {
      var r = a.getBoundingClientRect();
      if (a.textContent.indexOf("SYNTHETIC") >= 0 && r.left < l.right && l.left < r.right && r.top < l.bottom && l.top < r.bottom)
        out.push("stamp over legend: " + (plot.querySelector(".gtitle") || {}).textContent);
    });
  });
  var pre = document.createElement("pre"); pre.id = "wb-layout"; pre.textContent = out.join("\\n");
  document.body.appendChild(pre);
}, 2000); });</script>"""


def _layout(page: Path, width: int, work: Path) -> list[str]:
    """What :data:`_LAYOUT_PROBE` finds in ``page`` at ``width`` x 1000 px (a probed copy, next to it)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe is not None
    probed = page.with_name(f".probed-{page.name}")
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", _LAYOUT_PROBE + "</body>"),
                      encoding="utf-8")
    try:
        proc = subprocess.run([exe, *_FLAGS, f"--user-data-dir={work / f'profile-{width}'}", "--hide-scrollbars",
                               f"--window-size={width},1000", "--virtual-time-budget=20000", "--dump-dom",
                               probed.resolve().as_uri()], capture_output=True, text=True, timeout=240)
    finally:
        probed.unlink()
    found = re.search(r'<pre id="wb-layout">(.*?)</pre>', proc.stdout, flags=re.S)
    assert found is not None, proc.stderr[-2000:]
    return found.group(1).replace("&gt;", ">").replace("&amp;", "&").splitlines()


@pytest.mark.db
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.chromium
def test_every_report_fits_the_page(loaded: Any, kernel_env: dict[str, str], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """At 1000 and 1280 px wide: no page scrolls sideways, no table is clipped in a scroll box, no SYNTHETIC
    stamp covers a legend, in every report kind and the index."""
    from test_notebooks import SMALL as EVERY  # the small parameters of every report (same folder)

    for key in [k for k in os.environ if k.startswith("WORKBENCH_")]:
        monkeypatch.delenv(key)
    for key, value in kernel_env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "reports"
    pages = []
    for name, params in EVERY.items():
        given = {k: str(v) for k, v in params.items()}
        if name == "strategy_backtest":
            given.update({"store": "false", "risk_per_trade": "1.0"})
        pages.append(run_report(name, given, output_dir=out, progress=False))
    for page in [*pages, out / "index.html"]:
        for width in (1000, 1280):
            found = _layout(page, width, tmp_path)
            assert found == [f"page {width} {width}"], (page.name, width, found)
