"""Names that moved keep their old import path for a while, with a ``DeprecationWarning``.

A module that lost names gives itself a module-level ``__getattr__`` made by :func:`moved`; a
module that moved whole leaves a shim whose only content is one made by :func:`moved_module`::

    __getattr__ = moved(__name__, {"load_service": "ams_billing.assembly.loading"})
    __getattr__ = moved_module(__name__, "ams_billing.emulators.xero.harness")

``from old.module import load_service`` then warns, naming the new path, and returns the
object from its new home. A name that was renamed as well gives its new home as
``"module:NewName"``::

    __getattr__ = moved(__name__, {"XeroBillingService": "ams_billing.providers.xero:XeroProvider"})

The old name is then the very same object as the new one (``is``), so ``isinstance`` checks
and subclasses written against it keep working. A module with content of its own declares the
old name to type checkers as a plain alias, and the ``__getattr__`` only at run time::

    if TYPE_CHECKING:
        XeroBillingService = XeroProvider
    else:
        __getattr__ = moved(__name__, {"XeroBillingService": "...:XeroProvider"})

so code typed against the old name still checks, while a misspelt import from that module
stays a type error (a type checker that sees a module ``__getattr__`` takes every name as
defined).

The new module is imported by its name, at the first use of an old name, and never by the old
module itself: an alias left in a lower layer (core, stores) for a name that moved up (to
:mod:`ams_billing.assembly`) adds no import that runs up the layers or closes a circle
(``tests/core/test_core_import_graph.py``). Code in this package uses the new paths only; the
test suite turns every warning into an error, so a forgotten old path fails.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["moved", "moved_module"]


def moved(old_module: str, new_homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving each name in ``new_homes`` from the module it moved to.

    :param old_module: the module the names were imported from (its ``__name__``).
    :param new_homes: name → the module it lives in now (``"ams_billing.core.webhooks"``), or
        ``"module:NewName"`` for a name that was renamed too.
    """
    homes = dict(new_homes)

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module-level __getattr__ protocol
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        module, _, new_name = home.partition(":")
        new_name = new_name or name
        if new_name == name:
            advice = f"import {name} from {module}, where it moved"
        else:
            advice = f"it is now called {new_name}: import {new_name} from {module}"
        warnings.warn(
            f"{old_module}.{name} is deprecated: {advice}; "
            f"the old path will be removed in a later release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(module), new_name)

    return __getattr__


def moved_module(old_module: str, new_module: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` for a module that moved whole: every public name is forwarded.

    :param old_module: the shim's ``__name__``.
    :param new_module: the module's new home (``"ams_billing.emulators.xero.harness"``).
    """

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module-level __getattr__ protocol
        if name.startswith("__"):  # dunder probes (__path__, __file__ ...) are not moved names
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        try:
            value = getattr(importlib.import_module(new_module), name)
        except AttributeError:
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}") from None
        warnings.warn(
            f"{old_module} moved to {new_module}: import {name} from {new_module} "
            f"(the old path will be removed in a later release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return value

    return __getattr__
