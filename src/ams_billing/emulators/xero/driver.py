"""The Xero test driver's optional contract methods, answered from the emulator's real state.

The contract suite's optional driver protocols (:class:`~ams_billing.contracts.EmailCounter`,
:class:`~ams_billing.contracts.WebhookSigner`, :class:`~ams_billing.contracts.DraftMaker`) and
the harness's ``other_currencies``, for the Xero provider over its emulator:

- emails are counted from the emulator's call log: a ``POST /Invoices/{id}/Email`` it answered
  204, or that it applied before dropping the connection, is an email sent; a replay of a stored
  response is not;
- deliveries are signed with the emulator's webhook key, in Xero's delivery format;
- drafts are put in the books through the emulator's Accounting API, as a bookkeeper using Xero
  would, never through the provider under test;
- the further currencies are those the emulated organisation has enabled.

Kept apart from :mod:`ams_billing.emulators.xero.harness` (which mixes these methods into its
driver) so that each can change without the other.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

import attrs
import httpx

from ams_billing.core.models import (
    AmountType,
    ContactRecord,
    Invoice,
    InvoiceDefaults,
    InvoiceRequest,
)
from ams_billing.emulators.xero import EmulatorConfig, FaultKind, XeroEmulator
from ams_billing.providers.xero import wire
from ams_billing.providers.xero.mapping import contact_payload, to_contact_record, to_invoice
from ams_billing.providers.xero.mapping import invoice_payload as xero_invoice_payload
from ams_billing.testing.harness import SignedDelivery

__all__ = [
    "CONTRACT_CURRENCIES",
    "EmulatorContractMethods",
    "contract_config",
    "other_currencies",
]

CONTRACT_CURRENCIES = ("NZD", "AUD", "USD")
"""The currencies the contract harnesses' emulated organisation enables (NZD is its base)."""

_API = "/api.xro/2.0"
_BOOKKEEPER_BASE_URL = "https://bookkeeper.invalid"
_ATTEMPTS = 8
_JSON = "application/json; charset=utf-8"


def contract_config() -> EmulatorConfig:
    """The emulator configuration of the contract harnesses: an organisation with 3 currencies."""
    return EmulatorConfig(currencies=CONTRACT_CURRENCIES)


def other_currencies(emulator: XeroEmulator) -> tuple[str, ...]:
    """The currencies besides the base one that the emulated organisation bills in.

    The emulator rounds every currency to 2 decimal places, as it has no table of minor units,
    so a zero-decimal currency (JPY) would be held to a promise the emulator cannot keep; one
    enabled in its configuration is not offered to the suite.
    """
    config = emulator.config
    enabled = dict.fromkeys((config.base_currency, *config.currencies))
    return tuple(code for code in enabled if code not in (config.base_currency, "JPY"))


class EmulatorContractMethods:
    """The optional contract driver methods over ``self.emulator``.

    ``count_emails_sent``, the ``sign_*`` methods and ``create_draft_invoice``; the class that
    mixes this in sets ``emulator``.
    """

    emulator: XeroEmulator
    draft_account_code: str = "200"
    draft_amount_type: AmountType = AmountType.EXCLUSIVE

    # -- EmailCounter ----------------------------------------------------------------------

    def count_emails_sent(self, invoice_id: str) -> int:
        """How many emails the emulator really sent for the invoice (from its call log)."""
        path = f"{_API}/Invoices/{quote(invoice_id, safe='')}/Email".lower()
        return sum(
            1
            for call in self.emulator.calls
            if call.method == "POST"
            and call.path.rstrip("/").lower() == path
            and not call.replayed
            and (call.status == 204 or (call.dropped and call.fault == FaultKind.DROP_AFTER.value))
        )

    # -- WebhookSigner ---------------------------------------------------------------------

    def sign_webhook(self, body: bytes, *, at: datetime | None = None) -> dict[str, str]:
        """The headers Xero signs ``body`` with; ``at`` is ignored (no time is signed)."""
        return {"Content-Type": _JSON, "x-xero-signature": self.emulator.sign_webhook(body)}

    def sign_webhook_body(self, body: bytes) -> SignedDelivery:
        """``body`` signed with the emulator's webhook key, headers as Xero sends them."""
        return SignedDelivery(body, self.sign_webhook(body))

    def sign_foreign_delivery(self, invoice_id: str) -> SignedDelivery:
        """A genuine-looking delivery about ``invoice_id`` for another organisation (tenant)."""
        config = self.emulator.config
        other = str(uuid.uuid5(uuid.NAMESPACE_URL, f"another-tenant-than:{config.tenant_id}"))
        now = self.emulator.clock.now()
        event = {
            "resourceUrl": f"{config.resource_base_url}/Invoices/{invoice_id}",
            "resourceId": invoice_id,
            "eventDateUtc": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}",
            "eventType": "UPDATE",
            "eventCategory": "INVOICE",
            "tenantId": other,
            "tenantType": "ORGANISATION",
        }
        return self.sign_webhook_body(
            _compact(
                {
                    "events": [event],
                    "firstEventSequence": 1,
                    "lastEventSequence": 1,
                    "entropy": "ANOTHERTENANTSDELIVERY",
                }
            )
        )

    def sign_empty_delivery(self) -> SignedDelivery:
        """An Intent-to-Receive check as Xero sends it: no events, sequences 0."""
        return self.sign_webhook_body(
            _compact(
                {
                    "events": [],
                    "lastEventSequence": 0,
                    "firstEventSequence": 0,
                    "entropy": "INTENTTORECEIVECHECKS",
                }
            )
        )

    # -- DraftMaker ------------------------------------------------------------------------

    def create_draft_invoice(self, request: InvoiceRequest) -> Invoice:
        """Put ``request`` in the emulator's books as a DRAFT, through its API as a bookkeeper."""
        with self.emulator.client(_BOOKKEEPER_BASE_URL) as client:
            contact = self._bookkeeper_contact(client, request)
            defaults = InvoiceDefaults(
                self.draft_amount_type, request.currency, self.draft_account_code
            )
            payload = xero_invoice_payload(request, contact.provider_id, defaults)
            draft = attrs.evolve(payload, status="DRAFT")
            response = self._bookkeeper_call(
                client, "PUT", "/Invoices", {"Invoices": [wire.unstructure(draft)]}
            )
        (element,) = wire.read(response.content, wire.InvoicesEnvelope).invoices
        return to_invoice(element, contact)

    def _bookkeeper_contact(self, client: httpx.Client, request: InvoiceRequest) -> ContactRecord:
        reference = request.contact.account_reference
        found = self._bookkeeper_call(
            client, "GET", f"/Contacts/{quote(reference, safe='')}", expect=(200, 404)
        )
        if found.status_code == 200:
            for contact in wire.read(found.content, wire.ContactsEnvelope).contacts:
                if contact.contact_number == reference:
                    return attrs.evolve(to_contact_record(contact), name=request.contact.name)
        payload = wire.unstructure(contact_payload(request.contact))
        created = self._bookkeeper_call(client, "POST", "/Contacts", {"Contacts": [payload]})
        (contact,) = wire.read(created.content, wire.ContactsEnvelope).contacts
        return to_contact_record(contact)

    def _bookkeeper_call(
        self,
        client: httpx.Client,
        method: str,
        path: str,
        body: Any = None,
        *,
        expect: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self.emulator.issue_token()}",
            "xero-tenant-id": self.emulator.config.tenant_id,
            "Accept": "application/json",
        }
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = wire.dumps(body)
        for _ in range(_ATTEMPTS):
            response = client.request(
                method, f"{_API}{path}", params={"unitdp": "4"}, headers=headers, content=content
            )
            if response.status_code != 429:
                break
            # The emulator's clock is virtual in the harnesses: waiting costs no time.
            self.emulator.clock.sleep(float(response.headers.get("Retry-After") or 1))
        if response.status_code not in expect:
            raise AssertionError(
                f"the emulator answered the bookkeeper's {method} {path} with "
                f"{response.status_code}: {response.text[:500]}"
            )
        return response


def _compact(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")
