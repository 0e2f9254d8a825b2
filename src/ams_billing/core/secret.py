"""``Secret``: a string that keeps itself out of ``repr``, ``str``, f-strings and logs.

First written for the Xero provider's settings (which still re-export it); moved here when the
Stripe provider needed the same (issue 19).
"""

from __future__ import annotations

__all__ = ["Secret"]


class Secret:
    """A string that keeps itself out of ``repr``, ``str``, f-strings and logs.

    Call :meth:`reveal` where the value is really needed (an Authorization header, an HMAC key).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)
