"""Framework-neutral webhook endpoints: WSGI and ASGI apps, and a small server for them.

::

    from ams_billing import BackgroundProcessor, load_service
    from ams_billing.contrib.webhooks import WebhookEndpoint, WebhookWSGIApp

    billing = load_service(listeners=[MyMemberships()])  # state in the durable stores
    processor = BackgroundProcessor(billing)  # keeps each delivery in billing.inbox before the 200
    app = WebhookWSGIApp(WebhookEndpoint(billing, on_delivery=processor.submit))

These adapters only verify a delivery and hand it on. Processing it (``BackgroundProcessor``,
and ``drain_inbox(billing)`` for a cron job or a worker, ``ams-billing webhooks drain``) is
core behaviour, in :mod:`ams_billing.core.webhooks`; importing those names from here still
works, with a ``DeprecationWarning``.
"""

from ams_billing.contrib.webhooks.asgi import WebhookASGIApp
from ams_billing.contrib.webhooks.request import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_READ_TIMEOUT,
    WebhookEndpoint,
)
from ams_billing.contrib.webhooks.wsgi import WebhookWSGIApp
from ams_billing.core.deprecation import moved

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "WebhookASGIApp",
    "WebhookEndpoint",
    "WebhookWSGIApp",
]

__getattr__ = moved(
    __name__,
    dict.fromkeys(
        ("BackgroundProcessor", "DrainResult", "drain_inbox"), "ams_billing.core.webhooks"
    ),
)
