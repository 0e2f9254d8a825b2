from __future__ import annotations

import inspect

import pytest

import ams_billing as billing
from ams_billing import (
    BillingError,
    ConfigurationError,
    FieldError,
    IdempotencyConflictError,
    ProviderNotFoundError,
    RateLimitedError,
    ValidationError,
)
from ams_billing.core import errors


def test_every_error_class_is_a_billing_error_and_is_drawn_in_the_docstring() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, Exception)
    ]
    assert len(classes) >= 11
    doc = errors.__doc__ or ""
    for cls in classes:
        assert issubclass(cls, BillingError)
        assert cls.__name__ in doc, f"{cls.__name__} is missing from the tree in the docstring"
        assert getattr(billing, cls.__name__) is cls


def test_validation_error_names_fields_and_is_a_value_error() -> None:
    error = ValidationError([FieldError("line_items[0].quantity", "is negative", "use 1")])
    assert isinstance(error, ValueError)
    assert error.fields == ("line_items[0].quantity",)
    assert "line_items[0].quantity: is negative (use 1)" in str(error)


def test_configuration_error_lists_every_problem() -> None:
    error = ConfigurationError(
        "xero is not configured", [FieldError("A", "is not set"), FieldError("B", "is bad")]
    )
    assert error.errors[1].field == "B"
    assert "A: is not set" in str(error)
    assert "B: is bad" in str(error)


def test_provider_not_found_lists_installed_names_sorted() -> None:
    error = ProviderNotFoundError("nope", "not installed", ["xero", "fake"])
    assert error.available == ("fake", "xero")
    assert "fake, xero" in str(error)
    assert isinstance(error, ConfigurationError)


def test_rate_limited_and_conflict_carry_context() -> None:
    assert RateLimitedError("slow down", retry_after=30, limit="minute").retry_after == 30
    conflict = IdempotencyConflictError("key-1")
    assert conflict.idempotency_key == "key-1"
    assert conflict.fields == ("idempotency_key",)
    with pytest.raises(ValidationError):
        raise conflict
