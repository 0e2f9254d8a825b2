"""Serve the emulator on loopback: ``python -m ams_billing.emulators.xero``.

Prints the environment variables to export so a local AMS (or the demo) talks to it, then
serves until Ctrl-C, SIGTERM or SIGHUP, and deletes its throwaway database folder as it stops
(exit 0). Time runs in real time (``--scale`` speeds it up); webhooks are delivered by a
background thread when ``--webhook-url`` is given. ``ams-billing emulator`` is the same
server, through the same :func:`~.foreground.serve_in_foreground`.
"""

from __future__ import annotations

import argparse
import sys

from .foreground import Announcement, CannotServeError, EmulatorOptions, serve_in_foreground

__all__ = ["main"]


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not above 0")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ams_billing.emulators.xero",
        description="Run a local Xero emulator on a loopback port; stop it with Ctrl-C, "
        "SIGTERM or SIGHUP.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--seed", type=int, default=0, help="seeds ids and behaviour (default 0)")
    parser.add_argument("--demo-company", action="store_true", help="emulate a Demo Company")
    parser.add_argument("--granular", action="store_true", help="granular scopes (post Apr 2026)")
    parser.add_argument("--no-rate-limits", action="store_true", help="switch rate limits off")
    parser.add_argument(
        "--scale", type=_positive, default=1.0, help="speed up time by this factor (default 1)"
    )
    parser.add_argument("--currency", action="append", default=[], help="extra currency code")
    parser.add_argument("--webhook-url", help="deliver webhooks to this URL")
    parser.add_argument(
        "--webhook-interval",
        type=_positive,
        default=2.0,
        help="seconds between webhook deliveries (default 2)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve until a stop signal, clean up; 0 when stopped, 2 on bad usage."""
    parser = _parser()
    args = parser.parse_args(argv)
    options = EmulatorOptions(
        host=args.host,
        port=args.port,
        seed=args.seed,
        demo_company=args.demo_company,
        granular=args.granular,
        rate_limits=not args.no_rate_limits,
        scale=args.scale,
        currencies=tuple(args.currency),
        webhook_url=args.webhook_url,
        webhook_interval=args.webhook_interval,
    )
    try:
        serve_in_foreground(options, _print, stopped=_say_stopping)
    except CannotServeError as error:
        parser.error(str(error))
    return 0


def _print(announcement: Announcement) -> None:
    print("\n".join(announcement.lines()), flush=True)


def _say_stopping(reason: str) -> None:
    print(f"stopping ({reason})", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
