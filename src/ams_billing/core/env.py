"""Reading settings from the environment, collecting every problem before reporting any."""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from ams_billing.core.errors import ConfigurationError, FieldError

__all__ = ["EnvReader"]

_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f"})


@attrs.define
class EnvReader:
    """Reads typed values from an environment mapping and collects the errors.

    Call :meth:`raise_errors` once everything is read: the operator sees every wrong
    variable at once, each named with its fix, instead of one per deploy.
    """

    environ: Mapping[str, str]
    errors: list[FieldError] = attrs.field(factory=list)

    def text(self, name: str, *, required: bool = False, fix: str | None = None) -> str | None:
        """Return the stripped value, ``None`` when unset or blank; record it if required."""
        value = (self.environ.get(name) or "").strip()
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
        self.errors.append(FieldError(name, f"{value!r} is not a boolean", "use True or False"))
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
                    f"{value!r} is not a valid regular expression ({error})",
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
                FieldError(name, f"{value!r} is not allowed", f"use one of {', '.join(choices)}")
            )
            return None
        return value.upper()

    def raise_errors(self, what: str) -> None:
        """Raise one :class:`ConfigurationError` listing every problem, if there was any."""
        if self.errors:
            raise ConfigurationError(f"{what} is not configured correctly:", self.errors)
