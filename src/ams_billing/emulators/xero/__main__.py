"""Serve the emulator on loopback: ``python -m ams_billing.emulators.xero``.

Prints the environment variables to export so a local AMS (or the demo) talks to it, then
serves until interrupted. Time runs in real time (``--scale`` speeds it up); webhooks are
delivered by a background thread when ``--webhook-url`` is given.
"""

from __future__ import annotations

import argparse
import sys
import threading

from .app import XeroEmulator
from .clock import EmulatorClock
from .config import BROAD_SCOPES, GRANULAR_SCOPES, EmulatorConfig
from .exports import provider_environment, throwaway_database
from .server import EmulatorServer

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ams_billing.emulators.xero",
        description="Run a local Xero emulator on a loopback port.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--demo-company", action="store_true", help="emulate a Demo Company")
    parser.add_argument("--granular", action="store_true", help="granular scopes (post Apr 2026)")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0, help="speed up time by this factor")
    parser.add_argument("--currency", action="append", default=[], help="extra currency code")
    parser.add_argument("--webhook-url", help="deliver webhooks to this URL")
    parser.add_argument("--webhook-interval", type=float, default=2.0)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start the server and block until Ctrl-C."""
    args = _parser().parse_args(argv)
    config = EmulatorConfig(
        seed=args.seed,
        is_demo_company=args.demo_company,
        scopes=GRANULAR_SCOPES if args.granular else BROAD_SCOPES,
        rate_limits=not args.no_rate_limits,
        currencies=("NZD", *(c.upper() for c in args.currency)),
    )
    emulator = XeroEmulator(config, clock=EmulatorClock.real(scale=args.scale))
    if args.webhook_url:
        emulator.set_webhook_target(args.webhook_url)
    server = EmulatorServer(
        emulator,
        args.host,
        args.port,
        webhook_interval=args.webhook_interval if args.webhook_url else None,
    )
    with server, throwaway_database() as database:
        base = server.base_url
        print("# Xero emulator running; export these (fake credentials, and billing state in a")
        print("# throwaway SQLite file of this emulator's own, deleted when it stops):")
        for name, value in provider_environment(config, base, database_url=database).items():
            print(f"export {name}={value}")
        print(f"# control surface: {base}/_emulator/calls  (Ctrl-C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
