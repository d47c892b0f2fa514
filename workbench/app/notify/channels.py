"""Delivery channels: Telegram's Bot API (``sendMessage``) and SMTP.

A send either returns (delivered), raises :class:`TemporaryFailure` (try again later: timeouts,
refused connections, HTTP 429/5xx, SMTP 4xx) or :class:`PermanentFailure` (retrying cannot help: HTTP
4xx such as an unknown chat, SMTP 5xx such as a refused recipient). Messages never carry the bot token.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

import httpx

__all__ = ["Channel", "EmailChannel", "PermanentFailure", "TelegramChannel", "TemporaryFailure"]


class TemporaryFailure(Exception):
    """The message may go through later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """The message cannot be delivered as it is."""


class Channel(Protocol):
    def send(self, to: str, subject: str, text: str) -> None: ...


@dataclass
class TelegramChannel:
    """``POST {api_url}/bot{token}/sendMessage`` with ``chat_id`` and ``text``."""

    api_url: str
    token: str
    timeout: float = 10.0

    def send(self, to: str, subject: str, text: str) -> None:
        url = f"{self.api_url.rstrip('/')}/bot{self.token}/sendMessage"
        try:
            r = httpx.post(url, json={"chat_id": to, "text": f"{subject}\n{text}" if subject else text},
                           timeout=self.timeout)
        except httpx.HTTPError as err:
            raise TemporaryFailure(f"Telegram unreachable: {type(err).__name__}") from None
        if r.status_code == 429 or r.status_code >= 500:
            after = None
            try:
                after = float(r.json().get("parameters", {}).get("retry_after"))
            except (ValueError, TypeError, AttributeError):
                pass
            raise TemporaryFailure(f"Telegram answered HTTP {r.status_code}", retry_after=after)
        if r.status_code != 200:
            raise PermanentFailure(f"Telegram answered HTTP {r.status_code}: {_description(r)}")
        try:
            ok = bool(r.json().get("ok"))
        except ValueError:
            ok = False
        if not ok:
            raise PermanentFailure(f"Telegram answered ok=false: {_description(r)}")


def _description(r: httpx.Response) -> str:
    try:
        return str(r.json().get("description", ""))[:200]
    except (ValueError, AttributeError):
        return ""


@dataclass
class EmailChannel:
    """Plain-text mail through an SMTP server; with ``starttls`` the connection is upgraded to TLS first
    (the server's certificate checked against ``ssl_context``, default: the system's CAs), with ``user``
    it logs in (``AUTH``) before sending."""

    host: str
    port: int
    sender: str
    timeout: float = 10.0
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)

    def send(self, to: str, subject: str, text: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPNotSupportedError as err:   # no STARTTLS or no AUTH offered: a setup matter
            raise PermanentFailure(f"SMTP server {self.host}:{self.port}: {err}") from None
        except ssl.SSLCertVerificationError as err:
            raise PermanentFailure(f"SMTP server {self.host}:{self.port}: certificate not trusted "
                                   f"({err.verify_message})") from None
        except smtplib.SMTPRecipientsRefused as err:
            codes = [code for code, _ in err.recipients.values()]
            if all(400 <= c < 500 for c in codes):
                raise TemporaryFailure(f"SMTP recipient deferred {codes}") from None
            raise PermanentFailure(f"SMTP refused recipient {to!r}: {codes}") from None
        except smtplib.SMTPResponseException as err:
            if 400 <= err.smtp_code < 500:
                raise TemporaryFailure(f"SMTP answered {err.smtp_code}") from None
            raise PermanentFailure(f"SMTP answered {err.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as err:
            raise TemporaryFailure(f"SMTP server unreachable: {type(err).__name__}") from None
