"""Spec-driven fuzzing of an emulator: requests drawn from an OpenAPI document, answers checked.

Provider-neutral (nothing here knows Xero), so the same rule can hold for every emulator:

- every request gets an HTTP answer (a cut connection fails the test);
- no answer is a 5xx;
- every answer the spec documents with a JSON schema (every 2xx at least) validates against it.

:class:`OpenApi` walks the document (local ``$ref`` only); :func:`request_strategy` draws a
:class:`Call` for one :class:`Operation` from its parameters and request body schema. Bodies come
in two flavours mixed by Hypothesis: *typed* values follow the schemas (strings up to one past
``maxLength``, enum values in odd case, ``hints`` for fields that must name existing records);
*wild* ones are typed but for one property name, drawn from every name the body's schema can
hold, whose values may be of another type (or an over-long string). One odd field in an
otherwise sound body is what reaches the code that stores it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
from hypothesis import strategies as st

Strategy = st.SearchStrategy[Any]
Hints = Mapping[str, Strategy]

METHODS = ("get", "put", "post", "patch", "delete")
# Strategies here never reject (no ``filter``, no ``assume``): Hypothesis notes the repr of the
# strategy a rejection passes through, and these reprs run to tens of kilobytes.
MAX_DEPTH = 3
"""How deep objects nest in a generated body; deeper ones are ``{}`` (specs are recursive)."""


@dataclass(frozen=True)
class Operation:
    """One path and method of the document, with its parameters resolved."""

    path: str
    method: str
    parameters: tuple[dict[str, Any], ...]
    body_schema: dict[str, Any] | None
    responses: Mapping[str, Any]

    @property
    def id(self) -> str:
        """``METHOD /path``, for test ids and messages."""
        return f"{self.method.upper()} {self.path}"

    def path_with(self, values: Mapping[str, str]) -> str:
        """The path with its ``{name}`` parameters replaced by ``values`` (percent-encoded)."""
        path = self.path
        for name, value in values.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        return path


@dataclass
class Call:
    """One drawn request."""

    operation: Operation
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    def __repr__(self) -> str:
        body = json.dumps(self.body)[:2000] if self.body is not None else ""
        return (
            f"Call({self.operation.method.upper()} {self.path} {self.params} {self.headers} {body})"
        )


class OpenApi:
    """An OpenAPI 3 document: operations, ``$ref`` resolution and response validation."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.components = document.get("components", {})

    def resolve(self, node: Any) -> Any:
        """Follow local ``$ref`` pointers until a node without one."""
        seen = 0
        while isinstance(node, Mapping) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
            seen += 1
            assert seen < 50, "a $ref cycle"
        return node

    def operations(self) -> Iterator[Operation]:
        """Every path and method, path-level parameters included."""
        for path, item in self.document["paths"].items():
            shared = [self.resolve(p) for p in item.get("parameters", [])]
            for method in METHODS:
                if method not in item:
                    continue
                spec = item[method]
                own = [self.resolve(p) for p in spec.get("parameters", [])]
                names = {(p["name"], p["in"]) for p in own}
                params = own + [p for p in shared if (p["name"], p["in"]) not in names]
                content = self.resolve(spec.get("requestBody", {})).get("content", {})
                body = content.get("application/json", {}).get("schema")
                yield Operation(path, method, tuple(params), body, spec.get("responses", {}))

    def response_schema(self, operation: Operation, status: int) -> dict[str, Any] | None:
        """The JSON schema documented for ``status``, or ``None`` (no such answer or no body)."""
        entry = operation.responses.get(str(status))
        if entry is None:
            return None
        content = self.resolve(entry).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        return dict(schema) if schema is not None else None

    def validate(self, schema: Mapping[str, Any], instance: Any) -> None:
        """Validate ``instance`` against ``schema`` (draft 4, as OpenAPI 3.0), formats included."""
        root = {**schema, "components": self.components}
        jsonschema.Draft4Validator(root, format_checker=_FORMATS).validate(instance)


_FORMATS = jsonschema.FormatChecker(("uuid",))


def check_answer(api: OpenApi, call: Call, response: httpx.Response) -> None:
    """Assert the rule: no 5xx, a documented 2xx, and a body valid where the spec gives a schema."""
    status = response.status_code
    where = f"{call!r} answered {status}: {response.text[:1000]}"
    assert status < 500, where
    schema = api.response_schema(call.operation, status)
    if 200 <= status < 300:
        assert str(status) in call.operation.responses, f"undocumented status; {where}"
    if schema is None or not response.content:
        return
    try:
        document = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"not JSON; {where}") from exc
    try:
        api.validate(schema, document)
    except jsonschema.ValidationError as exc:
        at = list(exc.absolute_path)
        raise AssertionError(f"breaks the spec at {at}: {exc.message}; {where}") from None


def send(client: httpx.Client, call: Call) -> httpx.Response:
    """Send ``call``; a connection cut without an answer fails the test."""
    try:
        return client.request(
            call.operation.method.upper(),
            call.path,
            params=call.params,
            headers=call.headers,
            json=call.body,
        )
    except httpx.TransportError as exc:
        raise AssertionError(f"no answer ({type(exc).__name__}: {exc}) to {call!r}") from exc


# ------------------------------------------------------------------ value strategies

_TEXT = st.characters(codec="utf-8", exclude_categories=("Cs",))
_WILD: Strategy = st.sampled_from(
    [None, {}, [], "", "x" * 5000, -1, 0, True, 1.5, 1e300, {"a": 1}, ["a"], [{}], "NaN"]
)
_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


def _odd_case(value: str) -> Strategy:
    return st.sampled_from([value, value.lower(), value.title()])


def _moments() -> Strategy:
    zones = st.sampled_from([UTC, timezone(timedelta(hours=5)), timezone(timedelta(hours=-13))])
    naive = st.one_of(
        st.datetimes(),
        st.sampled_from([datetime.min, datetime.max, datetime(1970, 1, 1)]),
    )
    return st.builds(lambda moment, zone: moment.replace(tzinfo=zone), naive, zones)


def _string(schema: Mapping[str, Any]) -> Strategy:
    kind = schema.get("format")
    if kind == "uuid":
        return st.uuids().map(str)
    if kind == "date-time":
        return _moments().map(lambda m: m.isoformat())
    if kind == "date":
        return st.dates().map(lambda d: d.isoformat())
    limit = schema.get("maxLength")
    if limit is not None:
        return st.one_of(
            st.text(_TEXT, max_size=min(limit, 30)),
            st.sampled_from([limit, limit + 1]).map(lambda n: "x" * n),
        )
    return st.text(_TEXT, max_size=30)


def value_strategy(
    api: OpenApi,
    schema: Any,
    *,
    hints: Hints,
    wild: str | None = None,
    depth: int = 0,
) -> Strategy:
    """Values for ``schema``; properties named ``wild`` may hold a value of the wrong type."""
    schema = api.resolve(schema)
    if "enum" in schema:
        typed: Strategy = st.sampled_from(schema["enum"]).flatmap(
            lambda v: _odd_case(v) if isinstance(v, str) else st.just(v)
        )
    else:
        kind = schema.get("type", "object" if "properties" in schema else None)
        if kind == "string":
            typed = _string(schema)
        elif kind == "integer":
            typed = st.one_of(st.integers(-5, 40), st.integers(-(2**63), 2**63))
        elif kind == "number":
            typed = st.one_of(
                st.integers(-5, 500),
                st.floats(allow_nan=False, allow_infinity=False),
                st.sampled_from([0.005, 9999999999.99, 1e15]),
            )
        elif kind == "boolean":
            typed = st.booleans()
        elif kind == "array":
            if depth >= MAX_DEPTH:
                typed = st.just([])
            else:
                item = value_strategy(api, schema["items"], hints=hints, wild=wild, depth=depth + 1)
                typed = st.lists(item, max_size=2)
        elif kind == "object":
            typed = _object(api, schema, hints=hints, wild=wild, depth=depth)
        else:
            typed = st.none()
    return typed


def _object(
    api: OpenApi, schema: Mapping[str, Any], *, hints: Hints, wild: str | None, depth: int
) -> Strategy:
    if depth >= MAX_DEPTH:
        return st.just({})
    optional = {}
    for name, prop in schema.get("properties", {}).items():
        if api.resolve(prop).get("readOnly"):
            continue
        generated = value_strategy(api, prop, hints=hints, wild=wild, depth=depth + 1)
        if name in hints:
            generated = st.one_of(hints[name], hints[name], generated)
        if name == wild:
            generated = st.one_of(_WILD, generated)
        optional[name] = generated
    return st.fixed_dictionaries({}, optional=optional)


def property_names(api: OpenApi, schema: Any, depth: int = 0) -> set[str]:
    """Every writable property name ``schema`` can hold, down to :data:`MAX_DEPTH`."""
    schema = api.resolve(schema)
    if depth >= MAX_DEPTH:
        return set()
    if schema.get("type") == "array":
        return property_names(api, schema["items"], depth + 1)
    names = set()
    for name, prop in schema.get("properties", {}).items():
        if not api.resolve(prop).get("readOnly"):
            names |= {name} | property_names(api, prop, depth + 1)
    return names


def _parameter(api: OpenApi, parameter: Mapping[str, Any], hints: Hints) -> Strategy:
    name = parameter["name"]
    schema = api.resolve(parameter.get("schema", {"type": "string"}))
    if parameter["in"] == "header":
        generated = (
            _moments().map(lambda m: m.isoformat())
            if schema.get("format") == "date-time"
            else _HEADER_TEXT
        )
    elif schema.get("type") == "boolean":
        generated = st.sampled_from(["true", "false", "TRUE", "", "yes"])
    elif schema.get("type") == "array":
        generated = st.lists(st.text(_TEXT, max_size=12), max_size=3).map(",".join)
    else:
        generated = value_strategy(api, schema, hints={}).map(_as_text)
    return st.one_of(hints[name], generated) if name in hints else generated


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def request_strategy(
    api: OpenApi,
    operation: Operation,
    *,
    base: str = "",
    hints: Hints | None = None,
    skip_parameters: frozenset[str] = frozenset(),
) -> st.SearchStrategy[Call]:
    """Calls of ``operation``: path parameters always, optional ones sometimes, and a body.

    ``hints`` offer values (by parameter or property name) beside the generated ones, so that
    some calls name records that exist; ``skip_parameters`` are never sent (e.g. a tenant header
    the client sets). ``base`` goes before the spec's paths.
    """
    hints = hints or {}
    path_params = {}
    optional = {}
    for parameter in operation.parameters:
        if parameter["name"] in skip_parameters:
            continue
        strategy = _parameter(api, parameter, hints)
        key = (parameter["in"], parameter["name"])
        if parameter["in"] == "path":
            if parameter["name"] in hints:  # mostly records that exist
                strategy = st.one_of(hints[parameter["name"]], strategy)
            path_params[parameter["name"]] = strategy.map(lambda v: v or "0")
        elif parameter["in"] in ("query", "header"):
            optional[key] = strategy
    body: Strategy = st.none()
    if operation.body_schema is not None:
        schema = operation.body_schema
        names = sorted(property_names(api, schema))
        body = st.one_of(
            value_strategy(api, schema, hints=hints),
            st.sampled_from(names).flatmap(
                lambda name: value_strategy(api, schema, hints=hints, wild=name)
            ),
        )

    def build(values: Mapping[str, str], extra: Mapping[tuple[str, str], str], data: Any) -> Call:
        params = {name: v for (where, name), v in extra.items() if where == "query"}
        headers = {name: v for (where, name), v in extra.items() if where == "header"}
        return Call(operation, base + operation.path_with(values), params, headers, data)

    return st.builds(
        build,
        st.fixed_dictionaries(path_params),
        st.fixed_dictionaries({}, optional=optional),
        body,
    )
