"""A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (no websocket library, no
driver): Debian's headless ``chromium`` reads commands on fd 3 and writes replies on fd 4, each a JSON
message ended by a NUL byte. Enough to load pages, run JavaScript in them, click and type."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
         "--no-pings", "--disable-domain-reliability", "--remote-debugging-pipe"]


class Browser:
    """One headless Chromium with one page (its own fresh profile: no cookies to start with)."""

    def __init__(self, profile: Path) -> None:
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        assert exe is not None, "needs Debian's chromium: apt-get install -y chromium"
        to_chrome_r, self._out = os.pipe()
        self._in, from_chrome_w = os.pipe()

        def fds() -> None:  # the child's fd 3 reads our commands, fd 4 writes its replies
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)   # above 4: no clash with the pipes' own fds
            os.dup2(r, 3)
            os.dup2(w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        # close_fds=False: the two dup2'd fds must survive; every other fd of ours is close-on-exec anyway
        self.proc = subprocess.Popen([exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     preexec_fn=fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env={**os.environ, "TZ": "UTC"})
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)

    def _read_message(self, timeout: float) -> dict[str, Any]:
        import select

        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited: {self.proc.stderr.read().decode()[-2000:] if self.proc.stderr else ''}")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def call(self, method: str, *, session: bool = False, timeout: float = 60, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read_message(timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited if it is a promise)."""
        res = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60) -> Any:
        """Poll until the expression is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.js(expression)
            except RuntimeError:   # the page is navigating
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout}s: {expression}")
            time.sleep(0.2)

    def goto(self, url: str) -> None:
        """Open ``url`` and wait until the new document (after any redirects) has loaded."""
        marker = f"__left_{self._next_id}"
        self.js(f"window.{marker} = true")
        self.call("Page.navigate", session=True, url=url)
        self.wait_for(f"!window.{marker} && document.readyState === 'complete'")

    def submit(self, fields: dict[str, str], button: str) -> None:
        """Fill form fields (by id) and click a button (by id); wait for the next page to load."""
        marker = f"__left_{self._next_id}"
        self.js(f"window.{marker} = true")
        for field_id, value in fields.items():
            self.js(f"document.getElementById({json.dumps(field_id)}).value = {json.dumps(value)}")
        self.js(f"document.getElementById({json.dumps(button)}).click()")
        self.wait_for(f"!window.{marker} && document.readyState === 'complete'")

    def cookies(self) -> list[dict[str, Any]]:
        return self.call("Network.getAllCookies", session=True)["cookies"]

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._out)
        os.close(self._in)
