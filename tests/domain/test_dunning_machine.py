"""Dunning as a stateful system: days pass, customers pay, dispute and promise, dunning runs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from o2c.domain.dunning import (
    DunningAction,
    DunningBook,
    DunningLevel,
    DunningPolicy,
    DunningState,
    FeeTable,
    PauseReason,
    PlannedPayment,
    run_dunning,
)
from o2c.domain.money import Money, money, split_evenly
from o2c.domain.receivables import Instalment, ItemKind, OpenItem

START = date(2026, 1, 5)
CUSTOMERS = ("C1", "C2", "C3")

POLICY = DunningPolicy(
    (
        DunningLevel.reminder(3, "reminder"),
        DunningLevel(1, 7, "first", minimum=(money("20.00", "EUR"),)),
        DunningLevel(
            2,
            21,
            "second",
            fee=FeeTable.flat(money("5.00", "EUR")),
            interest_percent=Decimal("9.75"),
        ),
        DunningLevel(
            3,
            45,
            "final",
            fee=FeeTable.flat(money("15.00", "EUR")),
            interest_percent=Decimal("9.75"),
            actions=frozenset({DunningAction.CREDIT_HOLD, DunningAction.FINAL_NOTICE}),
        ),
        DunningLevel(4, 70, "collections", actions=frozenset({DunningAction.COLLECTIONS})),
        DunningLevel(5, 120, "write-off", actions=frozenset({DunningAction.WRITE_OFF_PROPOSAL})),
    ),
    charge_terms_days=10,
)


class DunningMachine(RuleBasedStateMachine):
    """A small ledger of EUR invoices dunned as time passes."""

    item_ids = Bundle("item_ids")

    def __init__(self) -> None:
        super().__init__()
        self.today = START
        self.ledger: dict[str, OpenItem] = {}
        self.book = DunningBook()
        self.highest: dict[str, int] = {}
        self.charge_ids: set[str] = set()
        self.numbers = 0

    # --- the world ----------------------------------------------------------------------------

    @initialize(target=item_ids)
    def first_invoice(self) -> str:
        return self._invoice("C1", 100_000, -10)

    @rule(
        target=item_ids,
        customer=st.sampled_from(CUSTOMERS),
        cents=st.integers(min_value=100, max_value=500_000),
        due_in=st.integers(min_value=-60, max_value=30),
    )
    def new_invoice(self, customer: str, cents: int, due_in: int) -> str:
        return self._invoice(customer, cents, due_in)

    def _invoice(self, customer: str, cents: int, due_in: int) -> str:
        self.numbers += 1
        item_id = f"INV-{self.numbers:04d}"
        due = self.today + timedelta(days=due_in)
        amount = Money(Decimal(cents).scaleb(-2), "EUR")
        self.ledger[item_id] = OpenItem(
            item_id, customer, due - timedelta(days=30), (Instalment.unpaid(due, amount),)
        )
        return item_id

    @rule(n=st.integers(min_value=1, max_value=25))
    def advance(self, n: int) -> None:
        self.today += timedelta(days=n)

    @rule(item_id=item_ids, share=st.integers(min_value=1, max_value=100))
    def pay(self, item_id: str, share: int) -> None:
        item = self.ledger[item_id]
        cents = int(item.open.amount * 100) * share // 100
        if cents:
            self.ledger[item_id] = item.apply(Money(Decimal(cents).scaleb(-2), "EUR"))

    @rule(item_id=item_ids)
    def bounce(self, item_id: str) -> None:
        item = self.ledger[item_id]
        paid = item.original.amount - item.open.amount
        if paid:
            self.ledger[item_id] = item.reopen(Money(paid, "EUR"))

    @rule()
    def pay_all_charges(self) -> None:
        for item_id, item in self.ledger.items():
            if item.kind is ItemKind.CHARGE and not item.is_settled:
                self.ledger[item_id] = item.apply(item.open)

    @rule(item_id=item_ids)
    def toggle_dispute(self, item_id: str) -> None:
        item = self.ledger[item_id]
        self.ledger[item_id] = OpenItem(
            item.item_id,
            item.customer_id,
            item.document_date,
            item.instalments,
            disputed=not item.disputed,
        )

    @rule(item_id=item_ids, days=st.integers(min_value=0, max_value=30))
    def promise(self, item_id: str, days: int) -> None:
        case = self.book.case_for(self.ledger[item_id])
        if case.state in (DunningState.CURRENT, DunningState.REMINDED, DunningState.DUNNING):
            paused, _ = case.promise_to_pay(self.today + timedelta(days=days), on=self.today)
            self.book = self.book.with_case(paused)

    @rule(item_id=item_ids, gap=st.integers(min_value=1, max_value=40))
    def agree_plan(self, item_id: str, gap: int) -> None:
        item = self.ledger[item_id]
        case = self.book.case_for(item)
        active = (DunningState.CURRENT, DunningState.REMINDED, DunningState.DUNNING)
        if case.state not in active or item.is_settled or item.open.amount < Decimal("0.02"):
            return
        halves = split_evenly(item.open, 2)
        plan = [
            PlannedPayment(self.today + timedelta(days=gap * (n + 1)), part)
            for n, part in enumerate(halves)
        ]
        planned, _ = case.agree_payment_plan(item, plan, on=self.today)
        self.book = self.book.with_case(planned)

    @rule(item_id=item_ids)
    def write_off_when_proposed(self, item_id: str) -> None:
        case = self.book.cases.get(item_id)
        if case is not None and case.state is DunningState.COLLECTIONS and case.level >= 5:
            written_off, _ = case.write_off(on=self.today)
            self.book = self.book.with_case(written_off)

    # --- dunning ------------------------------------------------------------------------------

    @rule()
    def run(self) -> None:
        items = list(self.ledger.values())
        result = run_dunning(items, self.book, POLICY, self.today)
        for charge in result.charges:
            assert charge.item_id not in self.charge_ids, "a charge was raised twice"
            assert charge.kind is ItemKind.CHARGE
            assert charge.open.amount > 0
            self.charge_ids.add(charge.item_id)
            self.ledger[charge.item_id] = charge
        again = run_dunning(list(self.ledger.values()), result.book, POLICY, self.today)
        assert again.events == ()
        assert again.notices == ()
        assert again.charges == ()
        self.book = result.book

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def levels_never_go_down(self) -> None:
        for item_id, case in self.book.cases.items():
            assert case.level >= self.highest.get(item_id, 0)
            self.highest[item_id] = case.level

    @invariant()
    def charges_have_no_case(self) -> None:
        for item_id in self.book.cases:
            assert self.ledger[item_id].kind is ItemKind.INVOICE

    @invariant()
    def paused_cases_say_why(self) -> None:
        for case in self.book.cases.values():
            assert (case.state is DunningState.PAUSED) == (case.paused_reason is not None)
            if case.paused_reason is PauseReason.PAYMENT_PLAN:
                assert case.plan

    @rule()
    def check_after_a_run(self) -> None:
        """A probe run (its book is not kept): holds, settlements and promises are consistent."""
        result = run_dunning(list(self.ledger.values()), self.book, POLICY, self.today)
        overdue = {item.customer_id for item in self.ledger.values() if item.is_overdue(self.today)}
        assert result.book.held_customers <= overdue
        for item_id, case in result.book.cases.items():
            if self.ledger[item_id].is_settled:
                assert case.state in (DunningState.RESOLVED, DunningState.WRITTEN_OFF)
            if case.paused_reason is PauseReason.PROMISE_TO_PAY:
                assert case.paused_until is not None
                assert case.paused_until >= self.today


TestDunningMachine = DunningMachine.TestCase
