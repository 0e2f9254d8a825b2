"""What commands share, and what tests inject: how the billing service is built.

``ams-billing`` builds its :class:`~ams_billing.core.service.BillingService` with
:func:`~ams_billing.assembly.loading.load_service` from the command's environment, so its state
(the idempotency ledger, the invoice states) is in the stores' database that
``AMS_BILLING_DATABASE_URL`` names, else the SQLite file, as the web processes' is. Tests (and
an AMS embedding the CLI) pass another factory as the click context object::

    CliRunner().invoke(main, ["sync", "--id", "..."], obj=CliContext(service_factory=make))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import click

from ams_billing.assembly.loading import load_service
from ams_billing.core.service import BillingService

__all__ = ["CliContext", "ServiceFactory", "cli_context", "default_service_factory"]

ServiceFactory = Callable[[Mapping[str, str], Sequence[object]], BillingService]
"""Builds the service from the command's environment, with these listeners registered."""


def default_service_factory(
    environ: Mapping[str, str], listeners: Sequence[object]
) -> BillingService:
    """``load_service`` from ``environ``: the state in the durable stores by default.

    ``environ`` gives ``AMS_BILLING_SERVICE_CLASS``, the provider's variables and
    ``AMS_BILLING_DATABASE_URL``.
    """
    return load_service(environ=environ, listeners=listeners)


@attrs.define
class CliContext:
    """The click context object.

    :param service_factory: builds the billing service (``sync``).
    :param xero_options: extra keyword arguments for ``XeroProvider`` when a command
        builds one itself (``check``): ``transport``, ``clock``, ``sleep``.
    """

    service_factory: ServiceFactory = default_service_factory
    xero_options: dict[str, Any] = attrs.field(factory=dict)


def cli_context() -> CliContext:
    """The current command's :class:`CliContext` (a default one outside a group)."""
    context = click.get_current_context()
    found = context.find_object(CliContext)
    return found if found is not None else CliContext()
