"""The rule per error class (``ams_billing.core.idempotency.RULES``) through the Xero provider.

Each keyed write (a contact, an invoice, an email) meets each error class Xero can give, over
the emulator: a write applied whose answers were lost (connections cut after the change, every
attempt), a write applied then a day-limit 429 on the transport's retry, a refused token, a
refused request, an unknown resource. After the error, the ledger holds what the rule says
(pending, or nothing); the caller's retry with the same key then leaves exactly one contact,
invoice or email, and, after a pending record, runs the look-up first.

Before the one routine, the contact path forgot its key on a 429 or a refused token, and the
email path on a refused token: the ``pending`` assertions below fail there.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from xero_rig import Rig

from ams_billing import (
    AuthenticationError,
    BillingError,
    Contact,
    InvoiceRequest,
    NotFoundError,
    ProviderUnavailableError,
    RateLimitedError,
    ValidationError,
)
from ams_billing.emulators.xero import FaultKind, FaultRule
from ams_billing.providers.xero import RecordState

KEY = "the-key"
VALIDATION = {
    "ErrorNumber": 10,
    "Type": "ValidationException",
    "Message": "A validation exception occurred",
    "Elements": [{"ValidationErrors": [{"Message": "Reference is too long"}]}],
}
FORBIDDEN = {"Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful"}


class Operation:
    """One keyed write: its endpoint, how to call it, and how many it made in the books."""

    def __init__(self, name: str, method: str, path: str) -> None:
        self.name = name
        self.method = method
        self.path = path

    def __repr__(self) -> str:
        return self.name

    def prepare(self, rig: Rig, membership: InvoiceRequest) -> Callable[[], object]:
        """Make what the write needs (a contact, an invoice); return the keyed call."""
        if self.name == "create_contact":
            return lambda: rig.service.create_contact(membership.contact, idempotency_key=KEY)
        rig.service.create_contact(membership.contact, idempotency_key="contact:0")
        if self.name == "create_invoice":
            return lambda: rig.service.create_invoice(membership, idempotency_key=KEY)
        invoice = rig.service.create_invoice(membership, idempotency_key="invoice:0")
        return lambda: rig.service.send_invoice(invoice, idempotency_key=KEY)

    def made(self, rig: Rig, member: Contact) -> int:
        """Contacts with the member's number, invoices, or emails applied (as the soak counts)."""
        books = rig.emulator.books()
        if self.name == "create_contact":
            return sum(
                1 for c in books.contacts if c.get("ContactNumber") == member.account_reference
            )
        if self.name == "create_invoice":
            return len(books.invoices)
        return sum(
            1
            for call in rig.emulator.calls
            if call.endpoint.endswith("/Email")
            and not call.replayed
            and (call.status == 204 or call.fault == FaultKind.DROP_AFTER.value)
        )


OPERATIONS = [
    Operation("create_contact", "POST", r"/Contacts$"),
    Operation("create_invoice", "PUT", r"/Invoices$"),
    Operation("send_invoice", "POST", r"/Email$"),
]


def cut_after_every_attempt(rig: Rig, op: Operation) -> None:
    attempts = rig.provider.settings.max_attempts
    rig.emulator.add_fault(
        FaultRule(FaultKind.DROP_AFTER, method=op.method, path=op.path, count=attempts)
    )


def applied_then_day_limit(rig: Rig, op: Operation) -> None:
    rig.emulator.add_fault(
        FaultRule(FaultKind.SLOW, method=op.method, path=op.path, count=1, delay=45)
    )
    rig.emulator.add_fault(
        FaultRule(
            FaultKind.RATE_LIMIT_DAY, method=op.method, path=op.path, count=1, retry_after=3600
        )
    )


def token_refused(rig: Rig, op: Operation) -> None:
    rig.transport.script(1, 403, FORBIDDEN, method=op.method, path=op.path)


def refused(rig: Rig, op: Operation) -> None:
    rig.transport.script(1, 400, VALIDATION, method=op.method, path=op.path)


def not_found(rig: Rig, op: Operation) -> None:
    rig.transport.script(1, 404, {"Title": "Not Found"}, method=op.method, path=op.path)


FAULTS: list[tuple[Callable[[Rig, Operation], None], type[BillingError], bool]] = [
    (cut_after_every_attempt, ProviderUnavailableError, True),
    (applied_then_day_limit, RateLimitedError, True),
    (token_refused, AuthenticationError, True),
    (refused, ValidationError, False),
    (not_found, NotFoundError, False),
]


@pytest.mark.parametrize("op", OPERATIONS, ids=repr)
@pytest.mark.parametrize(
    ("fault", "error", "pending"), FAULTS, ids=[error.__name__ for _, error, _ in FAULTS]
)
def test_each_error_class_leaves_the_key_as_the_rule_says(
    rig: Rig,
    membership: InvoiceRequest,
    op: Operation,
    fault: Callable[[Rig, Operation], None],
    error: type[BillingError],
    pending: bool,
) -> None:
    call = op.prepare(rig, membership)
    fault(rig, op)
    with pytest.raises(error):
        call()
    record = rig.provider.ledger.get(KEY)
    if pending:
        assert record is not None, f"{error.__name__} forgot a key whose write may have landed"
        assert record.state is RecordState.PENDING
    else:
        assert record is None, f"{error.__name__} kept a key Xero refused"
    # The caller's retry, after Xero's own key memory has gone.
    rig.emulator.clock.advance(3600 + rig.emulator.config.idempotency_retention)
    rig.transport.clear()
    call()
    assert op.made(rig, membership.contact) == 1
    done = rig.provider.ledger.get(KEY)
    assert done is not None
    assert done.state is RecordState.DONE
    first = rig.api()[0]
    looked_up = first.method == "GET" and op.name != "create_contact"
    assert looked_up is (pending and op.name != "create_contact"), (
        "a pending key is looked up first (invoices, emails); a forgotten one is not"
    )
