"""Bithumb API keys of users, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The encryption key comes from ``WORKBENCH_SECRET_KEY`` or, when that is unset, from the OS keyring
(service ``workbench``, name ``secret_key``). The plain keys exist only in memory: they are never
logged, and never written to reports, manifests or Redis; :class:`BithumbKeys` prints masked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from workbench.errors import ConfigError, ValidationError
from workbench.store.database import Database
from workbench.store.queries import Q, query

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

__all__ = ["ENV_VAR", "KEYRING_NAME", "KEYRING_SERVICE", "BithumbKeys", "generate_key", "load_bithumb_keys",
           "mask", "save_key_to_keyring", "secret_key", "store_bithumb_keys"]

ENV_VAR: Final = "WORKBENCH_SECRET_KEY"
KEYRING_SERVICE: Final = "workbench"
KEYRING_NAME: Final = "secret_key"


def mask(value: str) -> str:
    """``'abcd…'``: enough to recognise a key, not to use it."""
    return (value[:4] + "…") if len(value) > 8 else "…"


@dataclass(frozen=True, repr=False)
class BithumbKeys:
    api_key: str
    secret_key: str

    def __repr__(self) -> str:
        return f"BithumbKeys(api_key={mask(self.api_key)!r}, secret_key='***')"

    __str__ = __repr__


def generate_key() -> str:
    """A new Fernet key (URL-safe base64 of 32 random bytes)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _keyring_get() -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(KEYRING_SERVICE, KEYRING_NAME)
        except KeyringError:
            return None
    except Exception:  # no usable keyring backend on this machine (e.g. headless Linux)
        return None


def save_key_to_keyring(key: str) -> None:
    """Store ``key`` in the OS keyring."""
    import keyring

    try:
        keyring.set_password(KEYRING_SERVICE, KEYRING_NAME, key)
    except Exception as err:
        raise ConfigError(f"the OS keyring refused the key ({type(err).__name__}); set {ENV_VAR} instead") from None


def secret_key(env: Mapping[str, str] | None = None) -> str:
    """The encryption key: ``WORKBENCH_SECRET_KEY``, else the OS keyring; ConfigError if neither."""
    env = os.environ if env is None else env
    key = env.get(ENV_VAR) or _keyring_get()
    if not key:
        raise ConfigError(f"no secret key to encrypt the Bithumb API keys: set {ENV_VAR} (make one with "
                          "`workbench secrets generate-key`) or store one in the OS keyring "
                          "(`workbench secrets generate-key --keyring`)")
    return key


def _fernet(key: str | None) -> Fernet:
    from cryptography.fernet import Fernet

    try:
        return Fernet((key or secret_key()).encode())
    except (ValueError, TypeError):
        raise ConfigError(f"{ENV_VAR} is not a valid Fernet key (32 url-safe base64-encoded bytes); make one "
                          "with `workbench secrets generate-key`") from None


def store_bithumb_keys(db: Database, user_id: int, api_key: str, secret: str, *, key: str | None = None) -> None:
    """Encrypt and store the user's Bithumb API key and secret."""
    if not api_key.strip() or not secret.strip():
        raise ValidationError("the Bithumb API key and secret must not be empty")
    f = _fernet(key)
    with db.begin() as conn:
        n = conn.execute(query(Q.USER_KEYS_SET).text, {
            "id": user_id, "api_key": f.encrypt(api_key.strip().encode()).decode(),
            "secret_key": f.encrypt(secret.strip().encode()).decode()}).rowcount
    if n != 1:
        raise ValidationError(f"no user with id {user_id}")


def load_bithumb_keys(db: Database, user_id: int, *, key: str | None = None) -> BithumbKeys | None:
    """The user's decrypted Bithumb keys, or None when none are stored."""
    from cryptography.fernet import InvalidToken

    with db.begin() as conn:
        row = conn.execute(query(Q.USER_KEYS_GET).text, {"id": user_id}).first()
    if row is None or not row[0] or not row[1]:
        return None
    f = _fernet(key)
    try:
        return BithumbKeys(f.decrypt(row[0].encode()).decode(), f.decrypt(row[1].encode()).decode())
    except InvalidToken:
        raise ConfigError(f"the stored Bithumb keys of user {user_id} cannot be decrypted with this secret key "
                          f"(a different {ENV_VAR}?) or were stored unencrypted; store them again with "
                          "`workbench secrets set-bithumb`") from None
