"""The webhook inbox as a task of Django's Tasks framework.

``django.tasks`` on Django 6; the ``django-tasks`` backport (``pip install
"ams-billing[tasks]"``) on Django 5.2. Importing this module without either raises
:class:`ImportError`. With ``AMS_BILLING_WEBHOOK_PROCESSING`` ``"task"`` (or ``"auto"`` and a
backend that runs tasks in a worker) the webhook view enqueues :data:`process_webhook_inbox`
after keeping each delivery; a worker of the backend (``manage.py db_worker`` for the database
backend) runs it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

try:
    from django.tasks import task  # Django 6
except ImportError:  # pragma: no cover - depends on the Django installed
    from django_tasks import task  # type: ignore[no-redef]  # the backport, for Django 5.2

from ams_billing.contrib.django.service import get_billing_service
from ams_billing.contrib.django.stores import DjangoWebhookInbox
from ams_billing.core.webhooks import drain_inbox

__all__ = ["RETRY_AFTER", "enqueue_processing", "process_webhook_inbox"]

RETRY_AFTER = timedelta(seconds=60)
"""After a failed batch, when the task runs again (on backends that can defer a task)."""

logger = logging.getLogger("ams_billing.webhooks")


@task()
def process_webhook_inbox() -> dict[str, int]:
    """Process every delivery the inbox holds that no other worker holds; return the counts.

    Enqueued once per delivery: the first run takes what is there, later ones find less or
    nothing. After a failed batch (Xero down, a listener failing), its entries wait in the
    inbox and, where the backend can defer, the task is enqueued again in :data:`RETRY_AFTER`.
    """
    result = drain_inbox(get_billing_service(), DjangoWebhookInbox())
    if result.failed:
        logger.warning("process_webhook_inbox: a batch failed; its entries wait for a retry")
        backend = process_webhook_inbox.get_backend()
        if backend.supports_defer:
            process_webhook_inbox.using(run_after=timezone.now() + RETRY_AFTER).enqueue()
    return {"processed": result.processed, "failed": result.failed}


def enqueue_processing() -> None:
    """Enqueue :data:`process_webhook_inbox` on its backend."""
    process_webhook_inbox.enqueue()
