"""Stripe's error object (§6.2) and the exception handlers raise to answer with one.

Body: ``{"error": {"type", "code", "message", "param", "doc_url", "request_log_url"}}``, keys
with no value left out, as Stripe does. ``type`` is one of ``invalid_request_error``,
``idempotency_error``, ``api_error``, ``card_error``. ``replayable`` says whether the answer is
kept under the request's ``Idempotency-Key`` (§5: answers produced once the endpoint ran are;
parameter-validation failures, 401s and 429s are not).
"""

from __future__ import annotations

from typing import Any

__all__ = ["INVALID_REQUEST", "StripeError", "error_body", "missing", "param_invalid", "unknown"]

INVALID_REQUEST = "invalid_request_error"


def error_body(
    *,
    type_: str,
    message: str,
    request_id: str,
    code: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    """The JSON body of an error answer."""
    error: dict[str, Any] = {"type": type_, "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
    return {"error": error}


class StripeError(Exception):
    """Raised inside the emulator to answer with Stripe's error object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = INVALID_REQUEST,
        code: str | None = None,
        param: str | None = None,
        replayable: bool = True,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.replayable = replayable
        self.headers = headers

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON body for this error."""
        return error_body(
            type_=self.type,
            message=self.message,
            request_id=request_id,
            code=self.code,
            param=self.param,
        )


def missing(param: str) -> StripeError:
    """A required parameter is absent (not kept under an idempotency key)."""
    return StripeError(
        400,
        f"Missing required param: {param}.",
        code="parameter_missing",
        param=param,
        replayable=False,
    )


def unknown(param: str) -> StripeError:
    """A parameter the endpoint does not take."""
    return StripeError(
        400,
        f"Received unknown parameter: {param}",
        code="parameter_unknown",
        param=param,
        replayable=False,
    )


def param_invalid(param: str, message: str, code: str | None = None) -> StripeError:
    """A parameter with a value of the wrong form."""
    return StripeError(400, message, code=code, param=param, replayable=False)
