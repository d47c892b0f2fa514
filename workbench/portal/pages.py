"""The portal's own pages (login, home), as small self-contained HTML; every value is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["home_page", "login_page", "message_page", "monitor_page", "notifications_page"]

_STYLE = ("body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}"
          "form.login{max-width:20rem}label{display:block;margin:.6rem 0 .2rem}input{width:100%;padding:.3rem}"
          "button{margin-top:.8rem;padding:.3rem 1rem}.error{color:#b00020}table{border-collapse:collapse}"
          "td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}"
          "header{display:flex;justify-content:space-between;align-items:center}")


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")


def login_page(*, csrf: str, next_path: str, error: str | None = None, username: str = "") -> str:
    err = f'<p class="error" id="error">{escape(error)}</p>' if error else ""
    return _page("Sign in - workbench reports", (
        "<h1>Workbench reports</h1>" + err +
        '<form class="login" method="post" action="/login">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="next" value="{escape(next_path)}">'
        '<label for="username">User name</label>'
        f'<input id="username" name="username" autocomplete="username" required value="{escape(username)}">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>'
        '<button id="login" type="submit">Sign in</button></form>'))


def _logout_form(csrf: str) -> str:
    return ('<form method="post" action="/logout">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            '<button id="logout" type="submit">Sign out</button></form>')


def home_page(*, username: str, csrf: str, runs: Sequence[Mapping[str, object]], has_index: bool) -> str:
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(str(r[c]))}</td>" for c in ("id", "strategy", "symbol", "timeframe",
                                                                     "total_return", "owner")) + "</tr>"
        for r in runs)
    links = ('<a id="notifications" href="/notifications">Notifications</a> · '
             '<a id="monitor" href="/monitor">Monitoring</a>')
    index = (f'<p><a id="reports" href="/index.html">All reports</a> · {links}</p>' if has_index
             else "<p>No reports yet (run <code>workbench report</code> or <code>workbench study</code>). "
                  f"{links}</p>")
    table = ("<table id=\"runs\"><tr><th>id</th><th>strategy</th><th>symbol</th><th>timeframe</th>"
             f"<th>return</th><th>owner</th></tr>{rows}</table>" if runs else "<p>No stored runs.</p>")
    return _page("Workbench reports", (
        f'<header><h1>Workbench reports</h1><div>Signed in as <b id="user">{escape(username)}</b>'
        f"{_logout_form(csrf)}</div></header>{index}"
        f"<h2>Your runs and runs shared with you</h2>{table}"))


def message_page(title: str, text: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")


def monitor_page(*, username: str, csrf: str, taken_at: str, sections: Sequence[tuple[str, pd.DataFrame]]) -> str:
    """``sections``: (title, DataFrame of text) pairs, as :meth:`workbench.app.monitor.MonitorReport.sections`."""
    parts = []
    for title, frame in sections:
        head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
                       for row in frame.itertuples(index=False))
        parts.append(f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>")
    return _page("Monitoring - workbench", (
        f'<header><h1>Monitoring</h1><div>Signed in as <b id="user">{escape(username)}</b>'
        f'{_logout_form(csrf)}</div></header><p><a href="/">Home</a> · taken {escape(taken_at)}</p>'
        + "".join(parts)))


def notifications_page(*, username: str, csrf: str, rows: list[dict[str, str]], kept: bool) -> str:
    """The user's notifications, newest first (``rows``: time, kind, text)."""
    if not kept:
        body = "<p>Notifications are kept in Redis, and this portal runs without Redis.</p>"
    elif not rows:
        body = "<p>No notifications.</p>"
    else:
        body = ('<table id="notifications"><tr><th>time (KST)</th><th>kind</th><th>text</th></tr>'
                + "".join("<tr>" + "".join(f"<td>{escape(r[c])}</td>" for c in ("time", "kind", "text")) + "</tr>"
                          for r in rows) + "</table>")
    return _page("Notifications - workbench", (
        f'<header><h1>Notifications</h1><div>Signed in as <b id="user">{escape(username)}</b>'
        f'{_logout_form(csrf)}</div></header><p><a href="/">Home</a> · newest first</p>' + body))
