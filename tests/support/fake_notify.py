"""Local stand-ins for Telegram's Bot API and an SMTP server, recording what they receive."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, answer = fake.answer(self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class FakeSMTP:
    """A minimal SMTP server (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) keeping each accepted mail.

    Recipients in ``refused`` get 550; ``delay`` pauses after a mail is recorded, before ``250``.
    """

    refused: set[str] = field(default_factory=set)
    delay: float = 0.0
    received: list[tuple[str, list[str], str, str]] = field(default_factory=list)  # sender, rcpts, subject, body
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def serving_smtp(fake: FakeSMTP) -> Iterator[FakeSMTP]:
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")
            self.wfile.flush()

        def handle(self) -> None:
            sender, rcpts = "", []
            self.reply("220 fake-smtp ready")
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb = line[:4].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 fake-smtp")
                elif verb == "MAIL":
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

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.port = server.server_address[1]
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
