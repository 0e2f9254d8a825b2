"""Shared helpers for the security tests: the webhook servers and the Django settings."""

from __future__ import annotations

import sys
from pathlib import Path

from django_test_settings import configure

configure()  # before test_security_django imports django.test

TESTS = Path(__file__).resolve().parents[1]
for folder in ("webhooks", "djangoapp"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))
