"""Local stand-ins for Telegram's Bot API and an SMTP server, recording what they receive."""

from __future__ import annotations

import base64
import json
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy

from local_server import QuietHandler, http_server, port_of, running, send, tcp_server


@dataclass
class FakeTelegram:
    """``POST /bot{token}/sendMessage``: records (token, chat_id, text) and answers ``{"ok": true}``.

    ``failures`` holds statuses to answer instead, one per request, first in first out (500, 429 ...);
    chat ids in ``unknown_chats`` get HTTP 400 like Telegram's "chat not found". ``delay`` pauses before
    answering (after recording), to widen the window in which a killed worker has sent and not recorded.
    """

    token: str = "123:TEST"
    failures: list[int] = field(default_factory=list)
    unknown_chats: set[str] = field(default_factory=set)
    delay: float = 0.0
    received: list[tuple[str, str, str]] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, body: bytes) -> tuple[int, dict[str, object]]:
        token = path.removeprefix("/bot").rsplit("/", 1)[0]
        if not path.startswith("/bot") or not path.endswith("/sendMessage") or token != self.token:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        payload = json.loads(body)
        chat, text = str(payload["chat_id"]), str(payload["text"])
        with self._lock:
            if self.failures:
                status = self.failures.pop(0)
                return status, {"ok": False, "error_code": status, "description": "scripted failure",
                                "parameters": {"retry_after": 0}}
            if chat in self.unknown_chats:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            self.received.append((token, chat, text))
        if self.delay:
            time.sleep(self.delay)
        return 200, {"ok": True, "result": {"message_id": len(self.received), "chat": {"id": chat}, "text": text}}


@contextmanager
def serving_telegram(fake: FakeTelegram) -> Iterator[FakeTelegram]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, answer = fake.answer(self.path, body)
            send(self, status, json.dumps(answer).encode())

    with running(http_server(Handler)) as server:
        fake.url = f"http://127.0.0.1:{port_of(server)}"
        yield fake


@dataclass
class FakeSMTP:
    """A minimal SMTP server (EHLO/HELO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) keeping
    each accepted mail.

    Recipients in ``refused`` get 550; ``delay`` pauses after a mail is recorded, before ``250``. With
    ``tls`` (a server-side ``ssl.SSLContext``) it offers STARTTLS; with ``users`` (name -> password) it
    offers ``AUTH PLAIN`` (only over TLS when ``tls`` is given) and refuses mail from a client that has not
    logged in (530). ``logins`` records each login attempt as (user, accepted, over TLS).
    """

    refused: set[str] = field(default_factory=set)
    delay: float = 0.0
    tls: ssl.SSLContext | None = None
    users: dict[str, str] = field(default_factory=dict)
    received: list[tuple[str, list[str], str, str]] = field(default_factory=list)  # sender, rcpts, subject, body
    logins: list[tuple[str, bool, bool]] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)


def _plain_credentials(arg: str) -> tuple[str, str]:
    """``AUTH PLAIN`` initial response: base64 of ``authzid NUL user NUL password``."""
    try:
        _, user, password = base64.b64decode(arg, validate=True).decode().split("\0")
    except ValueError:
        return "", ""
    return user, password


@contextmanager
def serving_smtp(fake: FakeSMTP) -> Iterator[FakeSMTP]:
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")
            self.wfile.flush()

        def handle(self) -> None:
            sender, rcpts, secure, authed = "", [], False, False
            self.reply("220 fake-smtp ready")
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    offers = ["fake-smtp"]
                    if fake.tls is not None and not secure:
                        offers.append("STARTTLS")
                    if fake.users and (secure or fake.tls is None):
                        offers.append("AUTH PLAIN")
                    for extra in offers[:-1]:
                        self.reply(f"250-{extra}")
                    self.reply(f"250 {offers[-1]}")
                elif verb == "STARTTLS" and fake.tls is not None and not secure:
                    self.reply("220 go ahead")
                    self.request = fake.tls.wrap_socket(self.request, server_side=True)
                    self.rfile, self.wfile = self.request.makefile("rb"), self.request.makefile("wb")
                    secure, sender, rcpts = True, "", []
                elif verb == "AUTH" and fake.users and (secure or fake.tls is None):
                    parts = line.split()
                    if len(parts) != 3 or parts[1].upper() != "PLAIN":
                        self.reply("504 only AUTH PLAIN with an initial response")
                        continue
                    user, password = _plain_credentials(parts[2])
                    authed = fake.users.get(user) == password and bool(user)
                    with fake._lock:
                        fake.logins.append((user, authed, secure))
                    self.reply("235 authenticated" if authed else "535 authentication failed")
                elif verb == "MAIL":
                    if fake.users and not authed:
                        self.reply("530 authentication required")
                        continue
                    sender, rcpts = line.split(":", 1)[1].strip().strip("<>"), []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    rcpt = line.split(":", 1)[1].strip().strip("<>")
                    if rcpt in fake.refused:
                        self.reply("550 no such user")
                    else:
                        rcpts.append(rcpt)
                        self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 end with .")
                    lines = []
                    while True:
                        data = self.rfile.readline()
                        if not data or data in (b".\r\n", b".\n"):
                            break
                        lines.append(data[1:] if data.startswith(b"..") else data)
                    msg = message_from_bytes(b"".join(lines), policy=default_policy)
                    body = msg.get_body(preferencelist=("plain",))
                    with fake._lock:
                        fake.received.append((sender, list(rcpts), str(msg["Subject"]),
                                              body.get_content().strip() if body is not None else ""))
                    if fake.delay:
                        time.sleep(fake.delay)
                    self.reply("250 queued")
                elif verb == "RSET":
                    sender, rcpts = "", []
                    self.reply("250 OK")
                elif verb == "NOOP":
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 not implemented")

    with running(tcp_server(Handler)) as server:
        fake.port = port_of(server)
        yield fake
