"""Serve the emulator in the foreground until asked to stop: what both command forms run.

``python -m ams_billing.emulators.xero`` and ``ams-billing emulator`` each turn their
arguments into :class:`EmulatorOptions` and call :func:`serve_in_foreground`, which starts the
server, makes a throwaway database folder, announces what to export, and waits. SIGTERM (how
a script stops a background job), SIGHUP (the terminal went away) and SIGINT (Ctrl-C) all end
it the same way: the server stops, the database folder is deleted, and the call returns. The
handlers only note the signal, so no exception can land in the middle of that clean-up. A
signal that was ignored when the process started stays ignored: ``nohup`` ignores SIGHUP, and
a shell ignores SIGINT for a background job of a script, on purpose.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any

import attrs

from ams_billing.core.signals import handling_signals
from ams_billing.emulators.common.clock import EmulatorClock

from .app import XeroEmulator
from .config import BROAD_SCOPES, GRANULAR_SCOPES, EmulatorConfig
from .exports import provider_environment, throwaway_database
from .server import EmulatorServer

__all__ = [
    "STOP_SIGNALS",
    "Announcement",
    "CannotServeError",
    "EmulatorOptions",
    "serve_in_foreground",
]

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name)
)
"""The signals that stop a foreground emulator cleanly (SIGHUP does not exist on Windows)."""

_POLL_SECONDS = 0.1


class CannotServeError(Exception):
    """The emulator cannot serve where asked: a host that is not loopback, a port taken."""


@attrs.frozen
class EmulatorOptions:
    """What the command line chose: where to serve and which organisation to emulate."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 0
    demo_company: bool = False
    granular: bool = False
    rate_limits: bool = True
    scale: float = 1.0
    currencies: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_interval: float = 2.0

    def config(self) -> EmulatorConfig:
        """The emulated organisation: NZD, plus each other currency named (once)."""
        extra = dict.fromkeys(c.upper() for c in self.currencies if c.upper() != "NZD")
        return EmulatorConfig(
            seed=self.seed,
            is_demo_company=self.demo_company,
            scopes=GRANULAR_SCOPES if self.granular else BROAD_SCOPES,
            rate_limits=self.rate_limits,
            currencies=("NZD", *extra),
        )

    def server(self) -> EmulatorServer:
        """A server for a new emulator, not yet started (``ValueError`` for a bad host)."""
        emulator = XeroEmulator(self.config(), clock=EmulatorClock.real(scale=self.scale))
        if self.webhook_url:
            emulator.set_webhook_target(self.webhook_url)
        interval = self.webhook_interval if self.webhook_url else None
        return EmulatorServer(emulator, self.host, self.port, webhook_interval=interval)


@attrs.frozen
class Announcement:
    """What a started emulator tells its user: where it serves and what to export."""

    base_url: str
    environment: Mapping[str, str]

    @property
    def control_url(self) -> str:
        """The control surface's call log."""
        return f"{self.base_url}/_emulator/calls"

    def lines(self) -> list[str]:
        """The text form: ``export NAME=value`` lines between two comments (an env file)."""
        return [
            "# Xero emulator running; export these (fake credentials, and billing state in a "
            "throwaway SQLite file of this emulator's own, deleted when it stops):",
            *(f"export {name}={value}" for name, value in self.environment.items()),
            f"# control surface: {self.control_url}  (Ctrl-C or SIGTERM to stop)",
        ]

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` form."""
        return {
            "ok": True,
            "base_url": self.base_url,
            "control_url": self.control_url,
            "environment": dict(self.environment),
        }


def serve_in_foreground(
    options: EmulatorOptions,
    announce: Callable[[Announcement], None],
    *,
    stopped: Callable[[str], None] = lambda reason: None,
) -> None:
    """Serve until SIGTERM, SIGHUP or SIGINT, then stop and delete the database folder.

    ``announce`` is called once the server answers; ``stopped`` with the signal's name once
    one arrives (before the clean-up). Raises :class:`CannotServeError` for a host that is
    not loopback or a port that cannot be bound, before anything is created.
    """
    where = f"{options.host}:{options.port}"
    try:
        server = options.server()
    except ValueError as error:
        raise CannotServeError(f"cannot serve on {where}: {error}") from None
    received: list[int] = []
    with _noting_stop_signals(received):
        try:
            server.start()
        except OSError as error:
            raise CannotServeError(f"cannot serve on {where}: {error}") from None
        try:
            with throwaway_database() as database:
                config = server.emulator.config
                environment = provider_environment(config, server.base_url, database_url=database)
                announce(Announcement(server.base_url, environment))
                while not received:
                    time.sleep(_POLL_SECONDS)
                stopped(signal.Signals(received[0]).name)
        finally:
            server.stop()


@contextlib.contextmanager
def _noting_stop_signals(received: list[int]) -> Iterator[None]:
    """Append each stop signal to ``received`` instead of its usual effect; restore on exit.

    Only the main thread may set handlers; elsewhere (a test calling in a thread) nothing is
    changed.
    """

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    with handling_signals(STOP_SIGNALS, note):
        yield
