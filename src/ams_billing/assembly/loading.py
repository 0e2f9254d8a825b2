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
import inspect
import logging
import threading
import warnings
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import attrs
from stevedore import driver
from stevedore.exception import NoMatches

from ams_billing.assembly.building import (
    build_provider,
    ledger_warning,
    misnamed_ledger_parameters,
)
from ams_billing.assembly.state import ChosenState, choose_state, location, takes_idempotency_store
from ams_billing.core.env import Environment, EnvReader
from ams_billing.core.errors import (
    ConfigurationError,
    FieldError,
    ProviderNotFoundError,
    looks_like_a_name,
)
from ams_billing.core.inbox import WebhookInbox
from ams_billing.core.service import BillingService
from ams_billing.core.state import DATABASE_URL_VARIABLE, Closeable, StateStores
from ams_billing.core.tracking import InvoiceStateStore

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROCESS_VARIABLES",
    "SERVICE_CLASS_VARIABLE",
    "ServiceSettings",
    "available_providers",
    "declared_processes",
    "load_durable_service",
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
_ledgers_warned: set[type[Any]] = set()


def available_providers() -> dict[str, str]:
    """The installed providers: entry-point name → ``module:attribute`` (nothing imported)."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def resolve_provider_class(value: str, *, setting: str = SERVICE_CLASS_VARIABLE) -> type[Any]:
    """Return the provider class named by ``value`` (entry-point name or dotted path).

    ``setting`` is where the user gave ``value`` (``AMS_BILLING_SERVICE_CLASS``, an option
    such as ``--billing-provider``, an argument): a :class:`ProviderNotFoundError` tells them
    to fix that.
    """
    try:
        return _resolve(value)
    except ProviderNotFoundError as error:
        if error.setting == setting:
            raise
        raise error.named_by(setting) from error.__cause__


def _resolve(value: str) -> type[Any]:
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
        plugin = _getattr_logging_deprecation(module, attribute, path)
    except AttributeError:
        raise ProviderNotFoundError(
            path, f"module {module_name!r} has no attribute {attribute!r}", available_providers()
        ) from None
    return _check_class(path, plugin)


def _getattr_logging_deprecation(module: ModuleType, attribute: str, path: str) -> Any:
    """``getattr(module, attribute)``; a deprecated path is also logged, once per value.

    A class path that was renamed (``ams_billing.providers.xero.XeroBillingService``) still
    works, with a :class:`DeprecationWarning`. Python hides those by default, and the value
    usually comes from an operator's environment, not from code a developer runs with warnings
    on: so the loader also logs it, with the value to use instead, where the operator who can
    change it looks. The warning itself is emitted again, pointing at the caller's code.
    """
    if attribute in vars(module):  # a name the module defines: no alias, nothing to catch
        return getattr(module, attribute)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        plugin = getattr(module, attribute)
    deprecated = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    if deprecated and isinstance(plugin, type):
        _log_once(
            path,
            "the provider class path %s is deprecated (a later release will remove it): "
            "use %s instead",
            path,
            _replacement(module, plugin),
            level=logging.WARNING,
        )
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=_caller_stacklevel())
    return plugin


def _replacement(module: ModuleType, plugin: type[Any]) -> str:
    """What to set instead of a deprecated path: the entry-point name, else the new path."""
    new_path = (
        f"{module.__name__}.{plugin.__name__}"
        if vars(module).get(plugin.__name__) is plugin
        else f"{plugin.__module__}.{plugin.__qualname__}"
    )
    names = [
        name
        for name, value in sorted(available_providers().items())
        if value.rpartition(":")[2] == plugin.__qualname__
    ]
    return f"{names[0]} (or {new_path})" if names else new_path


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside ams_billing: the caller's own code."""
    here = inspect.currentframe()
    level, frame = 1, here.f_back if here is not None else None  # level 1: who warns
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(
        ("ams_billing.", "stevedore")
    ):
        level, frame = level + 1, frame.f_back
    return level


def _log_once(key: str, message: str, *args: object, level: int) -> None:
    """Log ``message`` the first time ``key`` is seen in this process."""
    with _aliases_lock:
        first = key not in _aliases_logged
        _aliases_logged.add(key)
    if first:
        logger.log(level, message, *args)


def _is_prefix(missing: str | None, module_name: str) -> bool:
    """Whether the missing module is ``module_name`` or one of its parents (not a dependency)."""
    return missing is not None and (module_name + ".").startswith(missing + ".")


def _guide_alias(path: str) -> type[Any]:
    name = GUIDE_CLASS_PATHS[path]
    _log_once(
        path,
        "%s=%s names the AMS's own module, which is not installed here: "
        "using the ams-billing provider %r",
        SERVICE_CLASS_VARIABLE,
        path,
        name,
        level=logging.INFO,
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
    stores: StateStores | str | None = None,
    state_store: InvoiceStateStore | None = None,
    inbox: WebhookInbox | None = None,
    **provider_kwargs: Any,
) -> BillingService:
    """Build the :class:`BillingService` the environment (or ``value``) configures.

    ``value`` overrides ``AMS_BILLING_SERVICE_CLASS``. The provider is built with its
    ``from_env(environ, **provider_kwargs)`` class method when it has one (``environ`` a plain
    ``dict[str, str]``), so it reads its own variables from the same environment, else as
    ``ProviderClass(**provider_kwargs)``; declare it ``from_env(cls, environ, **options)``.
    Problems with the provider's variables and with ours are reported together, in one
    :class:`~ams_billing.core.errors.ConfigurationError`; so is a ``from_env`` or constructor
    that cannot take the call (naming the class and the signature found, never a raw
    ``TypeError``: :mod:`ams_billing.assembly.building`).

    **State survives the process by default.** The idempotency ledger (for a provider whose
    constructor has a parameter named exactly ``idempotency_store``, as Xero's does: it is
    passed as ``idempotency_store=`` to ``from_env`` or the constructor; a parameter that looks
    meant for it under another name is warned about in the log, as its keys stay in memory),
    the tracker's invoice states
    and the webhook inbox (:attr:`BillingService.inbox`, which
    ``BackgroundProcessor(service)`` uses) are kept in the SQL stores of
    :mod:`ams_billing.stores`: the database ``AMS_BILLING_DATABASE_URL`` names (PostgreSQL for
    several machines), else an SQLite file, ``$XDG_DATA_HOME/ams-billing/billing.sqlite3``. Its
    schema is created or upgraded on the way. Memory only when chosen:
    ``AMS_BILLING_DATABASE_URL=memory:`` or ``stores="memory:"``.

    :param stores: ``None`` (the environment decides, as above), ``"memory:"``, a database URL,
        or stores you opened (:class:`~ams_billing.stores.SqlStores`) and close yourself.
    :param state_store: the tracker's invoice states, instead of the chosen stores'.
    :param inbox: the webhook inbox, instead of the chosen stores'. An ``idempotency_store``
        among ``provider_kwargs`` likewise replaces the ledger. A database is opened only for
        what none of these gives.

    The service owns what was opened for it (the database's connection pool, the provider's
    HTTP client): :meth:`BillingService.close` releases them (``with load_service() as b:``).
    The log says where each kind of state lives, and warns when several declared processes
    (``AMS_BILLING_PROCESSES``, ``WEB_CONCURRENCY``) share memory or SQLite.
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
    # The fix names what the caller used: the argument, else the variable.
    named_by = "load_service()'s value" if value is not None else SERVICE_CLASS_VARIABLE
    provider_class = (
        resolve_provider_class(service_class, setting=named_by) if service_class else None
    )
    takes_ledger = provider_class is not None and takes_idempotency_store(provider_class)
    if provider_class is not None and not takes_ledger:
        _warn_misnamed_ledger(provider_class)
    chosen: ChosenState | None = None
    if settings is not None:  # with our own settings wrong, no database is opened for nothing
        try:
            chosen = choose_state(
                stores,
                source,
                state_store=state_store,
                inbox=inbox,
                wants_ledger=takes_ledger and "idempotency_store" not in provider_kwargs,
            )
        except ConfigurationError as error:
            problems += error.errors or [FieldError(DATABASE_URL_VARIABLE, str(error))]
    if chosen is not None and chosen.idempotency is not None:
        provider_kwargs["idempotency_store"] = chosen.idempotency
    owned: list[Closeable] = list(chosen.owned) if chosen is not None else []
    try:
        provider = _build_provider(provider_class, source, provider_kwargs, problems)
        # The provider's problems and ours in one report: an operator fixes them in one deploy.
        if problems or settings is None or chosen is None:
            unique = list(dict.fromkeys(problems))  # a variable both sides read is reported once
            raise ConfigurationError("billing is not configured correctly:", unique)
        close = getattr(provider, "close", None)
        if callable(close):
            owned.append(provider)  # type: ignore[arg-type]  # it has close(): a Closeable
        ledger = provider_kwargs.get("idempotency_store") if takes_ledger else _NOT_TAKEN
        _log_state(chosen, ledger, declared_processes(source))
        return BillingService(
            provider,
            email_invoices=settings.email_invoices,
            email_whitelist=settings.email_whitelist,
            policies=policies,
            listeners=listeners,
            state_store=chosen.invoice_state,
            inbox=chosen.inbox,
            owned=owned,
        )
    except BaseException:
        for resource in reversed(owned):
            resource.close()
        raise


def load_durable_service(
    stores: StateStores,
    value: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    listeners: Iterable[object] = (),
    policies: Iterable[object] = (),
    **provider_kwargs: Any,
) -> BillingService:
    """``load_service(..., stores=stores)``: the state in ``stores``, which the caller closes.

    What :func:`load_service` does by default, over stores opened (and closed) by the caller,
    such as :func:`ams_billing.stores.open_stores`'s: a cron job sharing one pool with its own
    code, a test.
    """
    return load_service(
        value,
        environ=environ,
        listeners=listeners,
        policies=policies,
        stores=stores,
        **provider_kwargs,
    )


def _build_provider(
    provider_class: type[Any] | None,
    source: Environment,
    provider_kwargs: dict[str, Any],
    problems: list[FieldError],
) -> object:
    """The provider, built with ``from_env`` when it has one; ``None`` when there is none.

    Its configuration problems, and a ``from_env`` or constructor that cannot take the call
    (:func:`~ams_billing.assembly.building.build_provider`), are added to ``problems`` (and
    ``None`` is returned).
    """
    if provider_class is None:
        return None
    try:
        return build_provider(provider_class, source.as_dict(), provider_kwargs)
    except ConfigurationError as error:
        problems += error.errors
        return None


def _warn_misnamed_ledger(provider_class: type[Any]) -> None:
    """Warn, once per class and process, of a ledger parameter load_service() cannot see."""
    misnamed = misnamed_ledger_parameters(provider_class)
    with _aliases_lock:
        first = provider_class not in _ledgers_warned
        _ledgers_warned.add(provider_class)
    if misnamed and first:
        logger.warning("%s", ledger_warning(provider_class, misnamed))


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


_NOT_TAKEN = object()
"""The ledger of a provider that takes no ``idempotency_store``: it keeps its own."""


def _log_state(chosen: ChosenState, ledger: object, processes: int) -> None:
    """Say where each kind of state lives; warn when several processes share memory or SQLite."""
    places: dict[str, list[str]] = {}
    if ledger is not _NOT_TAKEN:
        places.setdefault(location(ledger), []).append("idempotency ledger")
    places.setdefault(location(chosen.invoice_state), []).append("invoice states")
    places.setdefault(location(chosen.inbox), []).append("webhook inbox")
    said = "; ".join(
        f"{_and(kinds)} in " + ("memory (lost on restart)" if where == "memory" else where)
        for where, kinds in places.items()
    )
    sqlite = any(where.startswith("sqlite") for where in places)
    if processes > 1 and "memory" in places:
        logger.warning(
            "billing state: %s, but %d processes are declared: each keeps its own memory and "
            "loses it on restart; set %s to a database (PostgreSQL for several machines)",
            said,
            processes,
            DATABASE_URL_VARIABLE,
        )
    elif processes > 1 and sqlite:
        logger.warning(
            "billing state: %s; %d processes are declared, and an SQLite file serves the "
            "processes of one machine only: for several machines set %s=postgresql+psycopg://...",
            said,
            processes,
            DATABASE_URL_VARIABLE,
        )
    else:
        logger.info("billing state: %s", said)


def _and(kinds: list[str]) -> str:
    return kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
