"""A URLconf shaped like the AMS's after its migration: ``billing/`` with namespace ``billing``."""

from django.urls import include, path

billing = ([path("", include("ams_billing.contrib.ams.urls"))], "billing")
urlpatterns = [path("billing/", include(billing, namespace="billing"))]
