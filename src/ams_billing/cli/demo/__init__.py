"""The ``ams-billing demo`` flow: the setup guide's verification steps, and where they run.

- :mod:`~ams_billing.cli.demo.flow`: the steps, against any :class:`DemoEnvironment`;
- :mod:`~ams_billing.cli.demo.on_emulator`: the environment of the real Xero provider against
  the bundled emulator on loopback (imported only when that environment is chosen).
"""
