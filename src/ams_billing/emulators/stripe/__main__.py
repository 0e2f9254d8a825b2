"""Serve the Stripe emulator on loopback: ``python -m ams_billing.emulators.stripe``.

The same server as ``ams-billing emulator --provider stripe``: prints what to export, serves
until Ctrl-C, SIGTERM or SIGHUP, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys

from ams_billing.emulators.xero.foreground import CannotServeError

from .foreground import StripeAnnouncement, StripeOptions, serve_stripe_in_foreground

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve until a stop signal; 0 when stopped, 2 on bad usage."""
    parser = argparse.ArgumentParser(
        prog="python -m ams_billing.emulators.stripe",
        description="Run a local Stripe emulator on a loopback port.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-interval", type=float, default=2.0)
    parser.add_argument("--json", action="store_true", dest="as_json")
    args = parser.parse_args(argv)
    options = StripeOptions(
        host=args.host,
        port=args.port,
        seed=args.seed,
        rate_limits=not args.no_rate_limits,
        scale=args.scale,
        webhook_url=args.webhook_url,
        webhook_interval=args.webhook_interval,
    )

    def announce(announcement: StripeAnnouncement) -> None:
        text = (
            json.dumps(announcement.as_json()) if args.as_json else "\n".join(announcement.lines())
        )
        print(text, flush=True)

    try:
        serve_stripe_in_foreground(
            options,
            announce,
            stopped=lambda reason: print(f"stopping ({reason})", file=sys.stderr, flush=True),
        )
    except CannotServeError as error:
        parser.error(str(error))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
