"""Framework-neutral webhook endpoints (WSGI and ASGI) and background processing.

::

    from ams_billing import load_service
    from ams_billing.contrib.webhooks import BackgroundProcessor, WebhookEndpoint, WebhookWSGIApp

    billing = load_service(listeners=[MyMemberships()])  # state in the durable stores
    processor = BackgroundProcessor(billing)  # keeps each delivery in billing.inbox before the 200
    app = WebhookWSGIApp(WebhookEndpoint(billing, on_delivery=processor.submit))

``drain_inbox(billing)`` processes what the service's inbox holds from a cron job or a worker
(``ams-billing webhooks drain``).
"""

from ams_billing.contrib.webhooks.asgi import WebhookASGIApp
from ams_billing.contrib.webhooks.request import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_READ_TIMEOUT,
    WebhookEndpoint,
)
from ams_billing.contrib.webhooks.wsgi import WebhookWSGIApp
from ams_billing.core.webhooks import BackgroundProcessor, DrainResult, drain_inbox

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "BackgroundProcessor",
    "DrainResult",
    "WebhookASGIApp",
    "WebhookEndpoint",
    "WebhookWSGIApp",
    "drain_inbox",
]
