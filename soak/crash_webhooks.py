"""A crash-soak webhook server process: the documented endpoint over the durable inbox.

Started (and ``SIGKILL``-ed, and started again) by ``crash_soak.py``::

    python soak/crash_webhooks.py --url URL --port-file PATH

Serves, on a loopback port it writes to ``PATH`` once listening::

    WebhookWSGIApp(WebhookEndpoint(service, on_delivery=BackgroundProcessor(service,
                                                                            inbox=stores.inbox).submit))

with ``service = load_durable_service(stores, listeners=[DbListener()])``. The processor
lingers a second after each delivery before it processes (a slow listener): the supervisor
kills the server in that second, after Xero's 200, so acknowledged deliveries wait in the
inbox for the next server (which drains the inbox when it starts) or ``ams-billing webhooks
drain``. Runs until killed, its supervisor (``--parent``) is gone, or ``--lifetime`` seconds
at most.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from crash_tables import DbListener

from ams_billing import load_durable_service
from ams_billing.contrib.webhooks import WebhookEndpoint, WebhookWSGIApp
from ams_billing.contrib.webhooks.server import serve_wsgi
from ams_billing.core.webhooks import BackgroundProcessor
from ams_billing.stores import open_stores

LINGER = 1.0
"""Seconds between a delivery's 200 and its processing: the window the supervisor kills in."""

LEASE_SECONDS = 3.0
"""How long entries a killed server had claimed wait before another server may take them."""


def main(argv: list[str] | None = None) -> int:
    """Serve until killed (or ``--lifetime`` runs out)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--port-file", required=True, type=Path)
    parser.add_argument("--lifetime", type=float, default=900.0)
    parser.add_argument("--parent", type=int, help="stop when this process is gone")
    args = parser.parse_args(argv)
    with open_stores(args.url, upgrade=False) as stores:
        service = load_durable_service(stores, listeners=[DbListener(stores.engine)])
        processor = BackgroundProcessor(
            service,
            inbox=stores.inbox,
            linger=LINGER,
            lease_seconds=LEASE_SECONDS,
            retry_interval=0.5,
        )
        app = WebhookWSGIApp(WebhookEndpoint(service, on_delivery=processor.submit))
        with serve_wsgi(app) as base_url:
            # What a killed predecessor acknowledged but never processed: take it up now.
            processor.drain(timeout=0)
            partial = args.port_file.with_suffix(".tmp")
            partial.write_text(base_url.rsplit(":", 1)[1])
            partial.replace(args.port_file)
            end = time.monotonic() + args.lifetime
            while time.monotonic() < end and os.getppid() == (args.parent or os.getppid()):
                time.sleep(0.5)
        processor.close()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
