"""Accounting periods, the lock date, reversals, period-end checks and gateway payouts."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.errors import CurrencyMismatch, InvalidInput
from o2c.domain.ledger import AccountRole, JournalEntry, Ledger, TrialBalance
from o2c.domain.money import Money, money, zero
from o2c.domain.payouts import GatewayPayoutSettled, PayoutReport
from o2c.domain.periods import (
    ORIGINAL_DATE,
    AccountingPeriod,
    ClosedPeriodPolicy,
    PeriodState,
    PostingPeriodClosed,
    PostingPeriods,
    period_end_report,
    reversal_of,
)
from o2c.domain.posting import AmountLine, PostingRules, journal_entries
from o2c.testing import strategies

RULES = PostingRules()
CHART = RULES.chart
MARCH, APRIL, MAY = (AccountingPeriod(2026, month) for month in (3, 4, 5))


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def invoice(number: str, on: date, net: str = "100.00") -> JournalEntry:
    return RULES.invoice_issued(number, "C-1", on, [AmountLine(eur(net))])


# --- periods ----------------------------------------------------------------------------------


def test_a_period_is_a_calendar_month() -> None:
    february = AccountingPeriod.parse("2028-02")
    assert (february.start, february.end) == (date(2028, 2, 1), date(2028, 2, 29))
    assert february.name == str(february) == "2028-02"
    assert AccountingPeriod.parse("2026-12").following == AccountingPeriod(2027, 1)
    assert date(2026, 3, 31) in MARCH
    assert date(2026, 4, 1) not in MARCH
    assert AccountingPeriod.of(date(2026, 3, 9)) == MARCH


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-3", "March", ""])
def test_a_period_that_is_no_month_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        AccountingPeriod.parse(text)


def test_periods_are_open_until_closed_and_may_be_reopened() -> None:
    periods = PostingPeriods()
    assert periods.state(MARCH) is PeriodState.OPEN
    closed = periods.close(MARCH).close(MARCH)
    assert closed.closed == (MARCH,)
    assert closed.state(MARCH) is PeriodState.CLOSED
    assert not closed.may_post_on(date(2026, 3, 31))
    assert closed.may_post_on(date(2026, 4, 1))
    assert closed.reopen(MARCH) == periods
    assert periods.state(MARCH) is PeriodState.OPEN  # a value: closing returned a new one


def test_nothing_before_the_lock_date_posts() -> None:
    periods = PostingPeriods().lock_until(date(2026, 3, 15))
    assert not periods.may_post_on(date(2026, 3, 14))
    assert periods.may_post_on(date(2026, 3, 15))
    assert periods.state(MARCH) is PeriodState.OPEN
    assert periods.lock_until(None).may_post_on(date(2000, 1, 1))


def test_the_first_open_date_skips_the_lock_and_every_closed_month() -> None:
    periods = PostingPeriods((MARCH, APRIL, AccountingPeriod(2026, 6)), date(2026, 2, 10))
    assert periods.first_open_date(date(2026, 2, 1)) == date(2026, 2, 10)
    assert periods.first_open_date(date(2026, 3, 20)) == date(2026, 5, 1)
    assert periods.first_open_date(date(2026, 5, 31)) == date(2026, 5, 31)
    assert periods.first_open_date(date(2026, 6, 2)) == date(2026, 7, 1)


def test_an_entry_in_a_closed_period_is_refused_by_default() -> None:
    periods = PostingPeriods().close(MARCH)
    late = invoice("INV-1", date(2026, 3, 31))
    with pytest.raises(PostingPeriodClosed) as refused:
        periods.admit(late, ClosedPeriodPolicy.REFUSE)
    assert refused.value.entry_id == late.entry_id
    assert "closed period 2026-03" in refused.value.describe()
    on_time = invoice("INV-2", date(2026, 4, 1))
    assert periods.admit(on_time, ClosedPeriodPolicy.REFUSE) is on_time


def test_the_move_policy_posts_on_the_first_open_date_and_keeps_the_date() -> None:
    periods = PostingPeriods().close(MARCH)
    late = invoice("INV-1", date(2026, 3, 31))
    moved = periods.admit(late, ClosedPeriodPolicy.MOVE_TO_FIRST_OPEN_DATE)
    assert moved.date == date(2026, 4, 1)
    assert moved.meta(ORIGINAL_DATE) == "2026-03-31"
    assert moved.postings == late.postings
    assert moved.entry_id == late.entry_id


def test_a_batch_sent_again_after_its_period_closed_is_the_same_batch() -> None:
    entry = invoice("INV-1", date(2026, 3, 31))
    moved_entry = invoice("INV-2", date(2026, 3, 31))
    open_periods, closed = PostingPeriods(), PostingPeriods().close(MARCH)
    moved_form = closed.admit(moved_entry, ClosedPeriodPolicy.MOVE_TO_FIRST_OPEN_DATE)
    stored = {entry.entry_id: entry, moved_entry.entry_id: moved_form}
    for policy in ClosedPeriodPolicy:
        again = closed.admit_batch([entry, moved_entry], policy, stored.get)
        assert again == (entry, moved_form)
    # Other content under a posted id is left for the ledger to refuse.
    other = invoice("INV-1", date(2026, 3, 31), net="5.00")
    assert open_periods.admit_batch([other], ClosedPeriodPolicy.REFUSE, stored.get) == (other,)


# --- reversals --------------------------------------------------------------------------------


@given(strategies.journal_entries(), st.dates(date(2020, 1, 1), date(2030, 12, 31)))
def test_a_reversal_undoes_its_entry_exactly(entry: JournalEntry, on: date) -> None:
    reversal = reversal_of(entry, on, reason="wrong customer")
    assert reversal.date == on
    assert reversal.meta("reverses") == entry.entry_id
    assert reversal.meta("reason") == "wrong customer"
    ledger = Ledger.empty(CHART).post_batch([entry, reversal])
    assert all(row.balance.amount == 0 for row in ledger.trial_balance().rows)
    for posting in entry.postings:
        assert ledger.balance(posting.account, posting.currency, posting.party).amount == 0
    assert reversal_of(entry, on, reason="wrong customer") == reversal


# --- period-end checks --------------------------------------------------------------------------


def test_the_period_end_report_compares_control_accounts_with_the_books() -> None:
    on = date(2026, 3, 10)
    ledger = Ledger.empty(CHART).post_batch(
        [
            invoice("INV-1", on),
            RULES.receipt_recorded("R-1", on, eur("150.00"), customer_id="C-1"),
            RULES.receipt_applied("R-1", "INV-1", "C-1", on, eur("100.00")),
            RULES.receipt_recorded("R-2", on, eur("40.00"), customer_id="C-1", via=GATEWAY),
        ]
    )
    trial = ledger.trial_balance()
    report = period_end_report(
        MARCH,
        CHART,
        trial,
        open_items=[],
        unapplied_receipts=[eur("50.00"), eur("40.00")],
    )
    assert report.passed
    assert {(r.check, r.ledger) for r in report.reconciliations} == {
        ("receivables", eur("0.00")),
        ("unapplied_cash", eur("90.00")),
    }
    clearing = {c.account: c.balance for c in report.clearing}
    assert clearing[CHART.code(AccountRole.GATEWAY_CLEARING)] == eur("40.00")
    assert clearing[CHART.code(AccountRole.UNAPPLIED_CASH)] == eur("-90.00")
    assert "checks passed" in report.render()
    assert max(map(len, report.render().splitlines())) <= 80

    wrong = period_end_report(
        MARCH, CHART, trial, open_items=[eur("100.00")], unapplied_receipts=[eur("90.00")]
    )
    assert not wrong.passed
    (disagreement,) = wrong.disagreements
    assert disagreement.check == "receivables"
    assert disagreement.difference == eur("-100.00")
    waiting = period_end_report(
        MARCH, CHART, trial, open_items=[], unapplied_receipts=[eur("90.00")], waiting_entries=2
    )
    assert not waiting.passed
    assert "2 journal entries wait" in waiting.render()


def test_a_currency_on_one_side_only_is_compared_too() -> None:
    report = period_end_report(
        MARCH, CHART, TrialBalance(()), open_items=[money("5", "JPY")], unapplied_receipts=[]
    )
    (receivables,) = report.reconciliations
    assert (receivables.currency, receivables.ledger, receivables.books) == (
        "JPY",
        zero("JPY"),
        money("5", "JPY"),
    )
    assert not report.passed


GATEWAY = AccountRole.GATEWAY_CLEARING


# --- gateway payouts ----------------------------------------------------------------------------


def test_a_payout_clears_gateway_clearing_into_bank_and_fees() -> None:
    report = PayoutReport("PO-7", date(2026, 3, 12), eur("1000.00"), eur("29.30"), "sandbox")
    assert report.net == eur("970.70")
    (posted,) = journal_entries(report.settled(), RULES)
    assert posted.entry_id == "PO-7:gateway_settled"
    assert posted.meta("gateway") == "sandbox"
    ledger = Ledger.empty(CHART).post_batch(
        [
            RULES.receipt_recorded("R-1", date(2026, 3, 10), eur("1000.00"), via=GATEWAY),
            posted,
        ]
    )
    assert ledger.role_balance(GATEWAY, "EUR") == eur("0.00")
    assert ledger.role_balance(AccountRole.BANK, "EUR") == eur("970.70")
    assert ledger.role_balance(AccountRole.PAYMENT_FEES, "EUR") == eur("29.30")
    assert journal_entries(report.settled(), RULES) == (posted,)


def test_a_payout_without_fees_or_a_gateway_name_posts_two_lines() -> None:
    event = GatewayPayoutSettled("PO-8", date(2026, 3, 12), eur("10.00"), eur("0.00"))
    (posted,) = journal_entries(event, RULES)
    assert len(posted.postings) == 2
    assert posted.meta("gateway") is None


@pytest.mark.parametrize(
    ("gross", "fees", "error"),
    [
        (eur("0.00"), eur("0.00"), InvalidInput),
        (eur("10.00"), eur("10.00"), InvalidInput),
        (eur("10.00"), eur("-1.00"), InvalidInput),
        (eur("10.00"), money("1.00", "USD"), CurrencyMismatch),
    ],
)
def test_a_payout_report_that_cannot_be_is_refused(
    gross: Money, fees: Money, error: type[Exception]
) -> None:
    with pytest.raises(error):
        PayoutReport("PO-9", date(2026, 3, 12), gross, fees)
    with pytest.raises(InvalidInput):
        PayoutReport(" ", date(2026, 3, 12), eur("1.00"), eur("0.00"))
