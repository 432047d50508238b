"""The in-memory ledger port: atomic, idempotent batches and errors in the adapter family."""

from __future__ import annotations

from datetime import date

import pytest

from o2c.adapters.memory import MemoryLedger
from o2c.domain.ledger import JournalEntry, Posting, Side
from o2c.domain.money import money
from o2c.ports.errors import AdapterRejected, DuplicateRequest

DAY = date(2025, 3, 3)


def sale(entry_id: str, amount: str = "119.00", revenue: str = "4000") -> JournalEntry:
    value = money(amount, "EUR")
    return JournalEntry(
        entry_id,
        DAY,
        "invoice issued",
        (
            Posting("1200", Side.DEBIT, value, party="C-1", document=entry_id),
            Posting(revenue, Side.CREDIT, value),
        ),
    )


def test_posts_a_batch_and_reports_what_was_new() -> None:
    ledger = MemoryLedger()
    result = ledger.post_batch([sale("INV-1"), sale("INV-2", "10.00")])
    assert result.posted == ("INV-1", "INV-2")
    assert result.already_posted == ()
    assert ledger.balance("1200", "EUR") == money("129.00", "EUR")
    assert ledger.balance("1200", "EUR", party="C-1") == money("129.00", "EUR")
    assert ledger.balance("4000", "EUR") == money("-129.00", "EUR")
    assert len(ledger) == 2


def test_posting_again_is_idempotent() -> None:
    ledger = MemoryLedger()
    ledger.post_batch([sale("INV-1")])
    result = ledger.post_batch([sale("INV-1"), sale("INV-2"), sale("INV-2")])
    assert result.posted == ("INV-2",)
    assert result.already_posted == ("INV-1",)
    assert ledger.balance("1200", "EUR") == money("238.00", "EUR")


def test_same_id_other_content_is_a_duplicate_and_posts_nothing() -> None:
    ledger = MemoryLedger()
    ledger.post_batch([sale("INV-1")])
    with pytest.raises(DuplicateRequest) as caught:
        ledger.post_batch([sale("INV-2"), sale("INV-1", "1.00")])
    assert caught.value.key == "INV-1"
    assert caught.value.adapter == "memory"
    assert "INV-2" not in ledger.ledger
    assert ledger.balance("1200", "EUR") == money("119.00", "EUR")


def test_unknown_account_rejects_the_whole_batch() -> None:
    ledger = MemoryLedger(name="books")
    with pytest.raises(AdapterRejected) as caught:
        ledger.post_batch([sale("INV-1"), sale("INV-2", revenue="9999")])
    assert caught.value.code == "unknown_account"
    assert caught.value.adapter == "books"
    assert len(ledger) == 0
    assert ledger.trial_balance().rows == ()


def test_trial_balance_balances() -> None:
    ledger = MemoryLedger()
    ledger.post_batch([sale("INV-1"), sale("INV-2", "0.01")])
    trial = ledger.trial_balance()
    assert trial.is_balanced
    assert trial.totals("EUR") == (money("119.01", "EUR"), money("119.01", "EUR"))


def test_balance_of_an_account_outside_the_chart_is_rejected() -> None:
    ledger = MemoryLedger()
    with pytest.raises(AdapterRejected):
        ledger.balance("9999", "EUR")
    with pytest.raises(AdapterRejected):
        ledger.balance("1200", "NOTACURRENCY")
    assert ledger.balance("1200", "USD") == money(0, "USD")


def test_a_custom_chart() -> None:
    ledger = MemoryLedger(MemoryLedger().chart.with_account("4010", "Services revenue"))
    assert ledger.post_batch([sale("INV-1", revenue="4010")]).posted == ("INV-1",)
