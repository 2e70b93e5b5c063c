"""Webhook secrets are encrypted at rest: the database never holds them in clear, a daemon with the key signs
with them, clear rows from before are encrypted (by the migration when it finds the key, else at start), and
the secret never reaches the log."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import stat
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from ctiserver.events.outbox import WebhookSubscription
from ctiserver.events.secret_box import (
    KEY_FILE,
    SecretBox,
    SecretKeyError,
    find_key,
    is_encrypted,
    load_or_create_key,
)
from ctiserver.events.webhooks import WebhookDispatcher
from ctiserver.store import migrate
from tests.api.harness import daemon

SECRET = "s3cr3t-s3cr3t-s3cr3t-0123456789"


def _stored_secrets(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT secret FROM webhook_subscriptions")]


def test_box_round_trip_and_wrong_key() -> None:
    box = SecretBox(Fernet.generate_key())
    sealed = box.encrypt(SECRET)
    assert is_encrypted(sealed) and SECRET not in sealed
    assert box.decrypt(sealed) == SECRET
    assert box.decrypt("legacy-clear") == "legacy-clear"  # a row from before encryption
    with pytest.raises(SecretKeyError):
        SecretBox(Fernet.generate_key()).decrypt(sealed)
    with pytest.raises(SecretKeyError):
        SecretBox("not a key")
    assert SECRET not in repr(WebhookSubscription("id", "http://x", SECRET))


def test_key_generated_once_with_0600(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path, env={})
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path, env={}) == key  # reused, not regenerated
    other = Fernet.generate_key().decode()
    assert load_or_create_key(tmp_path, env={"CTISERVER_SECRET_KEY": other}) == other
    key_file = tmp_path / "k"
    key_file.write_text(other + "\n")
    assert find_key(tmp_path / "nowhere", env={"CTISERVER_SECRET_KEY_FILE": str(key_file)}) == other
    assert find_key(tmp_path / "nowhere", env={}) is None


async def test_api_secret_stored_encrypted_and_used_for_signing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with daemon(tmp_path) as d, aiohttp.ClientSession() as http:
        async with http.post(d.url + "/api/webhooks", headers=d.auth("admin"), json={
            "url": "http://127.0.0.1:9/hook", "secret": SECRET, "types": ["call.*"],
        }) as resp:
            assert resp.status == 201, await resp.text()
            assert SECRET not in await resp.text()
        dispatcher = d.ctx.require(WebhookDispatcher)
        subs = await dispatcher.store.subscriptions()
        assert [s.secret for s in subs] == [SECRET]  # read back (decrypted) for signing
    stored = _stored_secrets(tmp_path / "cti.sqlite")
    assert len(stored) == 1 and is_encrypted(stored[0]) and SECRET not in stored[0]
    key = (tmp_path / KEY_FILE).read_text().strip()
    assert SecretBox(key).decrypt(stored[0]) == SECRET
    assert SECRET not in caplog.text


def _legacy_db(tmp_path: Path) -> Path:
    """A database at the previous revision holding a clear-text secret."""
    db = tmp_path / "cti.sqlite"
    url = f"sqlite+aiosqlite:///{db}"
    migrate.upgrade(url, "cti_0001")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO webhook_subscriptions (id, url, secret, types, active, created_at) "
            "VALUES ('old', 'http://127.0.0.1:9/hook', ?, '[\"*\"]', 1, 0)",
            (SECRET,),
        )
    return db


def test_migration_encrypts_existing_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _legacy_db(tmp_path)
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("CTISERVER_SECRET_KEY", key)
    migrate.upgrade(f"sqlite+aiosqlite:///{db}", "cti_0002")
    (stored,) = _stored_secrets(db)
    assert is_encrypted(stored) and SecretBox(key).decrypt(stored) == SECRET
    migrate.downgrade(f"sqlite+aiosqlite:///{db}", "cti_0001")
    assert _stored_secrets(db) == [SECRET]


async def test_daemon_encrypts_rows_the_migration_could_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CTISERVER_SECRET_KEY", raising=False)
    monkeypatch.delenv("CTISERVER_SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("CTISERVER_DATA_DIR", str(tmp_path / "no-key-here"))
    db = await asyncio.to_thread(_legacy_db, tmp_path)
    async with daemon(tmp_path) as d:  # migrates to heads (no key found), then encrypts at start
        subs = await d.ctx.require(WebhookDispatcher).store.subscriptions()
        assert [s.secret for s in subs] == [SECRET]
    (stored,) = _stored_secrets(db)
    assert is_encrypted(stored)
    assert SecretBox((tmp_path / KEY_FILE).read_text().strip()).decrypt(stored) == SECRET
