"""Choosing a provider: by entry-point name (stevedore) or by dotted class path.

The choice is syntactic: a value without a dot (``xero``, ``fake``) is an entry-point name in
the group ``ams_billing.providers``; a dotted value
(``ams.billing.providers.xero.XeroBillingService``, or ``package.module:Class``) is imported.
Either way a wrong value raises one :class:`~ams_billing.core.errors.ProviderNotFoundError`
that lists the installed names.

The operators' setup guide names ``ams.billing.providers.xero.XeroBillingService``, a module of
the AMS itself. Inside the AMS (after its migration, which makes that module re-export
:mod:`ams_billing.contrib.ams`) the value imports the AMS's class, which says which provider it
runs on through its ``ams_billing_provider`` attribute. Where no such module exists, the exact
value is taken as the ``xero`` provider, and the log says so once.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any

import attrs
from stevedore import driver
from stevedore.exception import NoMatches

from ams_billing.core.env import Environment, EnvReader
from ams_billing.core.errors import (
    ConfigurationError,
    FieldError,
    ProviderNotFoundError,
    looks_like_a_name,
)
from ams_billing.core.service import BillingService
from ams_billing.core.tracking import InvoiceStateStore

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROCESS_VARIABLES",
    "SERVICE_CLASS_VARIABLE",
    "ServiceSettings",
    "available_providers",
    "declared_processes",
    "load_provider",
    "load_service",
    "resolve_provider_class",
]

ENTRY_POINT_GROUP = "ams_billing.providers"
"""The entry-point group providers register under."""

SERVICE_CLASS_VARIABLE = "AMS_BILLING_SERVICE_CLASS"
"""The environment variable naming the provider."""

GUIDE_CLASS_PATHS: Mapping[str, str] = {"ams.billing.providers.xero.XeroBillingService": "xero"}
"""Class paths the operators' setup guide names → the provider they mean where the AMS is absent."""

PROVIDER_ATTRIBUTE = "ams_billing_provider"
"""A class carrying this attribute (a provider name) is an integration running on that provider."""

logger = logging.getLogger("ams_billing")
_aliases_logged: set[str] = set()
_aliases_lock = threading.Lock()


def available_providers() -> dict[str, str]:
    """The installed providers: entry-point name → ``module:attribute`` (nothing imported)."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def resolve_provider_class(value: str) -> type[Any]:
    """Return the provider class named by ``value`` (entry-point name or dotted path)."""
    value = value.strip()
    if not value:
        raise ProviderNotFoundError(value, "the value is empty", available_providers())
    if "." not in value and ":" not in value:
        return _by_entry_point(value)
    return _by_import_path(value)


def _by_entry_point(name: str) -> type[Any]:
    failures: list[BaseException] = []

    def on_failure(manager: object, entrypoint: object, error: BaseException) -> None:
        failures.append(error)

    try:
        manager: Any = driver.DriverManager(
            namespace=ENTRY_POINT_GROUP,
            name=name,
            invoke_on_load=False,
            on_load_failure_callback=on_failure,
        )
    except NoMatches:
        if failures:
            raise ProviderNotFoundError(
                name, f"its entry point failed to import ({failures[0]!r})", available_providers()
            ) from failures[0]
        raise ProviderNotFoundError(
            name, "no provider is installed under that name", available_providers()
        ) from None
    return _check_class(name, manager.driver)


def _by_import_path(path: str) -> type[Any]:
    module_name, sep, attribute = path.partition(":") if ":" in path else path.rpartition(".")
    # Only a path-shaped value is imported: anything else could be a secret pasted into the
    # variable, which the import error would otherwise repeat.
    if not module_name or not attribute or not sep or not looks_like_a_name(path):
        raise ProviderNotFoundError(
            path, "it is not a module and class path", available_providers()
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if path in GUIDE_CLASS_PATHS and _is_prefix(error.name, module_name):
            return _guide_alias(path)
        raise ProviderNotFoundError(
            path, f"module {module_name!r} cannot be imported ({error})", available_providers()
        ) from error
    except ImportError as error:
        raise ProviderNotFoundError(
            path, f"module {module_name!r} cannot be imported ({error})", available_providers()
        ) from error
    try:
        plugin = getattr(module, attribute)
    except AttributeError:
        raise ProviderNotFoundError(
            path, f"module {module_name!r} has no attribute {attribute!r}", available_providers()
        ) from None
    return _check_class(path, plugin)


def _is_prefix(missing: str | None, module_name: str) -> bool:
    """Whether the missing module is ``module_name`` or one of its parents (not a dependency)."""
    return missing is not None and (module_name + ".").startswith(missing + ".")


def _guide_alias(path: str) -> type[Any]:
    name = GUIDE_CLASS_PATHS[path]
    with _aliases_lock:
        first = path not in _aliases_logged
        _aliases_logged.add(path)
    if first:
        logger.info(
            "%s=%s names the AMS's own module, which is not installed here: "
            "using the ams-billing provider %r",
            SERVICE_CLASS_VARIABLE,
            path,
            name,
        )
    return _by_entry_point(name)


def _check_class(value: str, plugin: object) -> type[Any]:
    if not isinstance(plugin, type):
        raise ProviderNotFoundError(
            value, f"it names a {type(plugin).__name__}, not a class", available_providers()
        )
    provider = getattr(plugin, PROVIDER_ATTRIBUTE, None)
    if isinstance(provider, str) and provider != value:
        # An integration class (such as the AMS's XeroBillingService) runs on a provider.
        return resolve_provider_class(provider)
    return plugin


def load_provider(value: str, **provider_kwargs: Any) -> object:
    """Resolve ``value`` and instantiate the provider (no arguments: it reads its settings)."""
    return resolve_provider_class(value)(**provider_kwargs)


@attrs.frozen
class ServiceSettings:
    """Provider-neutral settings, read from the environment by :meth:`from_env`.

    - ``AMS_BILLING_SERVICE_CLASS`` (required): the provider (``xero``, ``fake`` or a class path);
    - ``AMS_BILLING_EMAIL_WHITELIST_REGEX`` (optional): only matching recipients are emailed;
    - ``AMS_BILLING_EMAIL_INVOICES`` (optional, default true): false sends no invoice email.
    """

    service_class: str
    email_whitelist: str | None = None
    email_invoices: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | Environment | None = None) -> ServiceSettings:
        """Read and validate every variable, reporting all problems at once."""
        reader = EnvReader(Environment.of(environ))
        del environ  # error reporters record frame locals: keep only the masked copy
        service_class = reader.text(
            SERVICE_CLASS_VARIABLE,
            required=True,
            fix="set it to an installed provider name ("
            + (", ".join(sorted(available_providers())) or "none installed")
            + ") or a class path such as ams.billing.providers.xero.XeroBillingService",
        )
        whitelist = reader.regex("AMS_BILLING_EMAIL_WHITELIST_REGEX")
        email_invoices = reader.boolean("AMS_BILLING_EMAIL_INVOICES", default=True)
        reader.raise_errors("billing")
        assert service_class is not None
        return cls(
            service_class=service_class,
            email_whitelist=whitelist.pattern if whitelist else None,
            email_invoices=email_invoices,
        )


def load_service(
    value: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    listeners: Iterable[object] = (),
    policies: Iterable[object] = (),
    state_store: InvoiceStateStore | None = None,
    **provider_kwargs: Any,
) -> BillingService:
    """Build the :class:`BillingService` the environment (or ``value``) configures.

    ``value`` overrides ``AMS_BILLING_SERVICE_CLASS``. The provider is built with its
    ``from_env(environ, **provider_kwargs)`` class method when it has one, so it reads its own
    variables from the same environment, else as ``ProviderClass(**provider_kwargs)``. Problems
    with the provider's variables and with ours are reported together, in one
    :class:`~ams_billing.core.errors.ConfigurationError`.
    """
    source = Environment.of(environ)
    del environ  # error reporters record frame locals: keep only the masked copy
    if value is not None:
        source = source.with_value(SERVICE_CLASS_VARIABLE, value)
    try:
        settings: ServiceSettings | None = ServiceSettings.from_env(source)
        problems: list[FieldError] = []
    except ConfigurationError as error:
        settings, problems = None, list(error.errors)
    service_class = (source.get(SERVICE_CLASS_VARIABLE) or "").strip()
    provider: object = None
    if service_class:
        provider_class = resolve_provider_class(service_class)
        from_env = getattr(provider_class, "from_env", None)
        try:
            if callable(from_env):
                provider = from_env(source.as_dict(), **provider_kwargs)
            else:
                provider = provider_class(**provider_kwargs)
        except ConfigurationError as error:
            problems += error.errors
    # The provider's problems and ours in one report: an operator fixes them in one deploy.
    if problems or settings is None:
        unique = list(dict.fromkeys(problems))  # a variable both sides read is reported once
        raise ConfigurationError("billing is not configured correctly:", unique)
    _log_state(state_store, declared_processes(source))
    return BillingService(
        provider,
        email_invoices=settings.email_invoices,
        email_whitelist=settings.email_whitelist,
        policies=policies,
        listeners=listeners,
        state_store=state_store,
    )


PROCESS_VARIABLES = ("AMS_BILLING_PROCESSES", "WEB_CONCURRENCY")
"""Variables that say how many processes share billing state (the first that parses wins)."""


def declared_processes(environ: object) -> int:
    """The process count the environment declares (1 when it declares none)."""
    getter = getattr(environ, "get", None)
    for name in PROCESS_VARIABLES:
        value = (getter(name) if callable(getter) else None) or ""
        if str(value).strip().isdigit():
            return int(str(value).strip())
    return 1


def _log_state(state_store: InvoiceStateStore | None, processes: int) -> None:
    """Say where the invoice state lives; warn when memory serves several processes."""
    if state_store is not None:
        logger.info("billing state: invoice states in %r", state_store)
    elif processes > 1:
        logger.warning(
            "billing state is in memory, but %d processes are declared: each keeps its own and "
            "loses it on restart; use ams_billing.stores (or the Django app) for a shared one",
            processes,
        )
    else:
        logger.info("billing state: in memory (lost on restart); see ams_billing.stores")
