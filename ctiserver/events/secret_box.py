"""Secrets at rest (webhook signing secrets): Fernet (AES-128-CBC + HMAC-SHA256) with one daemon key.

The key comes from, in order: ``CTISERVER_SECRET_KEY`` (a Fernet key: 32 bytes, url-safe base64),
``CTISERVER_SECRET_KEY_FILE`` (a file holding it), the ``events.secret_key`` setting, else
``<data_dir>/secret.key``, generated (mode 0600) on first start. Stored values read ``fernet:<token>``; a value
without the prefix is a clear-text row from before encryption (read as is, re-encrypted at start).
Keep the key with the backups of the database: without it the stored secrets cannot be read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "fernet:"
KEY_FILE = "secret.key"


class SecretKeyError(Exception):
    """The key is missing, malformed, or not the one the stored secrets were encrypted with."""


class SecretBox:
    def __init__(self, key: bytes | str) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise SecretKeyError("the secret key must be 32 url-safe base64-encoded bytes") from exc

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def encrypt(self, plain: str) -> str:
        return PREFIX + self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        if not is_encrypted(stored):
            return stored  # a clear-text row written before encryption
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise SecretKeyError("a stored secret does not decrypt with this key") from exc


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def _key_from_env(env: Mapping[str, str]) -> str | None:
    key = env.get("CTISERVER_SECRET_KEY")
    if key:
        return key.strip()
    path = env.get("CTISERVER_SECRET_KEY_FILE")
    if path:
        return Path(path).read_text(encoding="ascii").strip()
    return None


def find_key(data_dir: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> str | None:
    """The key if one is configured or was generated before (no side effect)."""
    key = _key_from_env(os.environ if env is None else env)
    if key:
        return key
    path = Path(data_dir) / KEY_FILE
    return path.read_text(encoding="ascii").strip() if path.exists() else None


def load_or_create_key(
    data_dir: str | os.PathLike[str], configured: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    key = _key_from_env(os.environ if env is None else env) or configured
    if key:
        return key
    path = Path(data_dir) / KEY_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return key
