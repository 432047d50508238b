"""The credit account lifecycle as a hypothesis state machine.

Any command may be tried in any state, on any later business date. The machine keeps its own model
of which moves the business allows; an allowed move must land in the expected state with exactly
one event, and a forbidden one must raise and leave the account as it was.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from o2c.domain.credit import (
    APPROVAL_STATES,
    OVERDUE,
    CreditAccount,
    CreditApplied,
    CreditApprovalExpired,
    CreditApproved,
    CreditContext,
    CreditDenied,
    CreditHoldPlaced,
    CreditHoldReleased,
    CreditLimitChanged,
    CreditOutcome,
    CreditReviewStarted,
    CreditStatus,
    default_credit_policy,
    hold_if_overdue,
    release_if_settled,
)
from o2c.domain.errors import DomainError, IllegalTransition, InvalidInput
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.money import Money, from_minor, money
from o2c.domain.receivables import Instalment, OpenItem

S = CreditStatus
START = date(2026, 1, 1)

# The business rules, written out independently of the module's table: (state, command) -> state.
ALLOWED: dict[tuple[CreditStatus, str], CreditStatus] = {
    (S.UNKNOWN, "apply"): S.APPLIED,
    (S.DENIED, "apply"): S.APPLIED,
    (S.EXPIRED, "apply"): S.APPLIED,
    (S.APPLIED, "start_review"): S.UNDER_REVIEW,
    (S.APPLIED, "approve"): S.APPROVED,
    (S.UNDER_REVIEW, "approve"): S.APPROVED,
    (S.APPLIED, "deny"): S.DENIED,
    (S.UNDER_REVIEW, "deny"): S.DENIED,
    (S.APPROVED, "hold"): S.ON_HOLD,
    (S.RELEASED, "hold"): S.ON_HOLD,
    (S.ON_HOLD, "release"): S.RELEASED,
    (S.APPROVED, "expire"): S.EXPIRED,
    (S.RELEASED, "expire"): S.EXPIRED,
    (S.APPROVED, "change_limit"): S.APPROVED,
    (S.ON_HOLD, "change_limit"): S.ON_HOLD,
    (S.RELEASED, "change_limit"): S.RELEASED,
}
EVENT_OF: dict[str, type[DomainEvent]] = {
    "apply": CreditApplied,
    "start_review": CreditReviewStarted,
    "approve": CreditApproved,
    "deny": CreditDenied,
    "hold": CreditHoldPlaced,
    "release": CreditHoldReleased,
    "expire": CreditApprovalExpired,
    "change_limit": CreditLimitChanged,
}
POLICY = default_credit_policy()
SMALL_ORDER = money("0.01", "EUR")
LIMITS = st.integers(min_value=1, max_value=10_000_000).map(lambda c: from_minor(c, "EUR"))


class CreditAccountMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.account = CreditAccount.new("C-1", "EUR")
        self.today = START
        self.decisions = 0
        self.items: tuple[OpenItem, ...] = ()

    # -- driving -----------------------------------------------------------------------------

    def attempt(
        self,
        command: str,
        run: Callable[[CreditAccount], Changed[CreditAccount]],
        *,
        guard_holds: bool = True,
    ) -> None:
        before = self.account
        target = ALLOWED.get((before.status, command))
        if target is None:
            with pytest.raises(IllegalTransition) as refused:
                run(before)
            assert refused.value.state == before.status.value
            assert refused.value.trigger == command
            assert self.account == before
            return
        if not guard_holds:
            with pytest.raises(InvalidInput):
                run(before)
            assert self.account == before
            return
        after, events = run(before)
        assert after.status is target
        assert len(events) == 1
        assert isinstance(events[0], EVENT_OF[command])
        for name, expected in (("customer_id", "C-1"), ("on", self.today)):
            assert getattr(events[0], name) == expected
        if command in ("approve", "deny", "change_limit"):
            assert len(after.reviews) == len(before.reviews) + 1
            self.decisions += 1
        else:
            assert after.reviews == before.reviews
        assert after.changed_on == self.today
        self.account = after

    @initialize(start=st.sampled_from(["new", "approved", "on hold"]))
    def start_from(self, start: str) -> None:
        # Starting some runs further along lets the short runs reach the deeper states.
        if start != "new":
            self.apply(None)
            self.approve(money("1000", "EUR"), 90)
        if start == "on hold":
            self.hold("manual check")

    @rule(days=st.integers(min_value=0, max_value=90))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule(requested=st.none() | LIMITS)
    def apply(self, requested: Money | None) -> None:
        self.attempt("apply", lambda a: a.apply(self.today, requested))

    @rule()
    def start_review(self) -> None:
        self.attempt("start_review", lambda a: a.start_review(self.today))

    @rule(limit=LIMITS, days=st.integers(min_value=1, max_value=400))
    def approve(self, limit: Money, days: int) -> None:
        expires = self.today + timedelta(days=days)
        self.attempt(
            "approve",
            lambda a: a.approve(limit, expires, "ana", "references", self.today),
        )

    @rule()
    def deny(self) -> None:
        self.attempt("deny", lambda a: a.deny("ana", "no history", self.today))

    @rule(reason=st.sampled_from(["insolvency", "manual check"]))
    def hold(self, reason: str) -> None:
        self.attempt("hold", lambda a: a.hold(reason, self.today))

    @rule()
    def release(self) -> None:
        self.attempt("release", lambda a: a.release(self.today, "cleared"))

    @rule()
    def expire(self) -> None:
        expires = self.account.expires_on
        self.attempt(
            "expire",
            lambda a: a.expire(self.today),
            guard_holds=expires is None or self.today > expires,
        )

    @rule(limit=LIMITS)
    def change_limit(self, limit: Money) -> None:
        self.attempt(
            "change_limit",
            lambda a: a.change_limit(limit, "bo", "volume", self.today),
            guard_holds=limit != self.account.credit_limit,
        )

    @rule(days=st.integers(min_value=1, max_value=5))
    def a_date_before_the_last_change_is_refused(self, days: int) -> None:
        changed_on = self.account.changed_on
        if changed_on is None:
            return
        before = self.account
        with pytest.raises(DomainError):
            before.start_review(changed_on - timedelta(days=days))
        assert self.account == before

    # -- overdue items, hold and release ------------------------------------------------------

    @rule(due_in=st.integers(min_value=-60, max_value=60), cents=st.integers(1, 10**6))
    def invoice(self, due_in: int, cents: int) -> None:
        due = self.today + timedelta(days=due_in)
        item = OpenItem(
            f"INV-{len(self.items)}",
            "C-1",
            min(due, self.today),
            (Instalment.unpaid(due, from_minor(cents, "EUR")),),
        )
        self.items = (*self.items, item)

    @rule()
    def customer_pays_everything(self) -> None:
        self.items = ()

    @rule()
    def dunning_run(self) -> None:
        before = self.account
        overdue = any(i.is_overdue(self.today) for i in self.items)
        after, events = hold_if_overdue(before, self.items, self.today)
        if overdue and before.status in (S.APPROVED, S.RELEASED):
            assert after.status is S.ON_HOLD
            assert after.hold_reason is not None
            assert after.hold_reason.code == OVERDUE
            assert len(events) == 1
            self.account = after
        else:
            assert (after, events) == (before, ())

    @rule()
    def payment_run(self) -> None:
        before = self.account
        overdue = any(i.is_overdue(self.today) for i in self.items)
        after, events = release_if_settled(before, self.items, self.today)
        reason = before.hold_reason
        if not overdue and reason is not None and reason.code == OVERDUE:
            assert after.status is S.RELEASED
            assert len(events) == 1
            self.account = after
        else:
            assert (after, events) == (before, ())

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def approval_goes_with_limit_and_dates(self) -> None:
        account = self.account
        approved = account.status in APPROVAL_STATES
        assert approved == (account.credit_limit.amount > 0)
        assert approved == (account.expires_on is not None)
        assert approved == (account.approved_on is not None)
        if approved:
            assert account.approved_on is not None
            assert account.expires_on is not None
            assert account.approved_on < account.expires_on

    @invariant()
    def a_hold_has_a_reason(self) -> None:
        assert self.account.is_on_hold == (self.account.hold_reason is not None)

    @invariant()
    def history_is_complete_and_in_date_order(self) -> None:
        reviews = self.account.reviews
        assert len(reviews) == self.decisions
        assert all(a.on <= b.on for a, b in itertools.pairwise(reviews))

    @invariant()
    def the_policy_agrees_with_the_account(self) -> None:
        context = CreditContext.build(self.account, order_amount=SMALL_ORDER, as_of=self.today)
        outcome = POLICY.decide(context).outcome
        if self.account.is_on_hold:
            assert outcome is CreditOutcome.HOLD
        elif not self.account.has_current_approval(self.today):
            assert outcome is CreditOutcome.REVIEW
        else:
            assert outcome is CreditOutcome.APPROVE


_base = CreditAccountMachine.TestCase.settings
# Interesting states (released after a hold, expired after release) lie several steps deep, so the
# machine runs more examples than the quick local profile would give it.
CreditAccountMachine.TestCase.settings = settings(
    _base, stateful_step_count=35, max_examples=max(_base.max_examples, 150)
)
TestCreditAccountLifecycle = CreditAccountMachine.TestCase
