"""Building the provider the way ``load_service()`` does, and saying so when it cannot be.

``load_service()`` builds a provider class in one of two ways, with ``options`` the keywords it
passes on (its caller's ``**provider_kwargs`` and, when the state is durable and the
constructor has a parameter named exactly ``idempotency_store``, the durable ledger under that
name):

- ``ProviderClass.from_env(environ, **options)`` when the class has a ``from_env``; ``environ``
  is a plain ``dict[str, str]`` of the whole environment;
- ``ProviderClass(**options)`` otherwise.

A provider whose ``from_env`` or constructor cannot take that call is reported as a
:class:`~ams_billing.core.errors.ConfigurationError` naming the class, the call and the
signature found, before anything is called: never as the raw ``TypeError`` the call would
raise (the classic slip is ``def from_env(cls, environ)`` without ``**options``, which fails
only once the state is durable). A ``TypeError`` raised *inside* a well-declared ``from_env``
is the provider's own bug and is left alone.

A constructor parameter meant for the ledger but named otherwise (``ledger``,
``idempotency``, ``store: IdempotencyStore``) is never given the durable ledger: the keys then
live in memory and a retry after a restart can bill twice. :func:`misnamed_ledger_parameters`
finds such parameters; ``load_service()`` logs a warning about them.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from ams_billing.core.errors import ConfigurationError, FieldError

__all__ = [
    "FROM_ENV_SIGNATURE",
    "LEDGER_PARAMETER",
    "build_provider",
    "ledger_warning",
    "misnamed_ledger_parameters",
]

LEDGER_PARAMETER = "idempotency_store"
"""The one constructor parameter name ``load_service()`` gives the durable ledger to."""

FROM_ENV_SIGNATURE = "from_env(cls, environ: Mapping[str, str], **options: Any)"
"""How a provider's ``from_env`` class method is declared."""


def build_provider(
    provider_class: type[Any], environ: dict[str, str], options: Mapping[str, Any]
) -> object:
    """``provider_class.from_env(environ, **options)``, else ``provider_class(**options)``.

    :raises ConfigurationError: the method or constructor cannot take the call (its errors
        name ``<module>.<Class>.from_env`` or ``<module>.<Class>``), or the provider reported
        a configuration problem itself.
    """
    from_env = getattr(provider_class, "from_env", None)
    if callable(from_env):
        _check_call(provider_class, "from_env", from_env, (environ,), options)
        return from_env(environ, **options)
    _check_call(provider_class, None, provider_class, (), options)
    return provider_class(**options)


def _check_call(
    provider_class: type[Any],
    method: str | None,
    target: Any,
    args: tuple[object, ...],
    options: Mapping[str, Any],
) -> None:
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # no signature to read: let the call decide
        return
    try:
        signature.bind(*args, **options)
    except TypeError as error:
        name = f"{provider_class.__module__}.{provider_class.__qualname__}"
        where = f"{name}.{method}" if method else name
        passed = ", ".join(["environ"] * len(args) + [f"{key}=..." for key in options])
        called = f"{method}({passed})" if method else f"{provider_class.__qualname__}({passed})"
        fix = (
            f"declare it as `def {FROM_ENV_SIGNATURE}` (a classmethod) and pass `options` on to "
            f"the constructor, which takes `{LEDGER_PARAMETER}=None`"
            if method
            else f"accept every keyword load_service() passes (`{LEDGER_PARAMETER}` included), "
            f"or give the class a `{FROM_ENV_SIGNATURE}` class method"
        )
        raise ConfigurationError(
            f"the provider {name} cannot be built as load_service() builds it:",
            [
                FieldError(
                    where,
                    f"load_service() calls {called}, but it is declared "
                    f"{method or provider_class.__qualname__}{signature}: {error}",
                    fix,
                )
            ],
        ) from None


def misnamed_ledger_parameters(provider_class: type[Any]) -> tuple[str, ...]:
    """Constructor parameters that look meant for the ledger but are not ``idempotency_store``.

    Empty when the constructor has an ``idempotency_store`` parameter or its signature cannot
    be read. A parameter looks meant for the ledger when its name mentions idempotency or a
    ledger, or its annotation names ``IdempotencyStore``.
    """
    try:
        parameters = inspect.signature(provider_class).parameters
    except (TypeError, ValueError):
        return ()
    if LEDGER_PARAMETER in parameters:
        return ()
    return tuple(
        name
        for name, parameter in parameters.items()
        if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        and (
            "idempot" in name.lower()
            or "ledger" in name.lower()
            or "IdempotencyStore" in str(parameter.annotation)
        )
    )


def ledger_warning(provider_class: type[Any], parameters: tuple[str, ...]) -> str:
    """The warning ``load_service()`` logs for :func:`misnamed_ledger_parameters`' findings."""
    name = f"{provider_class.__module__}.{provider_class.__qualname__}"
    found = ", ".join(parameters)
    return (
        f"the provider {name} takes {found} but no parameter named exactly "
        f"{LEDGER_PARAMETER!r}: load_service() gives the durable ledger of idempotency keys "
        f"only to {LEDGER_PARAMETER!r}, so this provider keeps its keys in memory, where they "
        f"are lost on restart (a retry after a restart can bill twice); rename the parameter "
        f"to {LEDGER_PARAMETER}"
    )
