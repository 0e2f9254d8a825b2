"""Policies that apply to every provider, written as pluggy plugins around the operations.

A policy that may stop an operation answers *first* (``tryfirst=True``): for a
``firstresult`` hook, a non-``None`` answer is the result and the provider is never called;
``None`` lets the call through. A policy that only observes is a *wrapper* (``wrapper=True``)
and sees every call's outcome. Both work unchanged for every provider.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Generator

from ams_billing.core.hookspecs import hookimpl
from ams_billing.core.models import EmailSkipReason, Invoice, InvoiceEmailResult

__all__ = ["AuditLogPolicy", "EmailSwitchPolicy", "EmailWhitelistPolicy"]

logger = logging.getLogger("ams_billing.audit")


class EmailSwitchPolicy:
    """Sends no invoice email at all while ``enabled`` is false (e.g. on a Demo Company)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __repr__(self) -> str:
        return f"EmailSwitchPolicy(enabled={self.enabled!r})"

    @hookimpl(tryfirst=True)
    def send_invoice(self, invoice: Invoice) -> InvoiceEmailResult | None:
        """Skip the email when switched off; otherwise let the next policy or provider decide."""
        if self.enabled:
            return None
        return InvoiceEmailResult(
            invoice_id=invoice.provider_id,
            sent=False,
            recipient=invoice.contact.email,
            skipped_reason=EmailSkipReason.EMAILS_DISABLED,
        )


class EmailWhitelistPolicy:
    r"""Emails only recipients matching ``pattern`` (``AMS_BILLING_EMAIL_WHITELIST_REGEX``).

    The pattern is searched anywhere in the address, so ``@example\\.org$`` admits every
    address at example.org. A recipient the policy cannot see (no email on the invoice's
    contact) is not emailed either: the policy cannot vouch for it.
    """

    def __init__(self, pattern: re.Pattern[str] | str) -> None:
        self.pattern = re.compile(pattern) if isinstance(pattern, str) else pattern

    def __repr__(self) -> str:
        return f"EmailWhitelistPolicy(pattern={self.pattern.pattern!r})"

    @hookimpl(tryfirst=True)
    def send_invoice(self, invoice: Invoice) -> InvoiceEmailResult | None:
        """Skip recipients the pattern does not admit."""
        recipient = invoice.contact.email
        if recipient and self.pattern.search(recipient):
            return None
        reason = (
            EmailSkipReason.RECIPIENT_NOT_WHITELISTED if recipient else EmailSkipReason.NO_RECIPIENT
        )
        return InvoiceEmailResult(
            invoice_id=invoice.provider_id, sent=False, recipient=recipient, skipped_reason=reason
        )


class AuditLogPolicy:
    """Logs each operation's name, outcome and duration, never its arguments or results.

    Arguments can carry personal data and results provider ids; neither is needed to see
    what the billing layer did and how long it took.
    """

    def __init__(self, logger_: logging.Logger | None = None) -> None:
        self.logger = logger_ or logger

    def _observe(self, operation: str) -> Generator[None, object, object]:
        started = time.perf_counter()
        try:
            result = yield
        except Exception as error:
            self.logger.info(
                "%s failed with %s after %.1f ms",
                operation,
                type(error).__name__,
                (time.perf_counter() - started) * 1000,
            )
            raise
        self.logger.debug("%s ok in %.1f ms", operation, (time.perf_counter() - started) * 1000)
        return result

    @hookimpl(wrapper=True)
    def create_contact(self) -> Generator[None, object, object]:
        """Observe ``create_contact``."""
        return (yield from self._observe("create_contact"))

    @hookimpl(wrapper=True)
    def create_invoice(self) -> Generator[None, object, object]:
        """Observe ``create_invoice``."""
        return (yield from self._observe("create_invoice"))

    @hookimpl(wrapper=True)
    def send_invoice(self) -> Generator[None, object, object]:
        """Observe ``send_invoice``."""
        return (yield from self._observe("send_invoice"))

    @hookimpl(wrapper=True)
    def void_invoice(self) -> Generator[None, object, object]:
        """Observe ``void_invoice``."""
        return (yield from self._observe("void_invoice"))
