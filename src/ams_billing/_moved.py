"""Old import paths that still work, with a ``DeprecationWarning``, after a module moved.

A module that moved leaves behind a shim whose only content is::

    __getattr__ = moved_to(__name__, "ams_billing.new.home")

Each name taken from the old path is then looked up in the new module, and the caller is told
where it lives now. The new module is imported only when a name is asked for, so the shim adds
no import between layers (a provider's old path does not import the testing layer).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["moved_to"]


def moved_to(old: str, new: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``old``, whose names now live in ``new``."""

    def forward(name: str) -> Any:
        if name.startswith("__"):  # dunder probes (__path__, __file__ ...) are not moved names
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        try:
            value = getattr(importlib.import_module(new), name)
        except AttributeError:
            raise AttributeError(f"module {old!r} has no attribute {name!r}") from None
        warnings.warn(
            f"{old} moved to {new}: import {name} from {new} ({old} will be removed)",
            DeprecationWarning,
            stacklevel=2,
        )
        return value

    return forward
