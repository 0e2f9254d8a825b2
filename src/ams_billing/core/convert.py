"""The core's cattrs converter: models to and from plain JSON-ready data.

Decimals travel as strings (never floats), dates and datetimes as ISO 8601, enums as their
values. Structuring reports every bad field at once as a
:class:`~ams_billing.core.errors.ValidationError` whose fields are paths such as
``line_items[0].quantity``. Providers build their own converter for their wire format.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import cattrs
from cattrs.gen import make_dict_unstructure_fn, override
from cattrs.preconf.json import make_converter

from ams_billing.core.errors import FieldError, ValidationError
from ams_billing.core.models import LineItem

__all__ = ["converter", "structure", "unstructure"]

T = TypeVar("T")

converter = make_converter()
"""The shared converter; register hooks for your own models on a copy, not on this one."""

converter.register_unstructure_hook(Decimal, str)
converter.register_structure_hook(Decimal, lambda value, _: _decimal(value))
converter.register_unstructure_hook(date, date.isoformat)
converter.register_structure_hook(date, lambda value, _: date.fromisoformat(value))
converter.register_unstructure_hook(datetime, datetime.isoformat)
converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
# A line that names no tax rate unstructures as before the field existed: request fingerprints
# (idempotency records, the AMS's content-derived keys) made by earlier releases still match.
converter.register_unstructure_hook(
    LineItem,
    make_dict_unstructure_fn(LineItem, converter, tax_rate=override(omit_if_default=True)),
)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float | bool):
        raise TypeError(f"{value!r} is not an exact amount; send it as a string")
    return Decimal(value) if isinstance(value, int | str) else Decimal(str(value))


def unstructure(model: object) -> Any:
    """Turn a model into JSON-ready data."""
    return converter.unstructure(model)


def structure(data: Any, cls: type[T]) -> T:
    """Build a model from data, raising one ValidationError naming every bad field."""
    try:
        return converter.structure(data, cls)
    except ValidationError:
        raise
    except cattrs.BaseValidationError as error:
        raise ValidationError(list(_field_errors(error))) from None
    except (TypeError, ValueError, KeyError) as error:
        raise ValidationError([FieldError("$", str(error))]) from None


def _field_errors(error: BaseException, path: str = "") -> Iterator[FieldError]:
    if isinstance(error, cattrs.ClassValidationError):
        with_notes, without = error.group_exceptions()
        for sub, note in with_notes:
            yield from _field_errors(sub, f"{path}.{note.name}" if path else note.name)
        for sub in without:
            yield from _field_errors(sub, path)
    elif isinstance(error, cattrs.IterableValidationError):
        item_notes, others = error.group_exceptions()
        for sub, item in item_notes:
            yield from _field_errors(sub, f"{path}[{item.index}]")
        for sub in others:
            yield from _field_errors(sub, path)
    elif isinstance(error, ValidationError):
        for field_error in error.errors:
            field = f"{path}.{field_error.field}" if path else field_error.field
            yield FieldError(field, field_error.message, field_error.fix)
    elif isinstance(error, KeyError):
        yield FieldError(path or "$", "is required but missing")
    else:
        yield FieldError(path or "$", str(error) or type(error).__name__)
