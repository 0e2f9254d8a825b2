"""The restart contract tells a durable ledger from one that lives only in memory.

The same fake runs the restart tests twice: with its ledger and invoice states in an SQLite file
(its durable option, what ``FakeProvider.contract_harness()`` gives), where they pass, and
with both in memory, as a provider without a durable ledger keeps them, where the tests of keys
fail, each because the key billed or emailed a duplicate.
"""

from __future__ import annotations

import pytest
from contract_runs import INLINE

from ams_billing.contracts.suites.restart import RestartContract

pytest_plugins = ["pytester"]

SUITE = """
from ams_billing.contracts.suites.restart import RestartContract
from ams_billing.testing.fake import restartable_harness


class TestRestart(RestartContract):
    def make_harness(self):
        return restartable_harness(durable={durable})
"""

RESTART_TESTS = {name for name in vars(RestartContract) if name.startswith("test_")}

DUPLICATES = {
    "test_invoice_created_before_a_restart_is_not_billed_again": "2 invoices",
    "test_lost_invoice_response_then_a_retry_after_a_restart_bills_once": "2 invoices",
    "test_key_reused_after_a_restart_for_another_invoice_is_refused": "a duplicate for the key",
    "test_batch_retried_after_a_restart_creates_nothing_twice": "2 invoices",
    "test_email_sent_before_a_restart_is_not_sent_again": "sent 2 emails",
    "test_lost_email_response_then_a_retry_after_a_restart_emails_once": "sent 2 emails",
}
"""The tests a ledger in memory fails, and what each says was duplicated."""

STATE_LOST = "test_acknowledged_delivery_is_processed_after_a_restart"
"""Fails too, in memory: the listener is told, but the invoice's last state was forgotten."""


def run_restart_tests(pytester: pytest.Pytester, *, durable: bool) -> pytest.HookRecorder:
    pytester.makepyfile(test_restart_suite=SUITE.format(durable=durable))
    return pytester.inline_run(*INLINE)


def test_the_durable_fake_passes_every_restart_test(pytester: pytest.Pytester) -> None:
    recorder = run_restart_tests(pytester, durable=True)
    passed, skipped, failed = recorder.listoutcomes()
    assert (failed, skipped) == ([], [])
    assert {report.nodeid.rpartition("::")[2] for report in passed} == RESTART_TESTS


def test_a_ledger_in_memory_fails_the_restart_tests_with_duplicates(
    pytester: pytest.Pytester,
) -> None:
    recorder = run_restart_tests(pytester, durable=False)
    passed, skipped, failed = recorder.listoutcomes()
    reasons = {report.nodeid.rpartition("::")[2]: str(report.longrepr) for report in failed}
    assert set(reasons) == {*DUPLICATES, STATE_LOST}
    for name, duplicate in DUPLICATES.items():
        assert "duplicate" in reasons[name], reasons[name]
        assert duplicate in reasons[name], reasons[name]
    assert "forgot the invoice's last state" in reasons[STATE_LOST]
    # Contacts are found by their account reference, so even a lost ledger makes no second one;
    # a contact without an address is skipped again, ledger or not.
    assert {report.nodeid.rpartition("::")[2] for report in passed} == {
        "test_contact_created_before_a_restart_is_kept_once",
        "test_lost_contact_response_then_a_retry_after_a_restart_keeps_one_contact",
        "test_email_skipped_before_a_restart_is_skipped_again",
    }
    assert skipped == []
