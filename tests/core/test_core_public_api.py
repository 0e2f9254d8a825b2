"""The public API is what ``ams_billing`` exports; pin it so changes are deliberate."""

from __future__ import annotations

import inspect

import pytest

import ams_billing

EXPECTED = {
    "ENTRY_POINT_GROUP", "AmountType", "AuditLogPolicy", "AuthenticationError",
    "BackgroundProcessor", "BatchItem", "DrainResult", "drain_inbox",
    "BatchOutcome", "BatchResult", "BillingError",
    "BillingService", "Capability", "ChangeKind", "ConfigurationError", "Contact",
    "ContactRecord", "ContactView", "ProviderBehaviour", "TaxModel", "WebhookBehaviour",
    "EmailSkipReason", "EmailSwitchPolicy", "EmailWhitelistPolicy",
    "EventCategory", "EventType", "FieldError", "IdempotencyConflictError",
    "IdempotentCalls", "InMemoryInvoiceStateStore", "InvalidStateError", "Invoice", "InvoiceChange",
    "InvoiceDefaults",
    "InvoiceEmailResult", "InvoiceLine", "InvoiceRequest", "InvoiceSnapshot", "InvoiceStateStore",
    "InvoiceStatus", "LineItem", "NotFoundError", "Outcome", "OutcomeCodec",
    "ProviderNotFoundError",
    "ProviderUnavailableError", "RateLimitedError", "ServiceSettings",
    "UnsupportedOperationError", "ValidationError", "WebhookDelivery", "WebhookEvent",
    "WebhookResponse", "WebhookVerificationError", "__version__", "available_providers",
    "hookimpl", "json_codec", "load_durable_service", "load_provider", "load_service",
    "resolve_provider_class",
}  # fmt: skip


def test_all_is_pinned() -> None:
    assert set(ams_billing.__all__) == EXPECTED
    assert len(ams_billing.__all__) == len(EXPECTED), "duplicates in __all__"


def test_every_exported_name_exists_and_is_documented() -> None:
    for name in ams_billing.__all__:
        value = getattr(ams_billing, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name} has no docstring"


def test_the_distribution_ships_no_top_level_ams_package() -> None:
    """The AMS owns the name ``ams``; every file we install lives under ``ams_billing``."""
    from importlib.metadata import distribution

    files = distribution("ams-billing").files or []
    tops = {f.parts[0] for f in files if f.suffix == ".py" or f.name == "py.typed"}
    if not tops:
        pytest.skip("an editable install lists no files; nox runs this on the wheel")
    assert tops == {"ams_billing"}, tops
    with pytest.raises(ModuleNotFoundError):
        __import__("ams")


def test_package_ships_py_typed() -> None:
    from importlib.resources import files

    assert files("ams_billing").joinpath("py.typed").is_file()


PROVIDER_EXPORTS = {
    "ams_billing.providers.fake": {"SIGNATURE_HEADER", "FakeBooks", "FakePayment", "FakeProvider"},
    "ams_billing.providers.xero": {
        "DEFAULT_API_URL", "DEFAULT_IDENTITY_URL", "SIGNATURE_HEADER", "IdempotencyRecord",
        "IdempotencyStore", "InMemoryIdempotencyStore", "RecordState", "Secret", "XeroProvider",
        "XeroSettings",
    },
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(PROVIDER_EXPORTS))
def test_the_providers_exports_are_pinned(module: str) -> None:
    """Providers are ``*Provider``; ``BillingService`` is only ever the facade (issue 18)."""
    import importlib

    exported = importlib.import_module(module).__all__
    assert set(exported) == PROVIDER_EXPORTS[module]
    assert not [name for name in exported if name.endswith("BillingService")]
