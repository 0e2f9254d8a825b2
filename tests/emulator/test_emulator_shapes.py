"""The emulator's hand-written shapes of Xero's request objects match Xero's OpenAPI spec."""

from __future__ import annotations

from typing import Any

import pytest

from ams_billing.emulators.xero import shapes


@pytest.fixture
def accounting(openapi) -> dict[str, Any]:
    return openapi("xero_accounting.yaml")


_TABLES = {
    "Contact": shapes.CONTACT,
    "Invoice": shapes.INVOICE,
    "LineItem": shapes.LINE_ITEM,
    "Payment": shapes.PAYMENT,
}


def _compare(spec: dict[str, Any], shape: shapes.Shape, schema: dict[str, Any], where: str) -> None:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert not schema.get("readOnly"), f"{where} is read-only in the spec"
    if isinstance(shape, shapes.Record):
        assert schema.get("type", "object") == "object" or "properties" in schema, where
        for name, field in shape.fields.items():
            assert name in schema["properties"], f"{where}.{name} is not in the spec"
            _compare(spec, field, schema["properties"][name], f"{where}.{name}")
        return
    if isinstance(shape, shapes.Many):
        assert schema["type"] == "array", where
        _compare(spec, shape.item, schema["items"], f"{where}[]")
        return
    expected = {
        shapes.Text: "string",
        shapes.Flag: "boolean",
        shapes.Integer: "integer",
        shapes.Number: "number",
    }[type(shape)]
    assert schema["type"] == expected, where
    if isinstance(shape, shapes.Text):
        assert shape.max_length == schema.get("maxLength"), where
        assert set(shape.choices) == set(schema.get("enum", ())), where
        assert (shape.kind == "uuid") == (schema.get("format") == "uuid"), where


@pytest.mark.parametrize("name", sorted(_TABLES))
def test_the_shapes_match_the_spec(accounting, name):
    _compare(accounting, _TABLES[name], {"$ref": f"#/components/schemas/{name}"}, name)


def test_the_comparison_can_fail(accounting):
    wrong = shapes.Record({"Name": shapes.Text(256)})
    with pytest.raises(AssertionError, match=r"Contact\.Name"):
        _compare(accounting, wrong, {"$ref": "#/components/schemas/Contact"}, "Contact")
