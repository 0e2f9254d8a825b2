"""Django integration: the Xero webhook view, settings from Django, and a change signal.

Add ``"ams_billing.contrib.django"`` to ``INSTALLED_APPS`` and
``path("", include("ams_billing.contrib.django.urls"))`` to the URLconf; the webhook answers at
``billing/xero/webhooks/``. Connect to :data:`~ams_billing.contrib.django.signals.invoice_changed`
to mark memberships paid. The service comes from :func:`get_billing_service`, configured from
Django settings, falling back to the environment, under the setup guide's variable names.
Once ``manage.py migrate`` has made its tables, the service keeps idempotency keys, invoice
state and webhook deliveries in the database (:mod:`~ams_billing.contrib.django.stores`);
``manage.py ams_billing_drain`` and the task
:data:`~ams_billing.contrib.django.tasks.process_webhook_inbox` process the deliveries.
"""
