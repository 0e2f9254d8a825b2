"""Local stand-ins for the accounting systems the providers talk to, one subpackage each.

Every emulator follows the layout of :mod:`ams_billing.emulators.xero`:

``emulators/<name>/`` (the emulator proper)
    the emulated system: its state, its HTTP API as an httpx transport (in-process) and as a
    loopback server, and ``__main__`` (``python -m ams_billing.emulators.<name>``). It imports
    only :mod:`ams_billing.core`, the standard library and its HTTP dependencies; never a
    provider, :mod:`ams_billing.testing` or :mod:`ams_billing.contracts`, so it can run on its
    own (``ams-billing emulator``, the demo, a developer without an account).
``emulators/<name>/harness.py``, ``driver.py`` (and ``live.py``, a harness on the real system)
    the contract harness of the provider ``<name>`` over the emulator and its test driver. These
    modules belong to the testing layer, above the emulator and the provider: they import both,
    and :mod:`ams_billing.testing`. Nothing in the emulator proper imports them; the harness is
    registered under the entry-point group ``ams_billing.contract_harnesses``.
``contracts/<name>_emulator.py``
    its pytest fixtures, if any: only :mod:`ams_billing.contracts` imports pytest.

The provider itself stays in ``providers/<name>/`` and imports none of this.

``emulators/common/`` holds the provider-neutral pieces every emulator shares (clock, request
and response values, the in-process transport); it imports no emulator.
"""
