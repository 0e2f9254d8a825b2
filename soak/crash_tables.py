"""What the crash soak's processes share: its tables, the members' plan, and the listener.

The soak's own tables live beside the stores' tables, in the same database, so that what a
worker finished and what a listener was told survive every ``SIGKILL``:

- ``crash_soak_members``: one row per member, written by the supervisor before the workers
  start (which worker bills it), then by that worker after each step (contact id, invoice id,
  sent, finished). A restarted worker re-runs its members that are not finished, with the same
  idempotency keys (they follow from the seed and the member's number);
- ``crash_soak_told``: every change a listener was told, in order, by any process;
- ``crash_soak_problems``: what a worker saw that must not happen (an untyped exception, an
  error a retry with the same key should not give).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ams_billing import Contact, InvoiceChange, InvoiceRequest, LineItem, hookimpl
from ams_billing.stores import DATABASE_URL_VARIABLE, create_store_engine
from ams_billing.stores.database import write_transaction

__all__ = [
    "DbListener",
    "MemberPlan",
    "create_tables",
    "members",
    "problems",
    "told",
]

metadata = sa.MetaData()

members = sa.Table(
    "crash_soak_members",
    metadata,
    sa.Column("member", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("worker", sa.Integer, nullable=False),
    sa.Column("contact_id", sa.String(64)),
    sa.Column("invoice_id", sa.String(64)),
    sa.Column("sent", sa.Boolean, nullable=False, default=False),
    sa.Column("finished", sa.Boolean, nullable=False, default=False),
    sa.Column("runs", sa.Integer, nullable=False, default=0),
)

told = sa.Table(
    "crash_soak_told",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("invoice_id", sa.String(64), nullable=False),
    sa.Column("reference", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

problems = sa.Table(
    "crash_soak_problems",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)


def create_tables(engine: Engine, workers: int, count: int) -> None:
    """(Re)create the soak's tables and give member ``m`` to worker ``m % workers``."""
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with write_transaction(engine) as connection:
        connection.execute(
            sa.insert(members),
            [
                {"member": m, "worker": m % workers, "sent": False, "finished": False, "runs": 0}
                for m in range(count)
            ],
        )


@dataclass(frozen=True)
class MemberPlan:
    """One member: who, what they are billed, and the idempotency keys of each step.

    Everything follows from the seed and the member's number, so a restarted worker retries
    exactly what its killed predecessor started, with the same keys.
    """

    seed: int
    number: int
    relative_dates: bool = False
    """Issue today and fall due in 30 days (a provider that refuses past due dates: Stripe);
    else the fixed dates of the Xero soak."""

    @property
    def account_reference(self) -> str:
        """The contact's account reference (Xero's ``ContactNumber``)."""
        return f"crash-{self.seed}-{self.number:05d}"

    @property
    def reference(self) -> str:
        """The invoice's reference."""
        return f"CRASH-{self.seed}-{self.number:05d}"

    @property
    def amount(self) -> Decimal:
        """The annual fee billed."""
        rng = random.Random(self.seed * 100_003 + self.number)  # noqa: S311 - reproducible
        return Decimal(rng.choice(["80.00", "120.00", "45.50", "19.99"]))

    def key(self, step: str) -> str:
        """The idempotency key of ``step`` (contact, invoice, email)."""
        return f"{step}:{self.account_reference}"

    def contact(self) -> Contact:
        """The member as a contact."""
        return Contact(
            self.account_reference,
            f"Member {self.seed}-{self.number}",
            f"crash{self.number}@example.org",
        )

    def request(self) -> InvoiceRequest:
        """The member's invoice."""
        issue = date.today() if self.relative_dates else date(2026, 1, 15)
        return InvoiceRequest(
            contact=self.contact(),
            line_items=[LineItem("Annual membership", Decimal(1), self.amount)],
            currency="NZD",
            issue_date=issue,
            due_date=issue + timedelta(days=30),
            reference=self.reference,
        )


class DbListener:
    """The AMS's listener: writes every change it is told to ``crash_soak_told``.

    Built without arguments (``ams-billing webhooks drain --listener crash_tables:DbListener``
    instantiates it): the database is ``$AMS_BILLING_DATABASE_URL``.
    """

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or create_store_engine(os.environ[DATABASE_URL_VARIABLE])

    @hookimpl
    def invoice_changed(self, change: InvoiceChange) -> None:
        """Record the change (committed before returning, so a kill after it keeps it)."""
        invoice = change.invoice
        with write_transaction(self.engine) as connection:
            connection.execute(
                sa.insert(told).values(
                    invoice_id=invoice.provider_id,
                    reference=invoice.reference,
                    status=invoice.status.value,
                    kind=change.kind.value,
                    pid=os.getpid(),
                    at=datetime.now(UTC),
                )
            )


def record_problem(engine: Engine, text: str) -> None:
    """Keep a problem a worker saw, for the audit."""
    with write_transaction(engine) as connection:
        connection.execute(sa.insert(problems).values(pid=os.getpid(), text=text[:2000]))
