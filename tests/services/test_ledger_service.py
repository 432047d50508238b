"""The ledger's use cases through the services: payouts, period close, reversals, exports."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from beancount import loader
from services_world import PARCEL, World, build_world, eur, widget_line

from o2c.adapters.exports import BeancountExport, CsvJournalExport, read_csv_journal
from o2c.adapters.memory import MemoryLedger
from o2c.domain.ledger import AccountRole, JournalEntry, TrialBalance
from o2c.domain.money import Money
from o2c.domain.payouts import PayoutReport
from o2c.domain.periods import AccountingPeriod, PostingPeriods
from o2c.ports.errors import DuplicateRequest
from o2c.ports.ledger import LedgerPort, PostingResult
from o2c.services.ledger import (
    LedgerCannot,
    PayoutPosted,
    PeriodChecksFailed,
    UnknownJournalEntry,
)


def gateway_balance(world: World) -> Money:
    return world.ledger.balance(world.ledger.chart.code(AccountRole.GATEWAY_CLEARING), "EUR")


def card_sale(world: World) -> None:
    """A card order, shipped, invoiced and captured: 119.00 EUR in gateway clearing."""
    s = world.services
    world.customer("C-1")
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    auth = s.cards.authorise("SO-1", "tok_approve", idempotency_key=world.key())
    s.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    s.billing.invoice_order("SO-1", idempotency_key=world.key())
    s.cards.capture(auth.payment_id, idempotency_key=world.key())


def test_a_payout_clears_the_captured_card_money(world: World) -> None:
    card_sale(world)
    assert gateway_balance(world) == eur("119.00")
    report = PayoutReport("PO-1", world.today(), eur("119.00"), eur("3.45"), "sandbox")
    posted = world.services.ledger.settle_payout(report, idempotency_key="payout-PO-1")
    assert posted == PayoutPosted("PO-1", "PO-1:gateway_settled", eur("115.55"), eur("3.45"))
    assert gateway_balance(world) == eur("0.00")
    bank = world.ledger.chart.code(AccountRole.BANK)
    assert world.ledger.balance(bank, "EUR") == eur("115.55")
    before = world.snapshot()
    # The same report again, under the same key or another, posts nothing new.
    world.services.ledger.settle_payout(report, idempotency_key="payout-PO-1")
    world.services.ledger.settle_payout(report, idempotency_key="payout-PO-1-again")
    assert len(world.ledger) == before[2]
    assert gateway_balance(world) == eur("0.00")


def test_a_payout_id_reported_again_with_other_amounts_waits_in_the_outbox(
    world: World,
) -> None:
    report = PayoutReport("PO-1", world.today(), eur("100.00"), eur("1.00"))
    world.services.ledger.settle_payout(report, idempotency_key="k-1")
    other = PayoutReport("PO-1", world.today(), eur("100.00"), eur("2.00"))
    world.services.ledger.settle_payout(other, idempotency_key="k-2")
    with pytest.raises(DuplicateRequest):
        world.services.flush_ledger_outbox()
    assert world.ledger.balance("6820", "EUR") == eur("1.00")


def test_closing_a_period_whose_books_agree_stops_postings_dated_in_it(world: World) -> None:
    card_sale(world)
    period = AccountingPeriod.of(world.today())
    report = world.services.ledger.close_period(period)
    assert report.passed
    assert {c.account for c in report.clearing} >= {"1050"}
    assert world.services.ledger.periods() == PostingPeriods((period,))
    # A payout dated in the closed period cannot post: it waits in the outbox, and the next
    # period's checks say so.
    late = PayoutReport("PO-1", world.today(), eur("119.00"), eur("0.00"))
    world.services.ledger.settle_payout(late, idempotency_key=world.key())
    assert gateway_balance(world) == eur("119.00")
    following = world.services.ledger.period_end_report(period.following)
    assert following.waiting_entries == 1
    assert not following.passed
    with pytest.raises(PeriodChecksFailed, match="1 journal entries wait"):
        world.services.ledger.close_period(period.following)
    assert world.services.ledger.periods().closed == (period,)
    # Reopened, the period takes the payout again.
    world.services.ledger.reopen_period(period)
    assert world.services.flush_ledger_outbox() == 1
    assert gateway_balance(world) == eur("0.00")


def test_a_disagreement_between_journal_and_books_keeps_the_period_open(world: World) -> None:
    card_sale(world)
    stray = world.services.ledger.reverse(
        "INV-000001:invoice_issued", on=world.today(), reason="test: journal off the books"
    )
    period = AccountingPeriod.of(world.today())
    with pytest.raises(PeriodChecksFailed) as refused:
        world.services.ledger.close_period(period)
    assert [r.check for r in refused.value.report.disagreements] == ["receivables"]
    assert world.services.ledger.periods() == PostingPeriods()
    forced = world.services.ledger.close_period(period, force=True)
    assert not forced.passed
    assert world.services.ledger.periods().closed == (period,)
    assert stray.meta("reverses") == "INV-000001:invoice_issued"


def test_a_reversal_lands_in_the_first_open_period_and_is_posted_once(world: World) -> None:
    card_sale(world)
    period = AccountingPeriod.of(world.today())
    world.services.ledger.close_period(period)
    reversal = world.services.ledger.reverse("INV-000001:invoice_issued", reason="wrong price")
    assert reversal.date == period.following.start
    assert reversal.meta("reason") == "wrong price"
    again = world.services.ledger.reverse("INV-000001:invoice_issued", reason="wrong price")
    assert again == reversal
    assert world.ledger.get(reversal.entry_id) == reversal
    receivable = world.ledger.chart.code(AccountRole.RECEIVABLE)
    assert world.ledger.balance(receivable, "EUR") == eur("-119.00")
    with pytest.raises(UnknownJournalEntry):
        world.services.ledger.reverse("INV-404:invoice_issued")


def test_the_lock_date_moves_reversals_and_is_kept_by_the_ledger(world: World) -> None:
    card_sale(world)
    lock = world.today() + timedelta(days=3)
    assert world.services.ledger.lock_until(lock).lock_date == lock
    reversal = world.services.ledger.reverse("INV-000001:invoice_issued")
    assert reversal.date == lock
    assert world.services.ledger.lock_until(None) == PostingPeriods()


def test_the_books_export_and_sum_by_date(world: World) -> None:
    card_sale(world)
    world.clock.advance(days=40)
    report = PayoutReport("PO-1", world.today(), eur("119.00"), eur("3.45"))
    world.services.ledger.settle_payout(report, idempotency_key=world.key())
    ledger = world.services.ledger
    assert ledger.trial_balance() == world.ledger.trial_balance()
    earlier = ledger.trial_balance(end=world.today() - timedelta(days=1))
    assert all(row.account != "6820" for row in earlier.rows)
    out = io.StringIO()
    assert ledger.export(BeancountExport(), out) == len(world.ledger)
    assert loader.load_string(out.getvalue())[1] == []
    later = io.StringIO()
    assert ledger.export(BeancountExport(), later, start=world.today()) == 1
    assert loader.load_string(later.getvalue())[1] == []
    assert "Opening balances" in later.getvalue()
    lines = io.StringIO(newline="")
    ledger.export(CsvJournalExport(), lines)
    assert list(read_csv_journal(io.StringIO(lines.getvalue(), newline=""))) == list(
        ledger.entries()
    )


class PortOnly:
    """A ledger that offers the port and nothing more (an accounting system's API, say)."""

    def __init__(self) -> None:
        self.name = "port-only"
        self._inner = MemoryLedger()

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        return self._inner.post_batch(entries)

    def balance(self, account: str, currency: str, party: str | None = None) -> Money:
        return self._inner.balance(account, currency, party)

    def trial_balance(self) -> TrialBalance:
        return self._inner.trial_balance()


def test_a_ledger_that_cannot_read_back_or_keep_periods_says_so() -> None:
    def port_only(_: MemoryLedger) -> LedgerPort:
        return PortOnly()

    world = build_world(ledger=port_only)
    ledger = world.services.ledger
    assert ledger.trial_balance() == TrialBalance(())
    with pytest.raises(LedgerCannot, match="'port-only' cannot read its journal"):
        ledger.export(CsvJournalExport(), io.StringIO())
    with pytest.raises(LedgerCannot, match="keep periods"):
        ledger.close_period(AccountingPeriod(2026, 3))
    with pytest.raises(LedgerCannot):
        ledger.trial_balance(start=date(2026, 3, 1))
