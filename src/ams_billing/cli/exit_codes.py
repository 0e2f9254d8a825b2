"""What ``ams-billing`` exit statuses mean, the same for every command.

===== ====================================================================================
Code  Meaning
===== ====================================================================================
0     everything held (warnings included)
1     a check, the demo flow, a webhook verdict or a signature verification failed
2     usage error: unknown option, missing argument, bad value (click's own code)
3     configuration error: a variable is missing or invalid, or the provider cannot be loaded
4     the provider could not be reached, refused the credentials or the organisation, or
      rate-limited us beyond the configured wait
130   interrupted (Ctrl-C); ``sync`` has saved its state and continues when run again
===== ====================================================================================
"""

from __future__ import annotations

import enum

from ams_billing.core.errors import (
    AuthenticationError,
    ConfigurationError,
    ProviderUnavailableError,
    RateLimitedError,
)

__all__ = ["ExitCode", "exit_code_for"]


class ExitCode(enum.IntEnum):
    """The exit statuses of every ``ams-billing`` command."""

    OK = 0
    FAILED = 1
    USAGE = 2
    CONFIGURATION = 3
    PROVIDER = 4
    INTERRUPTED = 130


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit status an error ends a command with."""
    if isinstance(error, ConfigurationError):
        return ExitCode.CONFIGURATION
    if isinstance(error, AuthenticationError | ProviderUnavailableError | RateLimitedError):
        return ExitCode.PROVIDER
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.FAILED
