"""Masking of secrets in text meant for people: URLs, reprs, log lines, error messages.

Used by every layer (it imports nothing of the workbench), so no printed URL carries a password.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit, urlunsplit

__all__ = ["MASK", "mask_text", "mask_url"]

MASK: Final = "***"
# scheme://user:password@host  ->  the password part; also redis://:password@host
_URL_PASSWORD: Final = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s/]+)(?=@)", re.I)
# key=value forms in DSNs and option strings: password=..., requirepass ...
_KV_PASSWORD: Final = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|requirepass)\s*[=:\s]\s*)(?P<pw>[^\s&;,'\"]+)", re.I)


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (other parts kept).

    >>> mask_url("postgresql://postgres:s3cret@127.0.0.1:5432/workbench")
    'postgresql://postgres:***@127.0.0.1:5432/workbench'
    >>> mask_url("redis://:pw@127.0.0.1:6379/0")
    'redis://:***@127.0.0.1:6379/0'
    >>> mask_url("redis://127.0.0.1:6379/0")
    'redis://127.0.0.1:6379/0'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_text(url)
    if parts.password is None:
        return mask_text(url)
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def mask_text(text: str, *secrets: str) -> str:
    """``text`` with URL passwords, ``password=...`` pairs and each of ``secrets`` masked.

    >>> mask_text("connect postgresql://u:pw@h/db failed; password=pw")
    'connect postgresql://u:***@h/db failed; password=***'
    """
    out = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, str(text))
    out = _KV_PASSWORD.sub(lambda m: m.group("head") + MASK, out)
    for s in secrets:
        if s and len(s) >= 4:
            out = out.replace(s, MASK)
    return out
