"""The `ctiserver` command line.

Each sub-command lives in its own module of this package and exposes ``register(subparsers)``, which adds an
argparse sub-parser whose ``func`` default is ``Callable[[argparse.Namespace], int]``. New commands are added by
creating a module and listing it in ``COMMANDS``; modules that are not present yet are skipped.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: tuple[str, ...] = (
    "run",  # the daemon
    "replay",  # feed an AMI capture through the codec / tracker / KPIs
    "sim",  # the Asterisk simulator, standalone
    "ivr",  # ivr check / simulate / graph
    "kpi",  # historical KPI reports
    "erlang",  # staffing
    "db",  # migrations
    "token",  # API tokens
    "dialplan",  # render dialplan templates
    "demo",  # the demo: daemon + simulator + traffic
    "testcall",  # a real SIP test call against a real PBX
    "dialer",  # campaigns, lists, DNC
    "recording",  # recording retention/purge
    "privacy",  # a person's right to erasure
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ctiserver", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"ctiserver.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"ctiserver.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
