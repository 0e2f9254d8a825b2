"""Reading settings from the environment, collecting every problem before reporting any.

A bad value is described by its shape, never quoted (it could be a secret pasted into the
wrong variable), and the reader keeps the environment out of its ``repr``. Code that reads
settings holds the variables as an :class:`Environment`, which error reporters recording frame
locals (Sentry's default) see only as ``<Environment: 12 variables>``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping

import attrs

from ams_billing.core.errors import ConfigurationError, FieldError, describe_value

__all__ = ["EnvReader", "Environment", "NumberRange"]

_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f"})


class Environment:
    """Environment variables kept out of sight: ``repr`` shows only how many there are.

    Deliberately not a :class:`~collections.abc.Mapping`: error reporters walk a mapping found
    in a frame item by item, and these items include the client secret and the webhook key.
    Build one from a mapping (``None``: ``os.environ``), read with :meth:`get`.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(os.environ if values is None else values)

    @classmethod
    def of(cls, values: Mapping[str, str] | Environment | None) -> Environment:
        """``values`` as an :class:`Environment` (itself if it already is one)."""
        return values if isinstance(values, Environment) else cls(values)

    def get(self, name: str) -> str | None:
        """The variable's value, ``None`` when unset."""
        return self._values.get(name)

    def with_value(self, name: str, value: str) -> Environment:
        """A copy with ``name`` set to ``value``."""
        return Environment({**self._values, name: value})

    def as_dict(self) -> dict[str, str]:
        """A plain copy, for code that takes a mapping (a third-party provider's ``from_env``)."""
        return dict(self._values)

    def __repr__(self) -> str:
        return f"<Environment: {len(self._values)} variables>"


@attrs.define
class EnvReader:
    """Reads typed values from an environment mapping and collects the errors.

    Call :meth:`raise_errors` once everything is read: the operator sees every wrong
    variable at once, each named with its fix, instead of one per deploy.
    """

    environ: Mapping[str, str] | Environment = attrs.field(repr=False)
    errors: list[FieldError] = attrs.field(factory=list)

    def text(self, name: str, *, required: bool = False, fix: str | None = None) -> str | None:
        """Return the stripped value, ``None`` when unset or empty; record it if required.

        A value of only white space is recorded as blank, required or not: it is a paste gone
        wrong, not a choice to leave the variable unset.
        """
        raw = self.environ.get(name) or ""
        value = raw.strip()
        if raw and not value:
            self.errors.append(
                FieldError(
                    name,
                    f"is blank ({describe_value(raw)})",
                    fix or f"set {name} to a value, or leave it empty to use the default",
                )
            )
            return None
        if not value:
            if required:
                self.errors.append(FieldError(name, "is not set", fix or f"set {name}"))
            return None
        return value

    def boolean(self, name: str, default: bool) -> bool:
        """Parse true/false, yes/no, on/off, 1/0 (any case); unset means ``default``."""
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        self.errors.append(
            FieldError(name, f"is not a boolean ({describe_value(value)})", "use True or False")
        )
        return default

    def regex(self, name: str) -> re.Pattern[str] | None:
        """Compile the value as a regular expression; unset means ``None``."""
        value = self.text(name)
        if value is None:
            return None
        try:
            return re.compile(value)
        except re.error as error:
            self.errors.append(
                FieldError(
                    name,
                    f"is not a valid regular expression ({describe_value(value)}: {error})",
                    "fix the pattern, e.g. @example\\.org$, or leave it empty",
                )
            )
            return None

    def choice(self, name: str, choices: tuple[str, ...], *, required: bool = False) -> str | None:
        """Return the value upper-cased if it is one of ``choices``."""
        value = self.text(name, required=required, fix=f"set {name} to one of {', '.join(choices)}")
        if value is None:
            return None
        if value.upper() not in choices:
            self.errors.append(
                FieldError(
                    name,
                    f"is not one of the allowed values ({describe_value(value)})",
                    f"use one of {', '.join(choices)}",
                )
            )
            return None
        return value.upper()

    def number(self, name: str, default: float, allowed: NumberRange) -> float:
        """Parse a number in ``allowed``; unset means ``default``, anything else is recorded."""
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            self.errors.append(
                FieldError(name, f"is not a number ({describe_value(value)})", allowed.fix)
            )
            return default
        problem = allowed.problem(name, number)
        if problem is not None:
            self.errors.append(problem)
            return default
        return number

    def raise_errors(self, what: str) -> None:
        """Raise one :class:`ConfigurationError` listing every problem, if there was any."""
        if self.errors:
            raise ConfigurationError(f"{what} is not configured correctly:", self.errors)


@attrs.frozen
class NumberRange:
    """The finite values a numeric setting may take, and how to say so.

    ``low_open`` excludes ``low`` itself (a timeout of 0 is no timeout); ``fix`` tells the
    operator what to write, e.g. ``give seconds, e.g. 30``.
    """

    low: float
    high: float
    fix: str
    low_open: bool = False

    def problem(self, name: str, value: object) -> FieldError | None:
        """The error for ``value`` (named ``name``), or ``None`` when it is allowed.

        ``inf``, ``-inf`` and ``nan`` are never allowed: they pass ``>`` comparisons or fail
        every one, and break the first sleep or socket timeout made from them.
        """
        if isinstance(value, bool) or not isinstance(value, int | float):
            return FieldError(name, f"is not a number (a {type(value).__name__})", self.fix)
        low_ok = value > self.low if self.low_open else value >= self.low
        if math.isfinite(value) and low_ok and value <= self.high:
            return None
        bound = "more than" if self.low_open else "at least"
        what = "not a finite number" if not math.isfinite(value) else "out of range"
        return FieldError(
            name,
            f"is {what}: it must be {bound} {self.low:g} and at most {self.high:g}",
            self.fix,
        )
