"""What an API handler gets: the books, the clock, the request, and response helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import attrs

from ams_billing.emulators.common.clock import EmulatorClock
from ams_billing.emulators.common.messages import EmulatorRequest, EmulatorResponse

from . import wire
from .books import Books
from .config import EmulatorConfig
from .ids import IdFactory
from .query import QueryError, page_params, parse_where

__all__ = [
    "NOT_FOUND_TEXT",
    "ApiError",
    "ElementResult",
    "RequestContext",
    "WebhookEventSpec",
    "batch_response",
    "json_response",
    "text_response",
]

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"
JSON_TYPE = "application/json; charset=utf-8"


def json_response(status: int, body: Any, correlation_id: str) -> EmulatorResponse:
    """A JSON response carrying the ``Xero-Correlation-Id`` header."""
    return EmulatorResponse(
        status=status,
        headers=(("Content-Type", JSON_TYPE), ("Xero-Correlation-Id", correlation_id)),
        body=wire.dumps(body),
    )


def text_response(status: int, text: str, correlation_id: str) -> EmulatorResponse:
    """A plain-text response (Xero's 404 and 503 bodies are plain text)."""
    return EmulatorResponse(
        status=status,
        headers=(
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Xero-Correlation-Id", correlation_id),
        ),
        body=text.encode(),
    )


class ApiError(Exception):
    """Raised by a handler to answer with ``response`` instead of continuing."""

    def __init__(self, response: EmulatorResponse) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


@attrs.frozen
class WebhookEventSpec:
    """A change that should produce a webhook event."""

    category: str
    event_type: str
    resource_id: str


@attrs.frozen
class ElementResult:
    """The outcome of one element of a PUT/POST batch: its JSON and its errors."""

    body: dict[str, Any]
    errors: tuple[str, ...] = ()


@attrs.define
class RequestContext:
    """Per-request view of the emulator handed to the API handlers."""

    books: Books
    config: EmulatorConfig
    clock: EmulatorClock
    ids: IdFactory
    request: EmulatorRequest
    correlation_id: str
    is_demo_company: bool
    now: datetime
    events: list[WebhookEventSpec] = attrs.field(factory=list)
    _query: dict[str, str] | None = None

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (case-sensitive names, as Xero documents them)."""
        if self._query is None:
            self._query = self.request.query
        return self._query

    def today(self) -> date:
        """The organisation's current date."""
        return self.now.date()

    def emit(self, category: str, event_type: str, resource_id: str) -> None:
        """Queue a webhook event, sent only if the request completes."""
        self.events.append(WebhookEventSpec(category, event_type, resource_id))

    def flag(self, name: str) -> bool:
        """Read a boolean query parameter (``true``/``false``, case-insensitive)."""
        return self.query.get(name, "").strip().lower() == "true"

    @property
    def summarize_errors(self) -> bool:
        """``summarizeErrors``; absent means summarised (the server's real default)."""
        return self.query.get("summarizeErrors", "true").strip().lower() != "false"

    @property
    def unit_dp(self) -> int:
        """Decimal places kept on ``UnitAmount`` (``unitdp=4`` opts into 4)."""
        return 4 if self.query.get("unitdp", "").strip() == "4" else 2

    def ok(
        self,
        key: str,
        items: Sequence[Any],
        pagination: Mapping[str, int] | None = None,
    ) -> EmulatorResponse:
        """A 200 response with the standard envelope."""
        body = wire.envelope(
            self.correlation_id,
            self.config.provider_name,
            self.now,
            key,
            items,
            pagination=pagination,
        )
        return json_response(200, body, self.correlation_id)

    def bad_request(self, message: str, elements: Sequence[Mapping[str, Any]] = ()) -> ApiError:
        """A 400 ``ValidationException`` to raise."""
        body = wire.validation_exception(elements)
        if not elements:
            body["Elements"] = [{"ValidationErrors": [{"Message": message}]}]
        return ApiError(json_response(400, body, self.correlation_id))

    def query_error(self, message: str) -> ApiError:
        """A 400 for an unparseable query (``QueryParseException``; wording [U])."""
        body = wire.validation_exception(
            message=message, error_number=16, error_type="QueryParseException"
        )
        return ApiError(json_response(400, body, self.correlation_id))

    def not_found(self) -> ApiError:
        """Xero's plain-text 404 to raise."""
        return ApiError(text_response(404, NOT_FOUND_TEXT, self.correlation_id))

    def json_body(self) -> Any:
        """Parse the request body; a malformed body is a 400."""
        try:
            return wire.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise self.bad_request(f"The request body could not be parsed as JSON: {exc}") from exc

    def elements(self, key: str) -> list[Any]:
        """The elements of a batch body: ``{"<key>": [...]}`` or a single bare object."""
        body = self.json_body()
        if isinstance(body, Mapping) and key in body:
            items = body[key]
            if not isinstance(items, list):
                raise self.bad_request(f"{key} must be an array")
            return items
        if isinstance(body, list):
            return body
        if isinstance(body, Mapping) and body:
            return [body]
        raise self.bad_request(f"The request body must contain {key}")

    def filtered(
        self, records: Sequence[dict[str, Any]], where_param: str = "where"
    ) -> list[dict[str, Any]]:
        """Apply ``where`` to already-serialised records."""
        expression = self.query.get(where_param, "").strip()
        if not expression:
            return list(records)
        try:
            predicate = parse_where(expression)
        except QueryError as exc:
            raise self.query_error(str(exc)) from exc
        return [r for r in records if predicate(r)]

    def modified_since(self) -> datetime | None:
        """The ``If-Modified-Since`` header as UTC, if sent."""
        raw = self.request.header("if-modified-since")
        if not raw:
            return None
        try:
            return wire.parse_http_datetime(raw)
        except ValueError as exc:
            raise self.bad_request(f"If-Modified-Since {raw!r} is not a valid date") from exc

    def paging(self, force: bool = False) -> tuple[int, int] | None:
        """``(page, pageSize)`` if the request pages (``force`` pages from page 1)."""
        query = dict(self.query)
        if force and "page" not in query:
            query["page"] = "1"
        try:
            return page_params(query, self.config.default_page_size, self.config.max_page_size)
        except QueryError as exc:
            raise self.query_error(str(exc)) from exc

    def id_list(self, name: str) -> list[str] | None:
        """A comma-separated list parameter (``IDs``, ``Statuses``...), if present."""
        raw = self.query.get(name)
        if raw is None:
            return None
        return [part.strip() for part in raw.split(",") if part.strip()]


def batch_response(
    ctx: RequestContext, key: str, results: Sequence[ElementResult], has_errors_field: str
) -> EmulatorResponse:
    """Answer a PUT/POST batch the way Xero does for the given ``summarizeErrors``.

    Summarised (default): any failure makes the whole answer a 400 listing only the failed
    elements, although the valid ones were created. ``summarizeErrors=false``: 200 with every
    element marked ``StatusAttributeString`` OK or ERROR.
    """
    failed = [r for r in results if r.errors]
    if ctx.summarize_errors:
        if failed:
            elements = []
            for result in failed:
                element = dict(result.body)
                element[has_errors_field] = True
                element["ValidationErrors"] = [{"Message": m} for m in result.errors]
                elements.append(element)
            body = wire.validation_exception(elements)
            return json_response(400, body, ctx.correlation_id)
        return ctx.ok(key, [r.body for r in results])
    items = []
    for result in results:
        element = dict(result.body)
        if result.errors:
            element[has_errors_field] = True
            element["StatusAttributeString"] = "ERROR"
            element["ValidationErrors"] = [{"Message": m} for m in result.errors]
        else:
            element["StatusAttributeString"] = "OK"
        items.append(element)
    return ctx.ok(key, items)
