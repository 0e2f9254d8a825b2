"""Where a billing service keeps the state that must outlive a process, and how it is chosen.

Three kinds of state decide whether a retry bills twice or a paid invoice goes unreported: the
provider's idempotency ledger, the tracker's last-seen invoice states, and the webhook inbox.
:func:`~ams_billing.assembly.loading.load_service` keeps all three in the durable SQL stores of
:mod:`ams_billing.stores` unless told otherwise (:func:`choose_state`):

- ``stores=None`` (the default) reads ``AMS_BILLING_DATABASE_URL``: ``memory:`` keeps the state
  in process memory, a URL names the database, and unset means an SQLite file in the user's
  data directory (``$XDG_DATA_HOME/ams-billing/billing.sqlite3``);
- ``stores="memory:"`` keeps it in memory, and any other string is a database URL;
- ``stores=`` an object with ``idempotency``, ``invoice_state`` and ``inbox`` (an open
  :class:`~ams_billing.stores.SqlStores`) uses those, and leaves closing them to the caller.

A store passed explicitly (``state_store=``, ``inbox=``, the provider's ``idempotency_store=``)
is used for its kind; a database is opened only when some kind is left to it. SQLAlchemy is
imported only when a database is opened: a service kept in memory never loads it.
"""

from __future__ import annotations

import inspect
from typing import Any

import attrs

from ams_billing.core.env import Environment
from ams_billing.core.inbox import InMemoryWebhookInbox, WebhookInbox
from ams_billing.core.state import DATABASE_URL_VARIABLE, Closeable, StateStores, is_memory
from ams_billing.core.tracking import InMemoryInvoiceStateStore, InvoiceStateStore

__all__ = [
    "ChosenState",
    "choose_state",
    "location",
    "takes_idempotency_store",
]


@attrs.frozen
class ChosenState:
    """The stores a service gets, and what it must close when it is closed."""

    invoice_state: InvoiceStateStore
    inbox: WebhookInbox
    idempotency: Any | None = None
    """The ledger to give the provider; ``None`` leaves the provider its own default."""
    owned: tuple[Closeable, ...] = ()


def takes_idempotency_store(provider_class: type[Any]) -> bool:
    """Whether the provider's constructor accepts an ``idempotency_store``."""
    try:
        return "idempotency_store" in inspect.signature(provider_class).parameters
    except (TypeError, ValueError):  # a signature that cannot be read: give it nothing
        return False


def choose_state(
    stores: StateStores | str | None,
    environ: Environment,
    *,
    state_store: InvoiceStateStore | None = None,
    inbox: WebhookInbox | None = None,
    wants_ledger: bool = False,
) -> ChosenState:
    """The stores for a service (see the module docstring for the rules).

    ``wants_ledger`` says that the provider takes an ``idempotency_store`` and none was given.
    A database opened here is in :attr:`ChosenState.owned`. Raises
    :class:`~ams_billing.core.errors.ConfigurationError` when the database cannot be opened.
    """
    url: str | None = None
    given: StateStores | None = None
    if stores is None:
        memory = is_memory(environ.get(DATABASE_URL_VARIABLE) or "")
    elif isinstance(stores, str):
        memory = is_memory(stores)
        url = stores
    else:
        memory, given = False, stores
    left_to_the_database = state_store is None or inbox is None or wants_ledger
    if memory or not left_to_the_database:
        return ChosenState(
            state_store if state_store is not None else InMemoryInvoiceStateStore(),
            inbox if inbox is not None else InMemoryWebhookInbox(),
        )
    owned: tuple[Closeable, ...] = ()
    if given is None:
        from ams_billing.stores.service import open_service_stores  # noqa: PLC0415 - SQLAlchemy

        opened = open_service_stores(url, environ)
        given, owned = opened, (opened,)
    return ChosenState(
        state_store if state_store is not None else given.invoice_state,
        inbox if inbox is not None else given.inbox,
        given.idempotency if wants_ledger else None,
        owned,
    )


def location(store: object) -> str:
    """Where ``store`` keeps its state, for the log: a database URL (no password) or memory."""
    url = getattr(getattr(store, "engine", None), "url", None)
    render = getattr(url, "render_as_string", None)
    if callable(render):
        return str(render(hide_password=True))
    # The stores shipped for memory are named so: InMemoryInvoiceStateStore, ...
    if store is None or type(store).__name__.startswith("InMemory"):
        return "memory"
    return repr(store)
