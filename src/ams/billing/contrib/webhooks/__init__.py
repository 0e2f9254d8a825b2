"""Framework-neutral webhook endpoints (WSGI and ASGI) and background processing.

::

    from ams.billing import load_service
    from ams.billing.contrib.webhooks import BackgroundProcessor, WebhookEndpoint, WebhookWSGIApp

    billing = load_service(listeners=[MyMemberships()])
    processor = BackgroundProcessor(billing)
    app = WebhookWSGIApp(WebhookEndpoint(billing, on_delivery=processor.submit))
"""

from ams.billing.contrib.webhooks.asgi import WebhookASGIApp
from ams.billing.contrib.webhooks.processor import BackgroundProcessor
from ams.billing.contrib.webhooks.request import DEFAULT_MAX_BODY_BYTES, WebhookEndpoint
from ams.billing.contrib.webhooks.wsgi import WebhookWSGIApp

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "BackgroundProcessor",
    "WebhookASGIApp",
    "WebhookEndpoint",
    "WebhookWSGIApp",
]
