"""The contract mixins, one module per area, joined by ``ProviderContract``.

These modules are not named ``test_*``: they are library code that a provider's tests import
(``from ams_billing.contracts.base import InvoiceContract``). The zero-code run collects them
through the one test module :mod:`ams_billing.contracts.test_contract`.
"""
