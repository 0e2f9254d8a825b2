"""The one idempotency routine (``IdempotentCalls``) and its rule per error class, row by row.

Each row of the rule runs through the helper on the in-memory ledger and on a real SQL ledger
(an SQLite file): the error reaches the caller as itself; a key the rule forgets is free for a
corrected request; a key the rule keeps pending makes the next attempt look up what the lost
attempt made before calling again. ``docs/idempotency.md`` holds the same table: a test reads
it, so the documentation and the code cannot drift apart.
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest

import ams_billing
from ams_billing import (
    AuthenticationError,
    BillingError,
    ConfigurationError,
    Contact,
    ContactRecord,
    IdempotencyConflictError,
    InvalidStateError,
    NotFoundError,
    ProviderNotFoundError,
    ProviderUnavailableError,
    RateLimitedError,
    UnsupportedOperationError,
    ValidationError,
    WebhookVerificationError,
)
from ams_billing.core import errors as core_errors
from ams_billing.core import idempotency
from ams_billing.core.idempotency import (
    RULES,
    IdempotentCalls,
    OnError,
    Outcome,
    OutcomeCodec,
    rule_for,
)
from ams_billing.core.ledger import (
    IdempotencyRecord,
    IdempotencyStore,
    InMemoryIdempotencyStore,
    RecordState,
    fingerprint,
)
from ams_billing.stores import open_stores

ROOT = Path(__file__).resolve().parents[2]

ROWS: list[tuple[BaseException, OnError]] = [
    (ValidationError.for_field("currency", "XYZ is not enabled"), OnError.FORGET),
    (IdempotencyConflictError("elsewhere"), OnError.FORGET),
    (NotFoundError("no such invoice", resource_id="inv-1"), OnError.FORGET),
    (InvalidStateError("a VOIDED invoice cannot be emailed"), OnError.FORGET),
    (UnsupportedOperationError("no email from a Demo Company"), OnError.FORGET),
    (ConfigurationError("XERO_CLIENT_ID is missing"), OnError.FORGET),
    (ProviderNotFoundError("acme", "not installed", ()), OnError.FORGET),
    (ProviderUnavailableError("the connection was cut after sending"), OnError.KEEP_PENDING),
    (RateLimitedError("day limit", retry_after=3600, limit="day"), OnError.KEEP_PENDING),
    (AuthenticationError("the token was refused"), OnError.KEEP_PENDING),
    (WebhookVerificationError("any other BillingError"), OnError.KEEP_PENDING),
    (RuntimeError("a bug in the provider"), OnError.KEEP_PENDING),
    (KeyboardInterrupt(), OnError.KEEP_PENDING),
]

ADA = Contact("acct-1", "Ada Lovelace", "ada@example.org")
RECORD = ContactRecord("contact-1", "acct-1", "Ada Lovelace", "ada@example.org")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IdempotencyStore]:
    """The in-memory ledger, and the SQL one on an SQLite file."""
    if request.param == "memory":
        yield InMemoryIdempotencyStore()
        return
    with open_stores(f"sqlite:///{tmp_path / 'billing.sqlite3'}") as stores:
        yield stores.idempotency


@attrs.define
class System:
    """A remote system that counts its calls and look-ups and fails as told."""

    fail_with: BaseException | None = None
    calls: int = 0
    lookups: list[IdempotencyRecord] = attrs.field(factory=list)
    made: ContactRecord | None = None

    def create(self) -> ContactRecord:
        self.calls += 1
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        self.made = RECORD
        return RECORD

    def find(self, record: IdempotencyRecord) -> ContactRecord | None:
        self.lookups.append(record)
        return self.made


CODEC = OutcomeCodec[ContactRecord](
    keep=lambda record: Outcome(record.provider_id, record.email),
    replay=lambda record: attrs.evolve(RECORD, provider_id=record.result or ""),
)


def create(once: IdempotentCalls, system: System, contact: Contact = ADA) -> ContactRecord:
    return once.run(
        "contact:1",
        "create_contact",
        contact,
        call=system.create,
        codec=CODEC,
        find=system.find,
    )


@pytest.mark.parametrize(("error", "rule"), ROWS, ids=[type(e).__name__ for e, _ in ROWS])
def test_each_error_class_forgets_the_key_or_keeps_it_pending(
    store: IdempotencyStore, error: BaseException, rule: OnError
) -> None:
    once = IdempotentCalls(store)
    system = System(fail_with=error)
    assert rule_for(error) is rule
    with pytest.raises(type(error)) as raised:
        create(once, system)
    assert raised.value is error, "the error reaches the caller as itself"
    record = store.get("contact:1")
    if rule is OnError.FORGET:
        assert record is None
        # Nothing was applied: the caller may correct the request and reuse the key.
        corrected = attrs.evolve(ADA, email="ada@example.net")
        assert create(once, system, corrected) == RECORD
        assert system.lookups == []
    else:
        assert record is not None
        assert record.state is RecordState.PENDING
        # The next attempt first looks for what the lost attempt made; none here, so it calls.
        assert create(once, system) == RECORD
        assert [r.state for r in system.lookups] == [RecordState.PENDING]
        assert system.calls == 2
    done = store.get("contact:1")
    assert done is not None
    assert done.state is RecordState.DONE


def test_a_pending_key_adopts_what_the_lost_attempt_made(store: IdempotencyStore) -> None:
    once = IdempotentCalls(store)
    system = System()
    system.made = RECORD  # the attempt was applied, and its answer lost
    store.put("contact:1", IdempotencyRecord("create_contact", _print(), RecordState.PENDING))
    assert create(once, system) == RECORD
    assert system.calls == 0
    record = store.get("contact:1")
    assert record == IdempotencyRecord(
        "create_contact", _print(), RecordState.DONE, "contact-1", "ada@example.org"
    )


def test_a_recorded_outcome_is_replayed_without_a_call(store: IdempotencyStore) -> None:
    once = IdempotentCalls(store)
    system = System()
    create(once, system)
    replayed = create(once, system)
    assert (replayed, system.calls, system.lookups) == (RECORD, 1, [])


def test_a_key_of_another_request_conflicts_and_its_record_stays(store: IdempotencyStore) -> None:
    once = IdempotentCalls(store)
    system = System()
    create(once, system)
    first = store.get("contact:1")
    with pytest.raises(IdempotencyConflictError) as raised:
        create(once, system, attrs.evolve(ADA, name="Someone else"))
    assert raised.value.idempotency_key == "contact:1"
    assert store.get("contact:1") == first
    assert system.calls == 1


def test_the_namespace_prefixes_keys_in_the_store_and_errors_name_the_callers_key() -> None:
    store = InMemoryIdempotencyStore()
    once = IdempotentCalls(store, namespace="books-1:")
    create(once, System())
    assert store.get("contact:1") is None
    assert store.get("books-1:contact:1") is not None
    with pytest.raises(IdempotencyConflictError) as raised:
        create(once, System(), attrs.evolve(ADA, name="Someone else"))
    assert raised.value.idempotency_key == "contact:1"


class LockingStore(InMemoryIdempotencyStore):
    """An in-memory store that offers the cross-process lock, and notes what it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[tuple[str, ...]] = []
        self.states_seen: list[RecordState | None] = []

    @contextmanager
    def lock(self, *keys: str) -> Iterator[None]:
        self.held.append(keys)
        yield
        record = self.get(keys[0])
        self.states_seen.append(None if record is None else record.state)


def test_the_stores_lock_is_held_around_the_whole_routine() -> None:
    store = LockingStore()
    create(IdempotentCalls(store), System())
    # Released only once the outcome was recorded: another process then finds it.
    assert store.held == [("contact:1",)]
    assert store.states_seen == [RecordState.DONE]


@pytest.mark.parametrize("module", ["ams_billing", "ams_billing.core.idempotency"])
def test_json_codec_is_deprecated_and_still_replays_without_a_call(module: str) -> None:
    # Deprecated (it replays a result as first returned, which a replayed contact key must
    # not): the old paths still work, warning and naming what to use instead.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        codec = importlib.import_module(module).json_codec(ContactRecord)
    messages = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert any(re.search(r"json_codec is deprecated.*OutcomeCodec", m) for m in messages)
    assert "json_codec" not in ams_billing.__all__
    assert "json_codec" not in idempotency.__all__
    once = IdempotentCalls(InMemoryIdempotencyStore())
    system = System()

    def run() -> ContactRecord:
        return once.run("k", "create_contact", ADA, call=system.create, codec=codec)

    assert run() == RECORD
    assert run() == RECORD
    assert system.calls == 1


def test_every_error_class_of_the_core_has_a_row() -> None:
    classes = [
        value
        for name in core_errors.__all__
        if isinstance(value := getattr(core_errors, name), type)
        and issubclass(value, BillingError)
        and value is not BillingError
    ]
    rowed = {type(error) for error, _ in ROWS}
    assert set(classes) <= rowed, f"no row for {set(classes) - rowed}"


def _documented_rows() -> dict[str, str]:
    text = (ROOT / "docs" / "idempotency.md").read_text("utf-8")
    rows = re.findall(r"^\| `(\w+)`[^|]*\| (forgotten|left pending) \|", text, re.MULTILINE)
    return dict(rows)


def test_the_documented_table_is_the_rule() -> None:
    documented = _documented_rows()
    assert set(documented) == {cls.__name__ for cls, _ in RULES} | {"BillingError"}
    verdicts = {OnError.FORGET: "forgotten", OnError.KEEP_PENDING: "left pending"}
    for cls, rule in RULES:
        assert documented[cls.__name__] == verdicts[rule], cls.__name__
    assert documented["BillingError"] == "left pending"  # "any other error"


def test_the_helpers_docstring_gives_every_row() -> None:
    table = idempotency.__doc__ or ""
    for cls, _ in RULES:
        assert f"``{cls.__name__}``" in table, cls.__name__


def _print() -> str:
    return fingerprint("create_contact", ADA)
