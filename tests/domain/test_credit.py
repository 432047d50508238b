"""Credit management: the account lifecycle, exposure, the credit policies and holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.credit import (
    ACCOUNT_ON_HOLD,
    APPROVAL_EXPIRED,
    CREDIT_ACCOUNT_LIFECYCLE,
    FIRST_TIME_CUSTOMER,
    LIMIT_EXCEEDED,
    MANUAL_HOLD,
    OVERDUE,
    PREPAYMENT_REQUIRED,
    PREVIOUSLY_DENIED,
    WITHIN_LIMIT,
    AccountOnHold,
    CreditAccount,
    CreditApplied,
    CreditApprovalExpired,
    CreditApproved,
    CreditContext,
    CreditDecision,
    CreditDecisionMade,
    CreditDenied,
    CreditExposure,
    CreditHoldPlaced,
    CreditHoldReleased,
    CreditLimitChanged,
    CreditOutcome,
    CreditPolicy,
    CreditPolicySet,
    CreditReviewStarted,
    CreditStatus,
    Finding,
    FirstTimeCustomerReview,
    LimitCheck,
    OverdueHold,
    PrepaymentRequired,
    Reason,
    ReviewDecision,
    decide,
    default_credit_policy,
    hold_if_overdue,
    release_if_settled,
)
from o2c.domain.errors import CurrencyMismatch, IllegalTransition, InvalidAmount, InvalidInput
from o2c.domain.money import Money, from_minor, money
from o2c.domain.receivables import Instalment, OpenItem

TODAY = date(2026, 3, 2)
LAST_YEAR = date(2025, 3, 2)
NEXT_YEAR = date(2027, 3, 1)
CUSTOMER = "C-1"

# --- scenario builders ----------------------------------------------------------------------


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def a_new_customer(currency: str = "EUR") -> CreditAccount:
    return CreditAccount.new(CUSTOMER, currency)


def an_approved_customer(
    limit: str = "5000", currency: str = "EUR", expires_on: date = NEXT_YEAR
) -> CreditAccount:
    account, _ = a_new_customer(currency).apply(on=LAST_YEAR)
    account, _ = account.approve(
        money(limit, currency), expires_on, "ana", "good references", on=LAST_YEAR
    )
    return account


def a_denied_customer() -> CreditAccount:
    account, _ = a_new_customer().apply(on=LAST_YEAR)
    account, _ = account.deny("ana", "no trading history", on=LAST_YEAR)
    return account


def an_expired_customer() -> CreditAccount:
    account = an_approved_customer(expires_on=date(2025, 12, 31))
    account, _ = account.expire(on=date(2026, 1, 1))
    return account


def an_invoice(
    amount: str,
    due: date,
    *,
    item_id: str = "INV-1",
    currency: str = "EUR",
    disputed: bool = False,
    customer: str = CUSTOMER,
) -> OpenItem:
    return OpenItem(
        item_id,
        customer,
        min(due, LAST_YEAR),
        (Instalment.unpaid(due, money(amount, currency)),),
        disputed=disputed,
    )


def a_context(
    account: CreditAccount,
    order: str = "100",
    *,
    items: Sequence[OpenItem] = (),
    accepted: str = "0",
    prepaid: bool = False,
    as_of: date = TODAY,
) -> CreditContext:
    return CreditContext.build(
        account,
        order_amount=money(order, account.currency),
        as_of=as_of,
        open_items=items,
        accepted_not_invoiced=money(accepted, account.currency),
        prepayment_required=prepaid,
        order_id="SO-1",
    )


def decision_for(
    account: CreditAccount,
    order: str = "100",
    *,
    items: Sequence[OpenItem] = (),
    accepted: str = "0",
    prepaid: bool = False,
    as_of: date = TODAY,
) -> CreditDecision:
    context = a_context(
        account, order, items=items, accepted=accepted, prepaid=prepaid, as_of=as_of
    )
    return default_credit_policy().decide(context)


# --- the account lifecycle ------------------------------------------------------------------


def test_apply_review_and_approve_is_recorded() -> None:
    account = a_new_customer()
    assert account.status is CreditStatus.UNKNOWN
    assert account.credit_limit == money("0", "EUR")
    applied, events = account.apply(on=TODAY, requested_limit=money("8000", "EUR"))
    assert applied.status is CreditStatus.APPLIED
    assert events == (CreditApplied(CUSTOMER, TODAY, money("8000", "EUR")),)
    reviewing, events = applied.start_review(on=TODAY)
    assert reviewing.status is CreditStatus.UNDER_REVIEW
    assert events == (CreditReviewStarted(CUSTOMER, TODAY),)
    approved, events = reviewing.approve(
        money("5000", "EUR"), NEXT_YEAR, "ana", "bank references", on=TODAY
    )
    assert approved.status is CreditStatus.APPROVED
    assert approved.credit_limit == money("5000", "EUR")
    assert (approved.approved_on, approved.expires_on) == (TODAY, NEXT_YEAR)
    assert events == (
        CreditApproved(CUSTOMER, TODAY, money("5000", "EUR"), NEXT_YEAR, "ana", "bank references"),
    )
    (review,) = approved.reviews
    assert review.decision is ReviewDecision.APPROVED
    assert (review.reviewer, review.reason, review.on) == ("ana", "bank references", TODAY)
    assert review.limit == money("5000", "EUR")
    assert approved.has_current_approval(NEXT_YEAR)
    assert not approved.has_current_approval(NEXT_YEAR + timedelta(days=1))


def test_clear_cases_are_decided_without_a_review() -> None:
    applied, _ = a_new_customer().apply(on=TODAY)
    approved, _ = applied.approve(money("1000", "EUR"), NEXT_YEAR, "auto", "score 91", on=TODAY)
    assert approved.status is CreditStatus.APPROVED
    denied, events = applied.deny("auto", "score 12", on=TODAY)
    assert denied.status is CreditStatus.DENIED
    assert events == (CreditDenied(CUSTOMER, TODAY, "auto", "score 12"),)
    assert denied.credit_limit == money("0", "EUR")


def test_a_denied_customer_may_apply_again_and_keeps_its_history() -> None:
    account, _ = a_denied_customer().apply(on=TODAY)
    assert account.status is CreditStatus.APPLIED
    account, _ = account.start_review(on=TODAY)
    account, _ = account.approve(money("2000", "EUR"), NEXT_YEAR, "bo", "trading now", on=TODAY)
    assert [r.decision for r in account.reviews] == [
        ReviewDecision.DENIED,
        ReviewDecision.APPROVED,
    ]


def test_an_approval_expires_only_after_its_expiry_date() -> None:
    account = an_approved_customer(expires_on=date(2025, 12, 31))
    with pytest.raises(InvalidInput, match="current through 2025-12-31"):
        account.expire(on=date(2025, 12, 31))
    expired, events = account.expire(on=date(2026, 1, 1))
    assert events == (CreditApprovalExpired(CUSTOMER, date(2026, 1, 1), date(2025, 12, 31)),)
    assert expired.status is CreditStatus.EXPIRED
    assert expired.credit_limit == money("0", "EUR")
    assert expired.expires_on is None
    assert expired.was_ever_approved
    reapplied, _ = expired.apply(on=TODAY)
    assert reapplied.status is CreditStatus.APPLIED


def test_hold_and_release() -> None:
    account = an_approved_customer()
    held, events = account.hold("customer in insolvency proceedings", on=TODAY)
    assert held.is_on_hold
    assert held.hold_reason == Reason(MANUAL_HOLD, "customer in insolvency proceedings")
    assert events == (CreditHoldPlaced(CUSTOMER, TODAY, held.hold_reason),)
    released, events = held.release(on=TODAY, reason="proceedings ended")
    assert released.status is CreditStatus.RELEASED
    assert released.hold_reason is None
    assert released.held_on is None
    assert events == (CreditHoldReleased(CUSTOMER, TODAY, "proceedings ended"),)
    assert released.has_current_approval(TODAY)
    again, _ = released.hold("again", on=TODAY)
    assert again.is_on_hold


def test_change_limit_is_recorded() -> None:
    account = an_approved_customer("5000")
    changed, events = account.change_limit(money("7500", "EUR"), "bo", "more volume", on=TODAY)
    assert changed.credit_limit == money("7500", "EUR")
    assert changed.status is CreditStatus.APPROVED
    assert events == (
        CreditLimitChanged(
            CUSTOMER, TODAY, money("5000", "EUR"), money("7500", "EUR"), "bo", "more volume"
        ),
    )
    assert changed.reviews[-1].decision is ReviewDecision.LIMIT_CHANGED
    with pytest.raises(InvalidInput, match="already the limit"):
        changed.change_limit(money("7500", "EUR"), "bo", "same", on=TODAY)
    held, _ = account.hold("manual", on=TODAY)
    lowered, _ = held.change_limit(money("1000", "EUR"), "bo", "risk", on=TODAY)
    assert lowered.is_on_hold


@pytest.mark.parametrize(
    ("account", "command"),
    [
        (a_new_customer(), lambda a: a.approve(eur("1"), NEXT_YEAR, "x", "y", on=TODAY)),
        (a_new_customer(), lambda a: a.hold("overdue", on=TODAY)),
        (a_new_customer(), lambda a: a.start_review(on=TODAY)),
        (an_approved_customer(), lambda a: a.apply(on=TODAY)),
        (an_approved_customer(), lambda a: a.release(on=TODAY, reason="paid")),
        (an_approved_customer(), lambda a: a.deny("x", "y", on=TODAY)),
        (a_denied_customer(), lambda a: a.expire(on=TODAY)),
        (a_denied_customer(), lambda a: a.change_limit(eur("1"), "x", "y", on=TODAY)),
        (an_expired_customer(), lambda a: a.hold("overdue", on=TODAY)),
    ],
)
def test_illegal_transitions_raise_and_change_nothing(
    account: CreditAccount, command: Callable[[CreditAccount], object]
) -> None:
    before = attrs.evolve(account)
    with pytest.raises(IllegalTransition) as raised:
        command(account)
    assert raised.value.entity == "credit account"
    assert raised.value.entity_id == CUSTOMER
    assert raised.value.state == account.status.value
    assert account == before


def test_the_lifecycle_has_no_dead_ends() -> None:
    assert CREDIT_ACCOUNT_LIFECYCLE.final_states == ()
    assert CREDIT_ACCOUNT_LIFECYCLE.initial is CreditStatus.UNKNOWN


def test_refused_inputs() -> None:
    applied, _ = a_new_customer().apply(on=TODAY)
    with pytest.raises(InvalidInput, match="beyond the day"):
        applied.approve(eur("100"), TODAY, "ana", "ok", on=TODAY)
    with pytest.raises(InvalidAmount):
        applied.approve(eur("0"), NEXT_YEAR, "ana", "ok", on=TODAY)
    with pytest.raises(CurrencyMismatch):
        applied.approve(money("100", "USD"), NEXT_YEAR, "ana", "ok", on=TODAY)
    with pytest.raises(InvalidInput, match="reviewer"):
        applied.approve(eur("100"), NEXT_YEAR, " ", "ok", on=TODAY)
    with pytest.raises(InvalidInput, match="reason"):
        applied.deny("ana", "", on=TODAY)
    with pytest.raises(InvalidInput, match="last change"):
        applied.start_review(on=TODAY - timedelta(days=1))
    with pytest.raises(InvalidAmount):
        a_new_customer().apply(on=TODAY, requested_limit=eur("-5"))
    with pytest.raises(InvalidInput, match="reason"):
        an_approved_customer().hold(" ", on=TODAY)
    with pytest.raises(InvalidInput, match="write it as"):
        CreditAccount(CUSTOMER, "eur")
    with pytest.raises(InvalidInput, match="grants no credit"):
        CreditAccount(CUSTOMER, "EUR", credit_limit=eur("10"))
    with pytest.raises(InvalidInput, match="approval dates"):
        CreditAccount(CUSTOMER, "EUR", CreditStatus.APPROVED, eur("10"))
    with pytest.raises(InvalidInput, match="hold"):
        attrs.evolve(an_approved_customer(), status=CreditStatus.ON_HOLD)


# --- exposure -------------------------------------------------------------------------------


def test_exposure_adds_receivables_accepted_orders_and_this_order() -> None:
    items = (
        an_invoice("1200.00", date(2026, 3, 31), item_id="INV-1"),
        an_invoice("800.00", date(2026, 4, 30), item_id="INV-2").apply(money("300", "EUR")),
    )
    exposure = CreditExposure.compute(
        open_items=items,
        accepted_not_invoiced=money("1000", "EUR"),
        order_amount=money("2600", "EUR"),
        limit=money("5000", "EUR"),
    )
    assert exposure.open_receivables == money("1700", "EUR")
    assert exposure.total == money("5300", "EUR")
    assert exposure.headroom == money("-300", "EUR")
    assert not exposure.within_limit
    assert exposure.currency == "EUR"


def test_exposure_refuses_mixed_currencies_and_negative_parts() -> None:
    with pytest.raises(CurrencyMismatch):
        CreditExposure.compute(
            open_items=(an_invoice("10", TODAY, currency="USD"),),
            accepted_not_invoiced=money("0", "EUR"),
            order_amount=money("1", "EUR"),
            limit=money("1", "EUR"),
        )
    with pytest.raises(CurrencyMismatch):
        CreditExposure(eur("0"), eur("0"), eur("1"), money("1", "USD"))
    with pytest.raises(InvalidAmount):
        CreditExposure(eur("0"), eur("-1"), eur("1"), eur("1"))


def test_a_context_must_be_consistent_with_its_account() -> None:
    account = an_approved_customer("5000")
    exposure = CreditExposure(eur("0"), eur("0"), eur("1"), eur("9000"))
    with pytest.raises(InvalidInput, match="limit"):
        CreditContext(account, exposure, (), TODAY)
    with pytest.raises(InvalidInput, match="belongs to customer C-2"):
        a_context(account, items=(an_invoice("10", TODAY, customer="C-2"),))
    with pytest.raises(CurrencyMismatch):
        a_context(a_new_customer("USD"), items=(an_invoice("10", TODAY),))
    exposure = CreditExposure(eur("5"), eur("0"), eur("1"), eur("5000"))
    with pytest.raises(InvalidInput, match="open items add up"):
        CreditContext(account, exposure, (), TODAY)


# --- the rules of credit ----------------------------------------------------------------------


def test_a_first_time_customer_goes_to_review() -> None:
    decision = decision_for(a_new_customer())
    assert decision.outcome is CreditOutcome.REVIEW
    assert decision.codes == (FIRST_TIME_CUSTOMER,)
    applied, _ = a_new_customer().apply(on=TODAY)
    assert decision_for(applied).codes == (FIRST_TIME_CUSTOMER,)


def test_a_returning_customer_with_a_current_approval_goes_straight_through() -> None:
    decision = decision_for(an_approved_customer("5000"), "1000", accepted="500")
    assert decision.outcome is CreditOutcome.APPROVE
    (reason,) = decision.reasons
    assert reason.code == WITHIN_LIMIT
    assert reason.get("total") == "1500 EUR"
    assert reason.get("headroom") == "3500 EUR"
    assert not decision.blocks_order
    assert not decision.shipment_waits_for_payment


def test_a_customer_denied_before_is_treated_as_new() -> None:
    decision = decision_for(a_denied_customer())
    assert decision.outcome is CreditOutcome.REVIEW
    assert decision.codes == (PREVIOUSLY_DENIED,)
    reapplied, _ = a_denied_customer().apply(on=TODAY)
    assert decision_for(reapplied).codes == (PREVIOUSLY_DENIED,)


def test_a_customer_with_an_expired_approval_is_treated_as_new() -> None:
    decision = decision_for(an_expired_customer())
    assert decision.outcome is CreditOutcome.REVIEW
    assert decision.codes == (APPROVAL_EXPIRED,)
    # The approval counts as expired on the day after its expiry, even before expire() is run.
    lapsed = an_approved_customer(expires_on=date(2026, 3, 1))
    decision = decision_for(lapsed)
    assert decision.codes == (APPROVAL_EXPIRED,)
    assert decision.reasons[0].get("expired_on") == "2026-03-01"
    assert decision_for(lapsed, as_of=date(2026, 3, 1)).outcome is CreditOutcome.APPROVE


def test_exposure_over_the_limit_goes_to_review() -> None:
    account = an_approved_customer("5000")
    items = (an_invoice("3000", date(2026, 3, 31)),)
    assert decision_for(account, "1000", items=items, accepted="1000").outcome is (
        CreditOutcome.APPROVE
    )
    decision = decision_for(account, "1000.01", items=items, accepted="1000")
    assert decision.outcome is CreditOutcome.REVIEW
    (reason,) = decision.reasons
    assert reason.code == LIMIT_EXCEEDED
    assert reason.get("headroom") == "-0.01 EUR"


def test_the_limit_check_can_deny_and_allow_a_tolerance() -> None:
    account = an_approved_customer("1000")
    context = a_context(account, "1100")
    tolerant = LimitCheck(tolerance_percent=Decimal("10"))
    assert [f.reason.code for f in tolerant.evaluate(context)] == [WITHIN_LIMIT]
    assert LimitCheck(tolerance_percent="9.99").evaluate(context)[0].outcome is (
        CreditOutcome.REVIEW
    )
    tiered = CreditPolicySet.of(LimitCheck(), LimitCheck(CreditOutcome.DENY, tolerance_percent=50))
    assert tiered.decide(context).outcome is CreditOutcome.REVIEW
    denied = tiered.decide(a_context(account, "1500.01"))
    assert denied.outcome is CreditOutcome.DENY
    assert denied.codes == (LIMIT_EXCEEDED, LIMIT_EXCEEDED)
    with pytest.raises(InvalidInput):
        LimitCheck(CreditOutcome.APPROVE)
    with pytest.raises(InvalidAmount):
        LimitCheck(tolerance_percent=0.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        LimitCheck(tolerance_percent="-1")


def test_the_limit_check_has_no_say_without_a_current_approval() -> None:
    assert LimitCheck(CreditOutcome.DENY).evaluate(a_context(a_new_customer(), "1")) == ()


def test_an_overdue_invoice_holds_the_account_until_it_is_paid() -> None:
    account = an_approved_customer("5000")
    invoice = an_invoice("400", date(2026, 2, 27))
    # Due on 27 February: on 2 March it is three days past due.
    placed = hold_if_overdue(account, [invoice], as_of=TODAY)
    held = placed.state
    assert held.status is CreditStatus.ON_HOLD
    (event,) = placed.events
    assert isinstance(event, CreditHoldPlaced)
    assert event.reason.code == OVERDUE
    assert event.reason.get("days_past_due") == "3"
    assert event.reason.get("items") == "INV-1"

    # The next order is blocked, and the customer is told to pay first.
    decision = decision_for(held, "10", items=(invoice,))
    assert decision.outcome is CreditOutcome.HOLD
    assert decision.blocks_order
    assert set(decision.codes[:2]) == {ACCOUNT_ON_HOLD, OVERDUE}
    assert all("payment" in r.message for r in decision.reasons)
    # Part payment is not enough.
    part_paid = invoice.apply(money("399.99", "EUR"))
    assert release_if_settled(held, [part_paid], as_of=TODAY) == (held, ())

    # Payment releases the hold, and the next order goes through.
    paid = invoice.apply(money("400", "EUR"))
    released, events = release_if_settled(held, [paid], as_of=TODAY)
    assert released.status is CreditStatus.RELEASED
    assert events == (CreditHoldReleased(CUSTOMER, TODAY, "overdue items paid"),)
    assert decision_for(released, "10", items=(paid,)).outcome is CreditOutcome.APPROVE


def test_overdue_items_hold_the_order_even_before_the_account_is_held() -> None:
    overdue = (an_invoice("400", date(2026, 2, 27)),)
    decision = decision_for(an_approved_customer(), "10", items=overdue)
    assert decision.outcome is CreditOutcome.HOLD
    assert decision.codes[0] == OVERDUE
    # A new customer with an overdue invoice (cash sales) is held too, not just reviewed.
    assert decision_for(a_new_customer(), "10", items=overdue).outcome is CreditOutcome.HOLD


def test_hold_if_overdue_leaves_other_accounts_alone() -> None:
    due_today = an_invoice("400", TODAY)
    account = an_approved_customer()
    assert hold_if_overdue(account, [due_today], as_of=TODAY) == (account, ())
    overdue = an_invoice("400", date(2026, 1, 2))
    new = a_new_customer()
    assert hold_if_overdue(new, [overdue], as_of=TODAY) == (new, ())
    held, _ = account.hold("manual", on=TODAY)
    assert hold_if_overdue(held, [overdue], as_of=TODAY) == (held, ())
    # A manual hold is left for a person to release.
    assert release_if_settled(held, [], as_of=TODAY) == (held, ())
    with pytest.raises(InvalidInput, match="belongs to"):
        hold_if_overdue(account, [an_invoice("1", TODAY, customer="C-9")], as_of=TODAY)


def test_grace_days_thresholds_and_disputes() -> None:
    account = an_approved_customer()
    late = an_invoice("400", date(2026, 2, 20), item_id="INV-1")  # 10 days past due
    assert OverdueHold(grace_days=10).check([late], TODAY, "EUR") is None
    assert OverdueHold(grace_days=9).check([late], TODAY, "EUR") is not None
    by_amount = OverdueHold(grace_days=None, overdue_limit=money("400", "EUR"))
    assert by_amount.check([late], TODAY, "EUR") is None
    more = an_invoice("0.01", date(2026, 3, 1), item_id="INV-2")
    reason = by_amount.check([late, more], TODAY, "EUR")
    assert reason is not None
    assert reason.get("overdue") == "400.01 EUR"
    assert reason.get("items") == "INV-1,INV-2"
    with pytest.raises(CurrencyMismatch):
        by_amount.check([], TODAY, "USD")
    disputed = attrs.evolve(late, disputed=True)
    assert OverdueHold().check([disputed], TODAY, "EUR") is None
    assert OverdueHold(include_disputed=True).check([disputed], TODAY, "EUR") is not None
    assert hold_if_overdue(account, [disputed], as_of=TODAY) == (account, ())
    with pytest.raises(InvalidInput):
        OverdueHold(grace_days=None)
    with pytest.raises(InvalidInput):
        OverdueHold(grace_days=-1)


def test_cash_in_advance_skips_credit_but_shipment_waits_for_payment() -> None:
    for account in (a_new_customer(), a_denied_customer(), an_approved_customer("100")):
        decision = decision_for(account, "50000", prepaid=True)
        assert decision.outcome is CreditOutcome.APPROVE
        assert decision.codes == (PREPAYMENT_REQUIRED,)
        assert decision.shipment_waits_for_payment
        assert "shipment waits for payment" in decision.reasons[0].message


def test_cash_in_advance_does_not_lift_a_hold() -> None:
    held, _ = an_approved_customer().hold("manual", on=TODAY)
    decision = decision_for(held, "10", prepaid=True)
    assert decision.outcome is CreditOutcome.HOLD
    assert decision.codes == (ACCOUNT_ON_HOLD, PREPAYMENT_REQUIRED)
    assert decision.shipment_waits_for_payment
    assert decision.notes[0].code == PREPAYMENT_REQUIRED


def test_decide_reports_the_decision_as_an_event() -> None:
    decision, events = decide(a_context(a_new_customer()))
    assert events == (
        CreditDecisionMade(CUSTOMER, "SO-1", TODAY, CreditOutcome.REVIEW, (FIRST_TIME_CUSTOMER,)),
    )
    assert decision.outcome is CreditOutcome.REVIEW
    custom, _ = decide(a_context(a_new_customer()), CreditPolicySet.of(AccountOnHold()))
    assert custom == CreditDecision(CreditOutcome.APPROVE)


def test_the_default_policy_is_built_from_the_provided_parts() -> None:
    policy = default_credit_policy(overdue=OverdueHold(grace_days=30))
    kinds = [type(p) for p in policy.policies]
    assert kinds == [AccountOnHold, OverdueHold, PrepaymentRequired]
    inner = policy.policies[2]
    assert isinstance(inner, PrepaymentRequired)
    assert isinstance(inner.credit_checks, CreditPolicySet)
    assert [type(p) for p in inner.credit_checks.policies] == [FirstTimeCustomerReview, LimitCheck]
    # Fifteen days late passes under a 30-day grace.
    items = (an_invoice("10", date(2026, 2, 15)),)
    assert policy.decide(a_context(an_approved_customer(), items=items)).outcome is (
        CreditOutcome.APPROVE
    )


# --- properties -----------------------------------------------------------------------------

CURRENCIES = st.sampled_from(["EUR", "USD", "JPY", "KWD", "CHF"])
MINOR = st.integers(min_value=0, max_value=10**12)


@given(
    currency=CURRENCIES,
    accepted=MINOR,
    order=MINOR,
    limit=MINOR,
    paid=MINOR,
    invoices=st.lists(MINOR.map(lambda m: m + 1), max_size=5),
)
def test_exposure_arithmetic_is_consistent(
    *, currency: str, accepted: int, order: int, limit: int, paid: int, invoices: list[int]
) -> None:
    items = []
    for number, units in enumerate(invoices):
        item = OpenItem(
            f"INV-{number}",
            CUSTOMER,
            LAST_YEAR,
            (Instalment.unpaid(TODAY, from_minor(units, currency)),),
        )
        part = paid % (units + 1)
        items.append(item.apply(from_minor(part, currency)) if part else item)
    exposure = CreditExposure.compute(
        open_items=items,
        accepted_not_invoiced=from_minor(accepted, currency),
        order_amount=from_minor(order, currency),
        limit=from_minor(limit, currency),
    )
    expected_open = sum((i.open.amount for i in items), Decimal(0))
    assert exposure.open_receivables.amount == expected_open
    assert exposure.total.amount == expected_open + exposure.accepted_not_invoiced.amount + (
        exposure.this_order.amount
    )
    assert exposure.headroom.amount == exposure.limit.amount - exposure.total.amount
    assert {m.currency.code for m in (exposure.total, exposure.headroom)} == {currency}
    assert exposure.within_limit is (exposure.headroom.amount >= 0)


@given(CURRENCIES, CURRENCIES, MINOR)
def test_exposure_refuses_any_second_currency(first: str, second: str, units: int) -> None:
    parts = [from_minor(units, first)] * 4
    parts[units % 4] = from_minor(units, second)
    if first == second:
        assert CreditExposure(*parts).total.currency.code == first
    else:
        with pytest.raises(CurrencyMismatch):
            CreditExposure(*parts)


ACCOUNTS = st.sampled_from(
    [
        a_new_customer(),
        a_denied_customer(),
        an_expired_customer(),
        an_approved_customer("5000"),
        an_approved_customer("5000", expires_on=date(2026, 2, 1)),
        an_approved_customer("5000").hold("manual", on=TODAY).state,
    ]
)
POLICIES = st.sampled_from(
    [
        default_credit_policy(),
        default_credit_policy(overdue=OverdueHold(grace_days=20, overdue_limit=eur("300"))),
        CreditPolicySet.of(LimitCheck(CreditOutcome.DENY, tolerance_percent=5), OverdueHold(7)),
    ]
)
DAYS_PAST_DUE = st.integers(min_value=-60, max_value=120)
CENTS = st.integers(min_value=1, max_value=500_000)


@st.composite
def open_items(draw: st.DrawFn, prefix: str = "INV") -> list[OpenItem]:
    items = []
    for number in range(draw(st.integers(0, 4))):
        due = TODAY - timedelta(days=draw(DAYS_PAST_DUE))
        item = OpenItem(
            f"{prefix}-{number}",
            CUSTOMER,
            min(due, LAST_YEAR),
            (Instalment.unpaid(due, from_minor(draw(CENTS), "EUR")),),
            disputed=draw(st.booleans()),
        )
        items.append(item)
    return items


@given(
    account=ACCOUNTS,
    policy=POLICIES,
    items=open_items(),
    more_items=open_items("NEW"),
    order=CENTS,
    raise_by=CENTS,
    accepted=st.integers(0, 300_000),
    prepaid=st.booleans(),
)
def test_the_decision_is_monotone(
    *,
    account: CreditAccount,
    policy: CreditPolicy,
    items: list[OpenItem],
    more_items: list[OpenItem],
    order: int,
    raise_by: int,
    accepted: int,
    prepaid: bool,
) -> None:
    def severity(order_units: int, open_items: list[OpenItem]) -> int:
        context = CreditContext.build(
            account,
            order_amount=from_minor(order_units, "EUR"),
            as_of=TODAY,
            open_items=open_items,
            accepted_not_invoiced=from_minor(accepted, "EUR"),
            prepayment_required=prepaid,
        )
        return CreditDecision.from_findings(policy.evaluate(context)).outcome.severity

    base = severity(order, items)
    assert severity(order + raise_by, items) >= base
    assert severity(order, items + more_items) >= base
    assert severity(order + raise_by, items + more_items) >= base


@attrs.frozen
class Says:
    """A policy that always finds the given outcomes."""

    outcomes: tuple[CreditOutcome, ...]

    def evaluate(self, context: CreditContext) -> list[Finding]:
        return [Finding(o, Reason(f"test.{o.value}", "")) for o in self.outcomes]


OUTCOMES = st.lists(st.sampled_from(CreditOutcome), max_size=4).map(tuple)


@given(st.lists(OUTCOMES, max_size=5), st.integers(0, 5))
def test_combining_policies_gives_the_most_severe_outcome(
    said: list[tuple[CreditOutcome, ...]], split: int
) -> None:
    context = a_context(a_new_customer())
    policies = [Says(outcomes) for outcomes in said]
    decision = CreditPolicySet.of(*policies).decide(context)
    everything = [o for outcomes in said for o in outcomes]
    expected = max(everything, key=lambda o: o.severity, default=CreditOutcome.APPROVE)
    assert decision.outcome is expected
    assert len(decision.reasons) == everything.count(expected)
    assert len(decision.reasons) + len(decision.notes) == len(everything)
    assert all(r.code == f"test.{expected.value}" for r in decision.reasons)
    # Nesting sets changes nothing: the combination is associative.
    nested = CreditPolicySet.of(
        CreditPolicySet.of(*policies[:split]), CreditPolicySet.of(*policies[split:])
    )
    assert nested.decide(context).outcome is expected


def test_outcomes_are_ranked_by_severity() -> None:
    ranked = sorted(CreditOutcome, key=lambda o: o.severity)
    assert ranked == [
        CreditOutcome.APPROVE,
        CreditOutcome.REVIEW,
        CreditOutcome.HOLD,
        CreditOutcome.DENY,
    ]
