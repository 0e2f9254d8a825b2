"""Read-only settings endpoints for a configuration self-check.

``/Organisation``, ``/Organisation/Actions``, ``/Accounts`` (``where`` on Code/Status/Type),
``/Accounts/{AccountID}``, ``/Currencies`` and ``/TaxRates``. Writes are not emulated (405).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ams_billing.emulators.common.messages import EmulatorResponse

from . import wire
from .books import Account, TaxRate
from .config import currency_description
from .context import RequestContext

__all__ = ["account_json", "handle_settings"]

_VERSIONS = {"AU", "NZ", "UK", "US"}


def account_json(account: Account) -> dict[str, Any]:
    """One account's JSON."""
    body: dict[str, Any] = {
        "AccountID": account.account_id,
        "Code": account.code,
        "Name": account.name,
        "Status": account.status,
        "Type": account.type,
        "TaxType": account.tax_type,
        "Class": account.account_class,
        "EnablePaymentsToAccount": account.enable_payments,
        "ShowInExpenseClaims": False,
        "ReportingCode": account.account_class[:3],
        "ReportingCodeName": account.account_class.title(),
        "HasAttachments": False,
        "UpdatedDateUTC": wire.ms_datetime(account.updated),
        "AddToWatchlist": False,
    }
    if account.type == "BANK":
        body["BankAccountType"] = "BANK"
        body["BankAccountNumber"] = account.bank_account_number or ""
    if account.system_account:
        body["SystemAccount"] = account.system_account
    return body


def _tax_json(rate: TaxRate) -> dict[str, Any]:
    return {
        "Name": rate.name,
        "TaxType": rate.tax_type,
        "ReportTaxType": "OUTPUT" if rate.tax_type.startswith("OUTPUT") else "NONE",
        "CanApplyToAssets": True,
        "CanApplyToEquity": True,
        "CanApplyToExpenses": True,
        "CanApplyToLiabilities": True,
        "CanApplyToRevenue": True,
        "DisplayTaxRate": rate.rate.quantize(Decimal("0.0000")),
        "EffectiveRate": rate.rate.quantize(Decimal("0.0000")),
        "Status": "ACTIVE",
        "TaxComponents": [
            {
                "Name": "GST" if rate.rate else "No tax",
                "Rate": rate.rate.quantize(Decimal("0.0000")),
                "IsCompound": False,
                "IsNonRecoverable": False,
            }
        ],
    }


def _organisation(ctx: RequestContext) -> dict[str, Any]:
    config = ctx.config
    demo = ctx.is_demo_company
    return {
        "OrganisationID": ctx.books.organisation_id,
        "APIKey": "",
        "Name": config.organisation_name,
        "LegalName": config.organisation_name,
        "PaysTax": True,
        "Version": config.country_code if config.country_code in _VERSIONS else "GLOBAL",
        "OrganisationType": "NOT_FOR_PROFIT",
        "BaseCurrency": config.base_currency,
        "CountryCode": config.country_code,
        "IsDemoCompany": demo,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3,
        "SalesTaxBasis": "INVOICE",
        "SalesTaxPeriod": "TWOMONTHS",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": wire.ms_datetime(ctx.books.created),
        "OrganisationEntityType": "NOT_FOR_PROFIT",
        "Timezone": config.timezone,
        "ShortCode": ctx.books.short_code,
        "Edition": "BUSINESS",
        "Class": "DEMO" if demo else "PREMIUM",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def _actions(ctx: RequestContext) -> list[dict[str, str]]:
    multi = len(ctx.books.currencies) > 1
    names = {
        "UseMulticurrency": multi,
        "CreateDraftInvoice": True,
        "CreateApprovedInvoice": True,
        "CreateInvoicePayment": True,
        "CreateDraftBill": True,
        "CreateApprovedBill": True,
        "CreateBillPayment": True,
        "CreateContact": True,
        "EmailInvoice": not ctx.is_demo_company,
    }
    return [{"Name": n, "Status": "ALLOWED" if ok else "NOT-ALLOWED"} for n, ok in names.items()]


def handle_settings(ctx: RequestContext, method: str, parts: list[str]) -> EmulatorResponse:
    """Dispatch the settings endpoints (GET only)."""
    head = parts[0].lower()
    if head in ("organisation", "organisations"):
        if len(parts) == 2 and parts[1].lower() == "actions":
            return ctx.ok("Actions", _actions(ctx))
        if len(parts) == 1:
            return ctx.ok("Organisations", [_organisation(ctx)])
        raise ctx.not_found()
    if head == "accounts":
        accounts = sorted(ctx.books.accounts.values(), key=lambda a: (a.code, a.account_id))
        if len(parts) == 2:
            account = ctx.books.accounts.get(parts[1].lower())
            if account is None:
                raise ctx.not_found()
            return ctx.ok("Accounts", [account_json(account)])
        return ctx.ok("Accounts", ctx.filtered([account_json(a) for a in accounts]))
    if head == "currencies":
        records = [
            {"Code": c, "Description": currency_description(c)} for c in ctx.books.currencies
        ]
        return ctx.ok("Currencies", ctx.filtered(records))
    records = [_tax_json(rate) for rate in ctx.books.tax_rates.values()]
    return ctx.ok("TaxRates", ctx.filtered(records))
