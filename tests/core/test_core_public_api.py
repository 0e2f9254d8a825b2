"""The public API is what ``ams.billing`` exports; pin it so changes are deliberate."""

from __future__ import annotations

import inspect

import ams.billing

EXPECTED = {
    "ENTRY_POINT_GROUP", "AmountType", "AuditLogPolicy", "AuthenticationError", "BatchItem",
    "BatchOutcome", "BatchResult", "BillingError",
    "BillingService", "Capability", "ChangeKind", "ConfigurationError", "Contact",
    "ContactRecord", "EmailSkipReason", "EmailSwitchPolicy", "EmailWhitelistPolicy",
    "EventCategory", "EventType", "FieldError", "IdempotencyConflictError",
    "InMemoryInvoiceStateStore", "InvalidStateError", "Invoice", "InvoiceChange",
    "InvoiceEmailResult", "InvoiceLine", "InvoiceRequest", "InvoiceSnapshot", "InvoiceStateStore",
    "InvoiceStatus", "LineItem", "NotFoundError", "ProviderNotFoundError",
    "ProviderUnavailableError", "RateLimitedError", "ServiceSettings",
    "UnsupportedOperationError", "ValidationError", "WebhookDelivery", "WebhookEvent",
    "WebhookResponse", "WebhookVerificationError", "__version__", "available_providers",
    "hookimpl", "load_provider", "load_service", "resolve_provider_class",
}  # fmt: skip


def test_all_is_pinned() -> None:
    assert set(ams.billing.__all__) == EXPECTED
    assert len(ams.billing.__all__) == len(EXPECTED), "duplicates in __all__"


def test_every_exported_name_exists_and_is_documented() -> None:
    for name in ams.billing.__all__:
        value = getattr(ams.billing, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name} has no docstring"


def test_ams_is_a_namespace_package() -> None:
    import ams

    assert getattr(ams, "__file__", None) is None, "ams must not have an __init__.py"


def test_package_ships_py_typed() -> None:
    from importlib.resources import files

    assert files("ams.billing").joinpath("py.typed").is_file()
