"""``systemd/ctiserver.service``: valid for Debian 12's systemd (every key known: ``systemd-analyze verify``
only warns about unknown ones, so its warnings fail the test), and the daemon run exactly as the unit runs it —
its working directory, a clean environment made of the unit's ``Environment=`` and the ``EnvironmentFile=``
of ``systemd/env.example`` (the AMI secret from a file) — logs in to the PBX and stops cleanly (exit 0) on the
unit's ``KillSignal`` within its ``TimeoutStopSec``."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "ctiserver.service"
ENV_EXAMPLE = ROOT / "systemd" / "env.example"
INSTALLED = "/opt/ctiserver/.venv/bin/ctiserver"
HERE = str(Path(sys.executable).parent / "ctiserver")


def _service() -> list[tuple[str, str]]:
    """The ``[Service]`` section's (key, value) lines, in order."""
    out: list[tuple[str, str]] = []
    section = ""
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            out.append((key.strip(), value.strip()))
    return out


def _one(key: str) -> str:
    [value] = [v for k, v in _service() if k == key]
    return value


def _seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+)\s*(s|min)?", value)
    assert m, value
    return float(m.group(1)) * (60 if m.group(2) == "min" else 1)


def test_the_unit_is_valid_for_this_systemd(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (make test installs the systemd package)")
    unit = tmp_path / "ctiserver.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALLED, HERE), encoding="utf-8")
    r = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    ours = [line for line in (r.stdout + r.stderr).splitlines() if "ctiserver.service" in line]
    assert r.returncode == 0 and not ours, r.stdout + r.stderr


def test_the_unit_runs_the_installed_daemon_stops_it_gently_and_keeps_secrets_out_of_it() -> None:
    service = dict(_service())
    assert _one("ExecStart") == f"{INSTALLED} run"
    assert _one("KillSignal") == "SIGTERM" and service["Restart"] == "on-failure"
    assert _seconds(_one("TimeoutStopSec")) >= 30  # the stop flushes facts and checkpoints calls
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["User"] == "ctiserver"
    assert not any("SECRET=" in v or "PASSWORD=" in v for k, v in _service() if k == "Environment")


def _env_file(tmp_path: Path, secret: str) -> dict[str, str]:
    """``systemd/env.example`` as an admin fills it in: its ``*_FILE`` paths moved under ``tmp_path``."""
    env: dict[str, str] = {}
    for raw in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        target = tmp_path / value.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(secret + "\n", encoding="utf-8")
        target.chmod(0o640)
        env[key] = str(target)
    assert "CTISERVER_PBX__AMI__SECRET_FILE" in env
    return env


async def _line(proc: asyncio.subprocess.Process, text: str, out: list[str]) -> None:
    assert proc.stdout is not None
    async with asyncio.timeout(60):
        while text not in (line := (await proc.stdout.readline()).decode()):
            assert line, "the daemon exited:\n" + "".join(out)
            out.append(line)
    out.append(line)


async def test_the_daemon_runs_and_stops_as_the_unit_runs_it(tmp_path: Path) -> None:
    unit_env = dict(v.split("=", 1) for k, v in _service() if k == "Environment")
    state = tmp_path / _one("WorkingDirectory").lstrip("/")
    state.mkdir(parents=True)
    async with Simulator(SimConfig()) as sim:
        c = sim.config
        config = tmp_path / unit_env["CTISERVER_CONFIG"].lstrip("/")
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            f"pbx:\n  ami: {{host: {c.host}, port: {sim.ami_port}, username: {c.ami_user}}}\n"
            "api: {port: 0}\n",
            encoding="utf-8",
        )
        env = {"PATH": os.defpath, **unit_env, "CTISERVER_CONFIG": str(config), **_env_file(tmp_path, c.ami_secret)}
        argv = _one("ExecStart").replace(INSTALLED, HERE).split()
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=state, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out: list[str] = []
        try:
            await _line(proc, "ami link up", out)  # the secret from its file: logged in
            await _line(proc, "ctiserver started", out)
            proc.send_signal(getattr(signal, _one("KillSignal")))
            async with asyncio.timeout(_seconds(_one("TimeoutStopSec"))):
                rest, _ = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        log = "".join(out) + rest.decode()
        assert proc.returncode == 0, log
        assert "ctiserver stopping" in log
        assert c.ami_secret not in log
        assert (state / "var").is_dir()  # the relative data_dir is the state directory's
