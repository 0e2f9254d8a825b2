"""Running an ``ams-billing`` command inside Django: Django's settings, Django's service.

The command sees the environment with the project's ``AMS_BILLING_*`` and ``XERO_*`` settings
laid over it (:func:`~ams_billing.contrib.django.service.settings_environ`), and builds no
service of its own: it uses the process's, whose listener is the Django signal, so a sync run
from ``manage.py`` updates the project's rows exactly as a webhook does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from django.core.management.base import BaseCommand

from ams_billing.cli import CliContext, main
from ams_billing.contrib.django.service import get_billing_service, settings_environ
from ams_billing.core.service import BillingService

__all__ = ["CliCommand"]


def _django_service(environ: Mapping[str, str], listeners: Sequence[object]) -> BillingService:
    service = get_billing_service()
    for listener in listeners:
        service.add_listener(listener)
    return service


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Make ``values`` the whole of ``os.environ`` for the block, then put it back."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class CliCommand(BaseCommand):
    """A management command that is the ``ams-billing`` sub-command :attr:`cli_command`.

    Its arguments are the sub-command's (``manage.py ams_billing_sync --help``); its exit
    status is the sub-command's.
    """

    cli_command = ""

    def run_from_argv(self, argv: list[str]) -> None:
        """Hand everything after the command's name to the ``ams-billing`` sub-command."""
        self.run_cli(argv[2:])

    def run_cli(self, arguments: Sequence[str]) -> None:
        """Run the sub-command with ``arguments``; exits with its status."""
        with _environment(settings_environ()):
            main.main(
                [self.cli_command, *arguments],
                prog_name=f"manage.py ams_billing_{self.cli_command}",
                obj=CliContext(service_factory=_django_service),
            )

    def handle(self, *args: str, **options: object) -> None:
        """``call_command`` runs the sub-command with positional arguments only."""
        self.run_cli(args)
