"""Names that moved keep their old import path, with a DeprecationWarning naming the new one.

Issue 18 moved service assembly out of core (to ``ams_billing.assembly``) and webhook
processing out of contrib (to ``ams_billing.core.webhooks``). Code that imports the old paths
must keep working, loudly: the same object, and a warning that says where to import it from.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

MOVED = [
    ("ams_billing.core.loading", "load_service", "ams_billing.assembly.loading"),
    ("ams_billing.core.loading", "ServiceSettings", "ams_billing.assembly.loading"),
    ("ams_billing.core.loading", "resolve_provider_class", "ams_billing.assembly.loading"),
    ("ams_billing.core.loading", "available_providers", "ams_billing.assembly.loading"),
    ("ams_billing.core.loading", "load_provider", "ams_billing.assembly.loading"),
    ("ams_billing.core.loading", "declared_processes", "ams_billing.assembly.loading"),
    ("ams_billing.core.loading", "ENTRY_POINT_GROUP", "ams_billing.assembly.loading"),
    ("ams_billing.core.loading", "SERVICE_CLASS_VARIABLE", "ams_billing.assembly.loading"),
    ("ams_billing.core.loading", "PROCESS_VARIABLES", "ams_billing.assembly.loading"),
    ("ams_billing.core.loading", "GUIDE_CLASS_PATHS", "ams_billing.assembly.loading"),
    ("ams_billing.core.loading", "PROVIDER_ATTRIBUTE", "ams_billing.assembly.loading"),
    ("ams_billing.core.state", "choose_state", "ams_billing.assembly.state"),
    ("ams_billing.core.state", "ChosenState", "ams_billing.assembly.state"),
    ("ams_billing.core.state", "location", "ams_billing.assembly.state"),
    ("ams_billing.core.state", "takes_idempotency_store", "ams_billing.assembly.state"),
    ("ams_billing.stores", "load_durable_service", "ams_billing.assembly.loading"),
    ("ams_billing.stores", "takes_idempotency_store", "ams_billing.assembly.state"),
    ("ams_billing.stores.service", "load_durable_service", "ams_billing.assembly.loading"),
    ("ams_billing.stores.service", "takes_idempotency_store", "ams_billing.assembly.state"),
    ("ams_billing.contrib.webhooks", "BackgroundProcessor", "ams_billing.core.webhooks"),
    ("ams_billing.contrib.webhooks", "DrainResult", "ams_billing.core.webhooks"),
    ("ams_billing.contrib.webhooks", "drain_inbox", "ams_billing.core.webhooks"),
    ("ams_billing.contrib.webhooks.processor", "BackgroundProcessor", "ams_billing.core.webhooks"),
    ("ams_billing.contrib.webhooks.processor", "DrainResult", "ams_billing.core.webhooks"),
    ("ams_billing.contrib.webhooks.processor", "drain_inbox", "ams_billing.core.webhooks"),
    ("ams_billing.contrib.webhooks.processor", "process_entries", "ams_billing.core.webhooks"),
    ("ams_billing.contrib.webhooks.processor", "MAX_COALESCED", "ams_billing.core.webhooks"),
    (
        "ams_billing.contrib.webhooks.processor",
        "DEFAULT_LEASE_SECONDS",
        "ams_billing.core.webhooks",
    ),
]


@pytest.mark.parametrize(("old", "name", "new"), MOVED)
def test_an_old_path_gives_the_same_object_and_a_warning_naming_the_new_one(
    old: str, name: str, new: str
) -> None:
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} is deprecated") as caught:
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)
    assert f"import {name} from {new}" in str(caught[0].message)
    assert caught[0].filename == __file__  # it points at the importer, not at the alias


@pytest.mark.parametrize("old", sorted({old for old, _, _ in MOVED}))
def test_a_name_that_never_existed_is_still_an_attribute_error(old: str) -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        getattr(importlib.import_module(old), "no_such_name")  # noqa: B009


def test_from_import_of_an_old_path_works_in_a_fresh_interpreter() -> None:
    """The way users write it, with the warning shown on stderr, from their own line."""
    probe = (
        "import warnings; warnings.simplefilter('always')\n"
        "from ams_billing.core.loading import load_service\n"
        "from ams_billing.contrib.webhooks import BackgroundProcessor\n"
        "import ams_billing\n"
        "assert load_service is ams_billing.load_service\n"
        "assert BackgroundProcessor is ams_billing.BackgroundProcessor\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "<string>:2: DeprecationWarning: ams_billing.core.loading.load_service" in done.stderr
    assert "<string>:3: DeprecationWarning: ams_billing.contrib.webhooks.BackgroundProcessor" in (
        done.stderr
    )


def test_the_new_homes_are_exported_from_the_package() -> None:
    import ams_billing

    for name in ("load_service", "load_durable_service", "BackgroundProcessor", "drain_inbox"):
        assert name in ams_billing.__all__
