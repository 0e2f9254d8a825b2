"""What a Stripe API key's prefix says: its kind (secret, restricted, publishable) and mode.

Stripe's keys are ``sk_test_…``/``sk_live_…`` (secret), ``rk_test_…``/``rk_live_…``
(restricted: per-resource permissions) and ``pk_…`` (publishable: for browsers, useless to a
server). Test and live are separate worlds: a test key never touches live data.
"""

from __future__ import annotations

import enum
import re

import attrs

__all__ = ["KeyKind", "KeyShape", "key_shape"]


class KeyKind(enum.Enum):
    """Which kind of Stripe key a value is, by its prefix."""

    SECRET = "secret"  # noqa: S105 - a kind of key, not a key
    RESTRICTED = "restricted"
    PUBLISHABLE = "publishable"
    UNKNOWN = "unknown"


@attrs.frozen
class KeyShape:
    """A key's kind and mode (``test``/``live``; ``None`` when the prefix says neither)."""

    kind: KeyKind
    mode: str | None

    @property
    def usable(self) -> bool:
        """Whether a server can call the API with it (a secret or restricted key, with a mode)."""
        return self.kind in (KeyKind.SECRET, KeyKind.RESTRICTED) and self.mode is not None


_PREFIX = re.compile(r"^(sk|rk|pk)_(test|live)_[0-9A-Za-z]+$")
_KINDS = {"sk": KeyKind.SECRET, "rk": KeyKind.RESTRICTED, "pk": KeyKind.PUBLISHABLE}


def key_shape(value: str) -> KeyShape:
    """The kind and mode of ``value`` (never echoing it)."""
    found = _PREFIX.match(value.strip())
    if found is None:
        return KeyShape(KeyKind.UNKNOWN, None)
    return KeyShape(_KINDS[found.group(1)], found.group(2))
