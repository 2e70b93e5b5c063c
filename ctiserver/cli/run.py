"""``ctiserver run --config FILE``: the daemon."""

from __future__ import annotations

import argparse
import sys
from typing import Any, cast

from ctiserver.config import ConfigError, load_config
from ctiserver.logs import setup_logging
from ctiserver.loop import LoopKind, run_loop


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("run", help="run the daemon")
    p.add_argument("--config", "-c", help="ctiserver.yaml (default: $CTISERVER_CONFIG or built-in defaults)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ctiserver.app import serve

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"ctiserver: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.log_level, config.log_format)
    return run_loop(serve(config), cast(LoopKind, config.event_loop))  # 75: stood down (docs/deploy.md)
