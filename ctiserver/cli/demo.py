"""``ctiserver demo`` (= ``make demo``): a living contact centre on localhost in one command.

SQLite in a fresh folder, the in-process bus, the built-in Asterisk simulator with its traffic generator,
the example IVR scripts, three queues with skills and 12 agents (``ctiserver/web/demo/*.yaml``). Known
callers with Cyrillic and Polish names are put in the built-in CRM and call now and then. Prints the console
URL and ready-made agent / supervisor / admin sign-in links; the visitor is agent 1001 and takes calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ctiserver.config import Config, ConfigError, load_config
from ctiserver.loop import run_loop

DEMO = Path(__file__).resolve().parents[1] / "web" / "demo"
ROOT = Path(__file__).resolve().parents[2]
VISITOR = "1001"


def _scripts_dir() -> Path:
    for candidate in (ROOT / "ivr_scripts", Path.cwd() / "ivr_scripts"):
        if candidate.is_dir():
            return candidate
    return ROOT / "ivr_scripts"


def always_open(text: str) -> str:
    """The demo answers at any hour: every ``weekly:`` block becomes mon-sun 00:00-24:00, no holidays."""
    out: list[str] = []
    skip_deeper_than: int | None = None
    blank = 0
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if skip_deeper_than is not None:
            if not line.strip():
                blank += 1
                continue
            if indent > skip_deeper_than:
                blank = 0
                continue
            skip_deeper_than = None
            out.extend([""] * blank)
        blank = 0
        key = line.strip().split(":", 1)[0]
        if key == "weekly" and line.rstrip().endswith(":"):
            out.append(line)
            out.append(" " * (indent + 2) + 'mon-sun: "00:00-24:00"   # ctiserver demo: always open')
            skip_deeper_than = indent
        elif key == "holidays":
            out.append(" " * indent + "holidays: []")
            skip_deeper_than = indent
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def demo_scripts(data_dir: Path) -> Path:
    """A copy of the example IVR scripts (editable from the admin page without touching the originals)."""
    target = data_dir / "ivr_scripts"
    target.mkdir(exist_ok=True)
    for src in sorted(_scripts_dir().glob("*.y*ml")):
        (target / src.name).write_text(always_open(src.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def demo_config(data_dir: Path, port: int, *, traffic: bool = True, rate: float | None = None) -> Config:
    """The demo configuration (written to ``data_dir/ctiserver.yaml``, then loaded like any other)."""
    data: dict[str, Any] = yaml.safe_load((DEMO / "ctiserver.yaml").read_text(encoding="utf-8"))
    sim: dict[str, Any] = yaml.safe_load((DEMO / "simulator.yaml").read_text(encoding="utf-8"))
    if rate is not None:
        sim["traffic"]["rate_per_s"] = rate
    sim["recordings_dir"] = str(data_dir / "recordings")
    # the simulated PBX runs the dialplan `ctiserver dialplan render` writes for this configuration, as Asterisk would
    sim["dialplan_files"] = [str(data_dir / "extensions_ctiserver.conf")]
    (data_dir / "simulator.yaml").write_text(yaml.safe_dump(sim, allow_unicode=True), encoding="utf-8")
    data["data_dir"] = str(data_dir)
    data["database"] = {
        "url": f"sqlite+aiosqlite:///{data_dir / 'ctiserver.sqlite'}",
        "spool_dir": str(data_dir / "spool"),
    }
    data["api"] = {**data.get("api", {}), "port": port}
    data.setdefault("recording", {})["directory"] = str(data_dir / "recordings")
    data["simulator"] = {
        **data["simulator"],
        "config_file": str(data_dir / "simulator.yaml"),
        "traffic": traffic,
    }
    data.setdefault("ivr", {})["scripts_dir"] = str(demo_scripts(data_dir))
    path = data_dir / "ctiserver.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    config = load_config(path)
    from ctiserver.cli.dialplan import render

    (data_dir / "extensions_ctiserver.conf").write_text(render(config), encoding="utf-8")
    return config


def contacts() -> list[dict[str, Any]]:
    return list(yaml.safe_load((DEMO / "contacts.yaml").read_text(encoding="utf-8")))


async def seed(ctx: Any) -> dict[str, str]:
    """Tokens for the visitor (agent 1001), a supervisor and an admin; the CRM's known callers."""
    from ctiserver.api.auth import Role, new_token
    from ctiserver.api.component import ApiServer
    from ctiserver.crm.model import Interaction
    from ctiserver.crm.store import ContactIn, ContactStore

    api = ctx.require(ApiServer)
    tokens = {}
    for role, agent, name in (
        (Role.AGENT, VISITOR, "demo agent"),
        (Role.SUPERVISOR, None, "demo supervisor"),
        (Role.ADMIN, None, "demo admin"),
    ):
        token, record = new_token(role, agent, name, ctx.clock.now())
        await api.auth.store.add(record)
        tokens[role.value] = token
    store = ctx.maybe(ContactStore)
    if store is not None:
        now = ctx.clock.now()
        for n, c in enumerate(contacts()):
            phones = list(c.pop("phones"))
            history = c.pop("history", [])
            await store.create(ContactIn.model_validate(c), phones)
            for k, past in enumerate(history):
                started = now - float(past.pop("days_ago")) * 86400
                await store.record(
                    Interaction(call_id=f"demo-{n}-{k}", started_at=started, number=phones[0], **past)
                )
    return tokens


async def known_callers(sim: Any, every: float, rng: random.Random, sleep: Callable[[float], Any]) -> None:
    """Now and then a caller from the CRM dials in (the traffic generator's callers are anonymous)."""
    people = contacts()
    while True:
        await sleep(rng.expovariate(1.0 / every))
        who = rng.choice(people)
        did = "101" if who.get("language") in ("ru", "uk") else "100"
        sim.place_call(
            from_number=who["phones"][0],
            from_name=who["name"],
            to=did,
            dtmf=[(4.0, rng.choice("13"))],
            hangup_after=240.0,
        )


def banner(url: str, tokens: dict[str, str], data_dir: Path) -> str:
    return "\n".join(
        [
            "",
            "ctiserver demo is running — a simulated contact centre with live traffic.",
            f"  console:     {url}/",
            f"  you (agent {VISITOR}): {url}/#token={tokens['agent']}",
            f"  supervisor:  {url}/#token={tokens['supervisor']}",
            f"  admin:       {url}/#token={tokens['admin']}",
            f"  data:        {data_dir}  (SQLite, spool)",
            "Open your agent link, press 'Log in', then 'Ready': your simulated phone rings with the",
            "caller's card on screen.",
            "Stop with Ctrl+C.",
            "",
        ]
    )


async def run_demo(
    config: Config,
    data_dir: Path,
    ready: Callable[[str, dict[str, str], Any], None],
    stop: asyncio.Event,
    known_every: float = 20.0,
) -> None:
    from ctiserver.app import running
    from ctiserver.store.standby import StandbyAborted

    try:
        async with running(config, stopping=stop) as ctx:
            await _serve_demo(ctx, config, ready, stop, known_every)
    except* StandbyAborted:  # Ctrl+C while another demo on this --data-dir held it (the log said so)
        pass


async def _serve_demo(
    ctx: Any,
    config: Config,
    ready: Callable[[str, dict[str, str], Any], None],
    stop: asyncio.Event,
    known_every: float,
) -> None:
    from ctiserver.api.component import ApiServer

    tokens = await seed(ctx)
    api = ctx.require(ApiServer)
    try:
        from ctiserver.sim.simulator import Simulator

        sim = ctx.maybe(Simulator)
    except ImportError:  # pragma: no cover
        sim = None
    if sim is not None and config.simulator.traffic:
        ctx.spawn(
            known_callers(sim, known_every, random.Random(config.simulator.seed), ctx.clock.sleep),
            name="cti:demo-callers",
        )
    ready(api.url, tokens, ctx)
    await stop.wait()  # ctx.stopping: Ctrl+C, or a component stopping the daemon


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "demo", help="the demo: daemon + simulator + traffic + console"
    )
    p.add_argument("--port", type=int, default=8080, help="console/API port on 127.0.0.1 (0: any free port)")
    p.add_argument("--data-dir", help="keep data here (default: a fresh temporary folder, removed at exit)")
    p.add_argument("--rate", type=float, help="simulated calls per second (default 0.25)")
    p.add_argument("--no-traffic", action="store_true", help="no generated calls")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ctiserver.logs import setup_logging

    temp = args.data_dir is None
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="ctiserver-demo-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    if args.rate is not None and args.rate <= 0:
        print("ctiserver demo: --rate must be > 0", file=sys.stderr)
        return 2
    try:
        config = demo_config(data_dir, args.port, traffic=not args.no_traffic, rate=args.rate)
    except ConfigError as exc:
        print(f"ctiserver demo: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.log_level, config.log_format)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)

        def ready(url: str, tokens: dict[str, str], _ctx: Any) -> None:
            print(banner(url, tokens, data_dir), flush=True)

        await run_demo(config, data_dir, ready, stop)

    try:
        run_loop(main())
    except OSError as exc:
        print(
            f"ctiserver demo: cannot start: {exc} (is port {args.port} in use? try --port 0)", file=sys.stderr
        )
        return 1
    finally:
        if temp:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0
