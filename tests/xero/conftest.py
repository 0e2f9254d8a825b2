"""Fixtures for the Xero provider's own tests: the provider wired to a fresh emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from xero_rig import Rig, build_rig

from ams_billing import Contact, InvoiceRequest, LineItem
from ams_billing.emulators.xero import EmulatorConfig


@pytest.fixture
def make_rig() -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def make(config: EmulatorConfig | None = None, **settings: Any) -> Rig:
        rig = build_rig(config, **settings)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


@pytest.fixture
def rig(make_rig: Callable[..., Rig]) -> Rig:
    return make_rig()


@pytest.fixture
def member() -> Contact:
    return Contact("acct-42", "Ada Lovelace", "ada@example.org", "Ada", "Lovelace")


@pytest.fixture
def membership(member: Contact) -> InvoiceRequest:
    return InvoiceRequest(
        contact=member,
        line_items=[LineItem("Annual membership", Decimal(1), Decimal("120.00"))],
        currency="NZD",
        issue_date=date(2026, 7, 1),
        due_date=date(2026, 7, 31),
        reference="MEMBERSHIP-7",
    )
