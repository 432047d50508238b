"""Dunning: policy rules, the case lifecycle and the run, by example and by property."""

from __future__ import annotations

import importlib.util
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.dunning import (
    DUNNING_CASE_LIFECYCLE,
    CreditHoldRequested,
    CreditReleaseRequested,
    DayCount,
    DunningAction,
    DunningBook,
    DunningCase,
    DunningEscalated,
    DunningFeeCharged,
    DunningLevel,
    DunningNoticeRaised,
    DunningPaused,
    DunningPolicy,
    DunningResolved,
    DunningResumed,
    DunningRunResult,
    DunningState,
    FeeStep,
    FeeTable,
    HandedToCollections,
    InterestCharged,
    PauseReason,
    PlannedPayment,
    ReminderSent,
    ResumeReason,
    WriteOffProposed,
    run_dunning,
    simple_interest,
)
from o2c.domain.errors import IllegalTransition, InvalidInput, InvalidPaymentPlan
from o2c.domain.money import Money, Rounding, is_exact, money
from o2c.domain.receivables import Instalment, ItemKind, OpenItem

DUE = date(2026, 3, 2)


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def days(n: int) -> date:
    """The date ``n`` days after the due date of the scenario's invoices."""
    return DUE + timedelta(days=n)


def an_invoice(
    item_id: str = "INV-1",
    customer: str = "C1",
    amount: str = "1000.00",
    due: date = DUE,
    currency: str = "EUR",
    *,
    disputed: bool = False,
) -> OpenItem:
    return OpenItem(
        item_id,
        customer,
        due - timedelta(days=30),
        (Instalment.unpaid(due, money(amount, currency)),),
        disputed=disputed,
    )


def a_policy(
    *,
    rounding: Rounding = Rounding.DOWN,
    day_count: DayCount = DayCount.ACTUAL_365,
    reminder: bool = True,
) -> DunningPolicy:
    levels = [
        DunningLevel(1, 7, "first", minimum=(eur("10.00"),)),
        DunningLevel(
            2,
            21,
            "second",
            fee=FeeTable.flat(eur("5.00"), money("700", "JPY")),
            interest_percent=Decimal(8),
        ),
        DunningLevel(
            3,
            45,
            "final",
            fee=FeeTable.flat(eur("10.00")),
            interest_percent=Decimal(8),
            actions=frozenset({DunningAction.CREDIT_HOLD, DunningAction.FINAL_NOTICE}),
        ),
        DunningLevel(4, 60, "collections", actions=frozenset({DunningAction.COLLECTIONS})),
        DunningLevel(5, 90, "write-off", actions=frozenset({DunningAction.WRITE_OFF_PROPOSAL})),
    ]
    if reminder:
        levels.insert(0, DunningLevel.reminder(3, "reminder"))
    return DunningPolicy(levels, day_count=day_count, interest_rounding=rounding)


POLICY = a_policy()


def dun(
    items: list[OpenItem], on: date, book: DunningBook | None = None, policy: DunningPolicy = POLICY
) -> DunningRunResult:
    return run_dunning(items, book or DunningBook(), policy, on)


def of_type(result: DunningRunResult, kind: type) -> list[object]:
    return [event for event in result.events if isinstance(event, kind)]


def assert_nothing_new(result: DunningRunResult) -> None:
    assert result.notices == ()
    assert result.charges == ()
    assert result.actions == ()
    assert result.events == ()


# --- policy -----------------------------------------------------------------------------------


def test_policy_levels_must_have_strictly_increasing_thresholds() -> None:
    with pytest.raises(InvalidInput, match="strictly increasing"):
        DunningPolicy((DunningLevel(1, 14, "a"), DunningLevel(2, 14, "b")))


def test_policy_levels_are_numbered_in_order() -> None:
    with pytest.raises(InvalidInput, match="numbered"):
        DunningPolicy((DunningLevel(1, 7, "a"), DunningLevel(3, 14, "b")))


def test_policy_needs_a_level_past_due() -> None:
    with pytest.raises(InvalidInput):
        DunningPolicy((DunningLevel.reminder(3, "r"),))
    with pytest.raises(InvalidInput):
        DunningPolicy(())


def test_reminder_comes_before_the_due_date_and_levels_after_it() -> None:
    with pytest.raises(InvalidInput, match="reminder"):
        DunningPolicy((DunningLevel(0, 2, "r"), DunningLevel(1, 7, "a")))
    with pytest.raises(InvalidInput, match="1 day past due"):
        DunningPolicy((DunningLevel(1, 0, "a"),))


def test_fees_and_minimums_must_not_be_negative_or_inexact() -> None:
    with pytest.raises(InvalidInput):
        FeeTable.flat(eur("-1.00"))
    with pytest.raises(InvalidInput):
        FeeTable.flat(Money(Decimal("1.001"), "EUR"))
    with pytest.raises(InvalidInput):
        DunningLevel(1, 7, "a", minimum=(eur("-5.00"),))
    with pytest.raises(InvalidInput, match="Decimal"):
        DunningLevel(1, 7, "a", interest_percent=0.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        DunningLevel(1, 7, "a", interest_percent=Decimal(-1))


def test_fee_table_picks_the_step_of_the_overdue_total() -> None:
    table = FeeTable(
        (
            FeeStep(eur("0.00"), eur("5.00")),
            FeeStep(eur("1000.00"), eur("15.00")),
        )
    )
    assert table.fee_for(eur("999.99")) == eur("5.00")
    assert table.fee_for(eur("1000.00")) == eur("15.00")
    assert table.fee_for(money("5000", "JPY")) is None
    with pytest.raises(InvalidInput, match="increasing"):
        FeeTable((FeeStep(eur("10.00"), eur("5.00")), FeeStep(eur("10.00"), eur("6.00"))))


def test_policy_finds_the_level_due_by_days() -> None:
    assert POLICY.level_due(-4) is None
    assert POLICY.level_due(-3) == POLICY.level(0)
    assert POLICY.level_due(6) == POLICY.level(0)
    assert POLICY.level_due(7) == POLICY.level(1)
    assert POLICY.level_due(500) == POLICY.level(5)


# --- interest ---------------------------------------------------------------------------------


def test_simple_interest_is_actual_over_365_rounded_down() -> None:
    # 1000.00 x 8 % x 30 / 365 = 6.5753...
    parts = [(eur("1000.00"), 30)]
    assert simple_interest(parts, Decimal(8), DayCount.ACTUAL_365, Rounding.DOWN) == eur("6.57")
    assert simple_interest(parts, Decimal(8), DayCount.ACTUAL_365, Rounding.HALF_UP) == eur("6.58")
    # actual/360: 1000.00 x 8 % x 30 / 360 = 6.666...
    assert simple_interest(parts, Decimal(8), DayCount.ACTUAL_360, Rounding.DOWN) == eur("6.66")


def test_simple_interest_in_a_currency_without_minor_units() -> None:
    # 100000 JPY x 5 % x 10 / 365 = 136.98...
    assert simple_interest(
        [(money("100000", "JPY"), 10)], Decimal(5), DayCount.ACTUAL_365, Rounding.DOWN
    ) == money("136", "JPY")


def test_simple_interest_half_modes_on_an_exact_half() -> None:
    # 365.00 x 1 % x 5 / 365 = 0.05 exactly; 73.00 x 1 % x 5 / 365 = 0.01; 0.005 needs 36.50
    parts = [(eur("36.50"), 5)]
    assert simple_interest(parts, Decimal(1), DayCount.ACTUAL_365, Rounding.HALF_UP) == eur("0.01")
    assert simple_interest(parts, Decimal(1), DayCount.ACTUAL_365, Rounding.HALF_EVEN) == eur(
        "0.00"
    )
    assert simple_interest(parts, Decimal(1), DayCount.ACTUAL_365, Rounding.HALF_DOWN) == eur(
        "0.00"
    )


# --- the run: reminders and levels ------------------------------------------------------------


def test_items_not_due_soon_trigger_nothing() -> None:
    result = dun([an_invoice()], days(-4))
    assert_nothing_new(result)
    assert result.book.cases == {}


def test_pre_due_reminder_is_sent_once() -> None:
    result = dun([an_invoice()], days(-3))
    assert [type(e) for e in result.events] == [ReminderSent, DunningNoticeRaised]
    (notice,) = result.notices
    assert (notice.level, notice.template, notice.final) == (0, "reminder", False)
    assert notice.lines[0].overdue == eur("0.00")
    assert notice.lines[0].open == eur("1000.00")
    assert result.book.cases["INV-1"].state is DunningState.REMINDED
    assert_nothing_new(dun([an_invoice()], days(-3), result.book))
    assert_nothing_new(dun([an_invoice()], days(2), result.book))


def test_no_reminder_once_the_item_is_overdue() -> None:
    assert_nothing_new(dun([an_invoice()], days(1)))
    assert dun([an_invoice()], days(0)).notices[0].template == "reminder"


def test_levels_escalate_as_thresholds_are_crossed() -> None:
    items = [an_invoice()]
    first = dun(items, days(7))
    assert of_type(first, DunningEscalated) == [DunningEscalated("INV-1", "C1", days(7), 0, 1)]
    assert first.book.cases["INV-1"].state is DunningState.DUNNING
    assert first.notices[0].template == "first"
    assert_nothing_new(dun(items, days(20), first.book))
    second = dun(items, days(21), first.book)
    assert of_type(second, DunningEscalated) == [DunningEscalated("INV-1", "C1", days(21), 1, 2)]
    assert second.book.cases["INV-1"].level == 2


def test_a_late_run_jumps_to_the_level_due_and_takes_skipped_actions() -> None:
    result = dun([an_invoice()], days(61))
    assert result.book.cases["INV-1"].level == 4
    assert result.book.cases["INV-1"].state is DunningState.COLLECTIONS
    kinds = {type(action) for action in result.actions}
    assert kinds == {HandedToCollections, CreditHoldRequested}
    # level 4 charges neither fee nor interest; the skipped levels' charges are not raised
    assert result.charges == ()
    assert result.notices[0].final  # level 3, skipped, marks the notice final


def test_level_is_skipped_while_the_overdue_amount_is_below_its_minimum() -> None:
    small = an_invoice(amount="5.00")
    assert_nothing_new(dun([small], days(10)))
    result = dun([small], days(21))  # level 2 has no minimum
    assert result.book.cases["INV-1"].level == 2


def test_minimum_counts_only_instalments_that_old() -> None:
    item = OpenItem(
        "INV-1",
        "C1",
        DUE - timedelta(days=30),
        (Instalment.unpaid(DUE, eur("5.00")), Instalment.unpaid(days(5), eur("500.00"))),
    )
    assert_nothing_new(dun([item], days(8)))  # only 5.00 is 7 days old
    assert dun([item], days(12)).book.cases["INV-1"].level == 1


# --- fees and interest ------------------------------------------------------------------------


def test_fee_and_interest_are_raised_as_charges_with_exact_amounts() -> None:
    result = dun([an_invoice()], days(30))
    fee, interest = result.charges
    assert (fee.item_id, fee.open, fee.kind) == ("INV-1-FEE-L2", eur("5.00"), ItemKind.CHARGE)
    # 1000.00 x 8 % x 30 / 365 = 6.5753... rounded down
    assert (interest.item_id, interest.open) == ("INV-1-INT-L2", eur("6.57"))
    assert fee.due_date == interest.due_date == days(30) + timedelta(days=14)
    assert of_type(result, DunningFeeCharged) == [
        DunningFeeCharged("INV-1-FEE-L2", "C1", "INV-1", 2, eur("5.00"), days(30))
    ]
    assert of_type(result, InterestCharged) == [
        InterestCharged("INV-1-INT-L2", "C1", "INV-1", 2, eur("6.57"), days(30))
    ]
    assert result.notices[0].charges == (fee, interest)
    assert result.notices[0].overdue_total == eur("1011.57")


def test_interest_rounding_is_the_policys() -> None:
    result = dun([an_invoice()], days(30), policy=a_policy(rounding=Rounding.HALF_UP))
    assert result.charges[1].open == eur("6.58")
    result = dun([an_invoice()], days(30), policy=a_policy(day_count=DayCount.ACTUAL_360))
    assert result.charges[1].open == eur("6.66")


def test_interest_runs_from_the_last_interest_charge() -> None:
    first = dun([an_invoice()], days(21))
    assert first.charges[1].open == eur("4.60")  # 21 days: 4.6027...
    second = dun([an_invoice()], days(45), first.book)
    # 24 more days: 1000.00 x 8 % x 24 / 365 = 5.2602...
    assert [(c.item_id, c.open) for c in second.charges] == [
        ("INV-1-FEE-L3", eur("10.00")),
        ("INV-1-INT-L3", eur("5.26")),
    ]


def test_charges_survive_payment_of_the_principal_and_are_not_dunned() -> None:
    first = dun([an_invoice()], days(21))
    paid = an_invoice().apply(eur("1000.00"))
    ledger = [paid, *first.charges]
    later = dun(ledger, days(200), first.book)
    assert of_type(later, DunningResolved) == [DunningResolved("INV-1", "C1", days(200))]
    assert later.charges == ()
    assert later.notices == ()
    assert all(charge.open.amount > 0 for charge in first.charges)
    assert set(later.book.cases) == {"INV-1"}  # no case, no fee on a fee


def test_open_charges_are_listed_on_the_next_notice() -> None:
    first = dun([an_invoice()], days(21))
    other = an_invoice("INV-2", due=days(21))
    ledger = [an_invoice().apply(eur("1000.00")), other, *first.charges]
    result = dun(ledger, days(28), first.book)
    (notice,) = result.notices
    assert [(line.item_id, line.kind) for line in notice.lines] == [
        ("INV-2", ItemKind.INVOICE),
        ("INV-1-FEE-L2", ItemKind.CHARGE),
        ("INV-1-INT-L2", ItemKind.CHARGE),
    ]


def test_one_notice_per_customer_lists_all_its_overdue_items_with_one_fee() -> None:
    book = dun([an_invoice("INV-1", due=days(-24))], days(0)).book  # INV-1 already at level 2
    items = [
        an_invoice("INV-1", due=days(-24)),
        an_invoice("INV-2"),
        an_invoice("INV-3"),
        an_invoice("INV-9", customer="C2"),
    ]
    result = dun(items, days(21), book)
    by_customer = {n.customer_id: n for n in result.notices}
    assert set(by_customer) == {"C1", "C2"}
    c1 = by_customer["C1"]
    assert [(ln.item_id, ln.new, ln.level) for ln in c1.lines] == [
        ("INV-1", True, 3),
        ("INV-2", True, 2),
        ("INV-3", True, 2),
    ]
    assert c1.level == 3
    fees = [c.item_id for c in c1.charges if "-FEE-" in c.item_id]
    assert fees == ["INV-1-FEE-L3"]
    assert [c.item_id for c in by_customer["C2"].charges if "-FEE-" in c.item_id] == [
        "INV-9-FEE-L2"
    ]


def test_notice_lists_overdue_items_that_did_not_escalate() -> None:
    items = [an_invoice("INV-1", due=days(-1)), an_invoice("INV-2", due=days(1))]
    book = dun(items, days(7)).book  # INV-2 reaches level 1 one day later
    result = dun(items, days(8), book)
    (notice,) = result.notices
    assert [(ln.item_id, ln.new) for ln in notice.lines] == [("INV-1", False), ("INV-2", True)]


# --- idempotency ------------------------------------------------------------------------------


def test_running_twice_on_the_same_date_raises_nothing_new() -> None:
    items = [
        an_invoice("INV-1"),
        an_invoice("INV-2", due=days(-50)),
        an_invoice("INV-3", due=days(3)),
    ]
    first = dun(items, days(0))
    assert first.notices
    again = dun(items, days(0), first.book)
    assert_nothing_new(again)
    assert again.book == first.book


# --- pauses -----------------------------------------------------------------------------------


def test_a_disputed_item_pauses_its_case_until_the_dispute_is_lifted() -> None:
    book = dun([an_invoice()], days(7)).book
    disputed = an_invoice(disputed=True)
    paused = dun([disputed], days(10), book)
    assert of_type(paused, DunningPaused) == [
        DunningPaused("INV-1", "C1", days(10), PauseReason.DISPUTE)
    ]
    assert_nothing_new(dun([disputed], days(30), paused.book))
    resumed = dun([an_invoice()], days(30), paused.book)
    assert of_type(resumed, DunningResumed) == [
        DunningResumed("INV-1", "C1", days(30), ResumeReason.DISPUTE_LIFTED)
    ]
    assert resumed.book.cases["INV-1"].level == 2


def test_a_disputed_item_without_a_case_is_left_alone() -> None:
    result = dun([an_invoice(disputed=True)], days(30))
    assert_nothing_new(result)


def test_promise_to_pay_pauses_up_to_the_promised_date() -> None:
    book = dun([an_invoice()], days(7)).book
    case, events = book.cases["INV-1"].promise_to_pay(days(30), on=days(10))
    assert events == (DunningPaused("INV-1", "C1", days(10), PauseReason.PROMISE_TO_PAY, days(30)),)
    book = book.with_case(case)
    assert_nothing_new(dun([an_invoice()], days(25), book))
    assert_nothing_new(dun([an_invoice()], days(30), book))
    broken = dun([an_invoice()], days(31), book)
    assert of_type(broken, DunningResumed) == [
        DunningResumed("INV-1", "C1", days(31), ResumeReason.PROMISE_EXPIRED)
    ]
    assert broken.book.cases["INV-1"].level == 2


def test_promise_kept_resolves_the_case() -> None:
    book = dun([an_invoice()], days(7)).book
    book = book.with_case(book.cases["INV-1"].promise_to_pay(days(30), on=days(10)).state)
    result = dun([an_invoice().apply(eur("1000.00"))], days(20), book)
    assert result.book.cases["INV-1"].state is DunningState.RESOLVED


def test_promise_date_before_the_promise_is_refused() -> None:
    with pytest.raises(InvalidInput):
        DunningCase("INV-1", "C1").promise_to_pay(days(1), on=days(2))


def test_payment_plan_pauses_while_kept_and_resumes_when_broken() -> None:
    item = an_invoice()
    book = dun([item], days(7)).book
    plan = (PlannedPayment(days(20), eur("500.00")), PlannedPayment(days(50), eur("500.00")))
    case, events = book.cases["INV-1"].agree_payment_plan(item, plan, on=days(10))
    assert events == (DunningPaused("INV-1", "C1", days(10), PauseReason.PAYMENT_PLAN),)
    book = book.with_case(case)
    kept = item.apply(eur("500.00"))
    assert_nothing_new(dun([kept], days(20), book))
    assert_nothing_new(dun([kept], days(45), book))
    assert_nothing_new(dun([item], days(20), book))  # the first payment is due today
    broken = dun([item], days(21), book)
    assert of_type(broken, DunningResumed) == [
        DunningResumed("INV-1", "C1", days(21), ResumeReason.PAYMENT_PLAN_BROKEN)
    ]
    assert broken.book.cases["INV-1"].level == 2
    assert broken.book.cases["INV-1"].plan == ()


def test_a_payment_plan_must_cover_the_open_amount_exactly() -> None:
    item = an_invoice()
    case = DunningCase("INV-1", "C1")
    with pytest.raises(InvalidPaymentPlan, match="totals"):
        case.agree_payment_plan(item, [PlannedPayment(days(20), eur("999.99"))], on=days(1))
    with pytest.raises(InvalidPaymentPlan, match="dates"):
        case.agree_payment_plan(
            item,
            [PlannedPayment(days(20), eur("500.00")), PlannedPayment(days(20), eur("500.00"))],
            on=days(1),
        )
    with pytest.raises(InvalidPaymentPlan, match="JPY"):
        case.agree_payment_plan(
            an_invoice(currency="JPY", amount="1000"),
            [PlannedPayment(days(20), eur("1000.00"))],
            on=days(1),
        )


# --- credit hold, collections, write-off ------------------------------------------------------


def test_credit_hold_is_requested_once_and_released_when_nothing_is_overdue() -> None:
    items = [an_invoice("INV-1"), an_invoice("INV-2", due=days(30))]
    held = dun(items, days(45))
    assert [a for a in held.actions if isinstance(a, CreditHoldRequested)] == [
        CreditHoldRequested("C1", days(45), "INV-1")
    ]
    assert held.book.held_customers == {"C1"}
    # INV-1 paid, INV-2 still overdue: the hold stays
    partly = dun([items[0].apply(eur("1000.00")), items[1]], days(46), held.book)
    assert not [a for a in partly.actions if isinstance(a, CreditReleaseRequested)]
    assert partly.book.held_customers == {"C1"}
    # everything paid: release, once
    paid = [item.apply(eur("1000.00")) for item in items]
    released = dun(paid, days(47), partly.book)
    assert [a for a in released.actions if isinstance(a, CreditReleaseRequested)] == [
        CreditReleaseRequested("C1", days(47))
    ]
    assert released.book.held_customers == frozenset()
    assert_nothing_new(dun(paid, days(47), released.book))


def test_overdue_charges_keep_the_hold() -> None:
    held = dun([an_invoice()], days(45))
    ledger = [an_invoice().apply(eur("1000.00")), *held.charges]
    assert held.charges[0].due_date == days(59)
    assert not of_type(dun(ledger, days(60), held.book), CreditReleaseRequested)
    ledger = [an_invoice().apply(eur("1000.00"))] + [c.apply(c.open) for c in held.charges]
    assert of_type(dun(ledger, days(60), held.book), CreditReleaseRequested)


def test_collections_hand_over_and_write_off_proposal() -> None:
    at_final = dun([an_invoice()], days(45)).book
    handed = dun([an_invoice()], days(60), at_final)
    assert of_type(handed, HandedToCollections) == [
        HandedToCollections("INV-1", "C1", days(60), 4, eur("1000.00"))
    ]
    assert handed.book.cases["INV-1"].state is DunningState.COLLECTIONS
    proposed = dun([an_invoice()], days(90), handed.book)
    assert of_type(proposed, WriteOffProposed) == [
        WriteOffProposed("INV-1", "C1", days(90), 5, eur("1000.00"))
    ]
    assert not of_type(proposed, HandedToCollections)
    assert proposed.book.cases["INV-1"].state is DunningState.COLLECTIONS
    case, _ = proposed.book.cases["INV-1"].write_off(on=days(95))
    assert case.state is DunningState.WRITTEN_OFF
    assert_nothing_new(dun([an_invoice()], days(400), proposed.book.with_case(case)))


def test_a_disputed_item_in_collections_is_left_alone() -> None:
    book = dun([an_invoice()], days(60)).book
    assert_nothing_new(dun([an_invoice(disputed=True)], days(90), book))


# --- settlement -------------------------------------------------------------------------------


def test_settled_items_resolve_their_case() -> None:
    book = dun([an_invoice()], days(7)).book
    result = dun([an_invoice().apply(eur("1000.00"))], days(8), book)
    assert of_type(result, DunningResolved) == [DunningResolved("INV-1", "C1", days(8))]


def test_a_case_whose_item_left_the_ledger_is_resolved() -> None:
    book = dun([an_invoice()], days(7)).book
    result = dun([], days(8), book)
    assert result.book.cases["INV-1"].state is DunningState.RESOLVED


def test_a_reopened_item_resumes_at_its_level_without_charging_again() -> None:
    first = dun([an_invoice()], days(21))
    resolved = dun([an_invoice().apply(eur("1000.00"))], days(22), first.book)
    reopened = dun([an_invoice()], days(23), resolved.book)
    assert of_type(reopened, DunningResumed) == [
        DunningResumed("INV-1", "C1", days(23), ResumeReason.REOPENED)
    ]
    assert reopened.book.cases["INV-1"].state is DunningState.DUNNING
    assert reopened.charges == ()


# --- lifecycle --------------------------------------------------------------------------------


def test_lifecycle_refuses_a_write_off_of_a_current_case() -> None:
    with pytest.raises(IllegalTransition):
        DunningCase("INV-1", "C1").write_off(on=DUE)


def test_lifecycle_is_printable_and_ends_in_written_off() -> None:
    table = DUNNING_CASE_LIFECYCLE.table()
    assert "collections" in table
    assert "paused" in table
    assert DUNNING_CASE_LIFECYCLE.final_states == (DunningState.WRITTEN_OFF,)


def test_a_paused_case_needs_a_reason() -> None:
    with pytest.raises(InvalidInput):
        DunningCase("INV-1", "C1", DunningState.PAUSED)


# --- properties -------------------------------------------------------------------------------

CURRENCIES = ("EUR", "JPY", "KWD")


@st.composite
def ledgers(draw: st.DrawFn) -> list[OpenItem]:
    count = draw(st.integers(min_value=0, max_value=12))
    items = []
    for number in range(count):
        currency = draw(st.sampled_from(CURRENCIES))
        scale = {"EUR": 2, "JPY": 0, "KWD": 3}[currency]
        minor = draw(st.integers(min_value=1, max_value=10**8))
        amount = Money(Decimal(minor).scaleb(-scale), currency)
        due = DUE + timedelta(days=draw(st.integers(min_value=-200, max_value=30)))
        item = OpenItem(
            f"INV-{number}",
            f"C{draw(st.integers(min_value=0, max_value=3))}",
            due - timedelta(days=30),
            (Instalment.unpaid(due, amount),),
            disputed=draw(st.booleans()),
        )
        paid = draw(st.integers(min_value=0, max_value=minor))
        if paid:
            item = item.apply(Money(Decimal(paid).scaleb(-scale), currency))
        items.append(item)
    return items


def multi_currency_policy() -> DunningPolicy:
    fees = FeeTable.flat(eur("5.00"), money("700", "JPY"), money("1.500", "KWD"))
    return DunningPolicy(
        (
            DunningLevel.reminder(5, "r"),
            DunningLevel(1, 10, "a", fee=fees, interest_percent=Decimal("9.5")),
            DunningLevel(
                2,
                30,
                "b",
                fee=fees,
                interest_percent=Decimal("12.25"),
                actions=frozenset({DunningAction.CREDIT_HOLD}),
            ),
            DunningLevel(3, 75, "c", interest_percent=Decimal(3)),
        )
    )


@given(ledgers(), st.integers(min_value=-10, max_value=300))
def test_rerunning_on_the_same_date_never_raises_anything(items: list[OpenItem], day: int) -> None:
    policy = multi_currency_policy()
    first = run_dunning(items, DunningBook(), policy, days(day))
    again = run_dunning([*items, *first.charges], first.book, policy, days(day))
    assert_nothing_new(again)


@given(ledgers(), st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=6))
def test_levels_never_go_down_without_payment(items: list[OpenItem], steps: list[int]) -> None:
    policy = multi_currency_policy()
    book, on = DunningBook(), days(-10)
    seen: dict[str, int] = {}
    for step in steps:
        on += timedelta(days=step)
        book = run_dunning(items, book, policy, on).book
        for item_id, case in book.cases.items():
            assert case.level >= seen.get(item_id, 0)
            seen[item_id] = case.level


@given(ledgers(), st.lists(st.integers(min_value=1, max_value=90), min_size=1, max_size=5))
def test_fees_and_interest_are_positive_and_exact(items: list[OpenItem], steps: list[int]) -> None:
    policy = multi_currency_policy()
    book, on = DunningBook(), days(-10)
    raised: list[str] = []
    for step in steps:
        on += timedelta(days=step)
        result = run_dunning(items, book, policy, on)
        book = result.book
        for charge in result.charges:
            assert charge.kind is ItemKind.CHARGE
            assert charge.open.amount > 0
            assert is_exact(charge.open)
            owner = next(i for i in items if charge.item_id.startswith(i.item_id + "-"))
            assert charge.currency == owner.currency
        raised += [charge.item_id for charge in result.charges]
    assert len(raised) == len(set(raised))


# --- the benchmark's generator, small ---------------------------------------------------------


def _benchmark() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dunning.py"
    spec = importlib.util.spec_from_file_location("bench_dunning", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_ledger_is_dunned_idempotently() -> None:
    bench = _benchmark()
    items = bench.build_items(2000, seed=7)
    assert items == bench.build_items(2000, seed=7)
    first, again, _, _ = bench.run_twice(items)
    assert first.notices
    assert first.charges
    assert_nothing_new(again)
