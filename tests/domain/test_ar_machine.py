"""Accounts receivable end to end as a hypothesis state machine: the ledger always agrees.

Over three customers and two currencies (EUR, JPY) the machine issues real invoices under real
payment terms, takes in receipts (right, mistyped or missing references, known and unknown payers)
and applies them through the matching ladder, records what they settled on the invoices and the
dunning charges, reverses bounced receipts, refunds unapplied cash, issues credit notes, runs
dunning on an advancing date, pays charges and writes off bad debt. Every money event is posted
through :func:`~o2c.domain.posting.journal_entries` into one ledger.

After every step: the trial balance balances per currency; the receivable account equals the open
items per currency and per customer; unapplied cash, customer credit and the cash accounts equal
what the receipts and invoices say; nothing is over-paid or over-applied; money is conserved; and a
statement line imported twice never applies twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from o2c.domain.cash import (
    Allocation,
    AppliedSources,
    apply_cash,
    apply_statement,
    apply_to_item,
    refund_receipt,
    reverse_receipt,
)
from o2c.domain.dunning import DunningBook, DunningLevel, DunningPolicy, FeeTable, run_dunning
from o2c.domain.events import DomainEvent
from o2c.domain.invoicing import (
    CreditNote,
    Invoice,
    InvoiceableLine,
    InvoiceState,
    PriceBasis,
    TaxRounding,
    WriteOffKind,
)
from o2c.domain.ledger import AccountRole, Ledger
from o2c.domain.matching import MatchingConfig, PayerDirectory, WriteOffTolerance
from o2c.domain.money import (
    Money,
    Rounding,
    decimals_of,
    from_minor,
    money,
    quantize,
    total,
    zero,
)
from o2c.domain.posting import PostingRules, journal_entries
from o2c.domain.receipts import Payer, PaymentMethod, Receipt, ReceiptState
from o2c.domain.receivables import OpenItem
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms

RULES = PostingRules()
CUSTOMERS = ("C-1", "C-2", "C-3")
CURRENCIES = ("EUR", "JPY")
TERMS = tuple(PaymentTerms.parse(text) for text in ("NET 30", "2/10 NET 30", "30/60", "NET 14"))
CATEGORIES = (TaxCategory.standard("19"), TaxCategory.standard("7"), TaxCategory.zero_rated())
CONFIG = MatchingConfig(tolerance=WriteOffTolerance(percent=Decimal("1")))
_ACCOUNTS: Mapping[str, str] = MappingProxyType({f"DE00{c[-1]}": c for c in CUSTOMERS})
PAYERS = PayerDirectory(accounts=_ACCOUNTS)  # type: ignore[arg-type]  # attrs converter typing
POLICY = DunningPolicy(
    (
        DunningLevel(
            1,
            7,
            "first",
            fee=FeeTable.flat(money("5.00", "EUR"), money("500", "JPY")),
            interest_percent=Decimal("9.75"),
        ),
        DunningLevel(
            2,
            30,
            "second",
            fee=FeeTable.flat(money("15.00", "EUR"), money("1500", "JPY")),
            interest_percent=Decimal("12"),
        ),
    ),
    charge_terms_days=10,
)
REVERSIBLE = (InvoiceState.PAID, InvoiceState.PARTIALLY_PAID)
CREDITABLE = (InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID, InvoiceState.PAID)
WRITABLE = (InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID)

percents = st.integers(min_value=1, max_value=100)


def share(amount: Money, percent: int) -> Money:
    """``percent`` % of ``amount`` rounded down, at least one minor unit."""
    part = quantize(amount.amount * percent / 100, Rounding.DOWN, amount.currency)
    return part if part.amount > 0 else from_minor(1, amount.currency)


def typo(text: str) -> str:
    """The reference with its last character changed, as a payer mistypes it."""
    return text[:-1] + ("7" if text[-1] != "7" else "1")


class AccountsReceivable(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.today = date(2026, 1, 5)
        self.ledger = Ledger.empty(RULES.chart)
        self.invoices: dict[str, Invoice] = {}
        self.charges: dict[str, OpenItem] = {}
        self.receipts: dict[str, Receipt] = {}
        self.allocations: dict[str, list[Allocation]] = {}
        self.sources = AppliedSources()
        self.book = DunningBook()
        self.received = {c: zero(c) for c in CURRENCIES}
        self.reversed = {c: zero(c) for c in CURRENCIES}
        self.count = 0

    # --- helpers ------------------------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.count:05d}"

    def post(self, events: tuple[DomainEvent, ...] | list[DomainEvent]) -> None:
        for event in events:
            entries = journal_entries(event, RULES)
            self.ledger = self.ledger.post_batch(entries)
            # posting the same event again is a no-op
            assert self.ledger.post_batch(journal_entries(event, RULES)) is self.ledger

    def items(self) -> list[OpenItem]:
        found = [i.open_item for i in self.invoices.values() if i.open_item is not None]
        return [*found, *self.charges.values()]

    def open_items(self, currency: str | None = None) -> list[OpenItem]:
        return [
            item
            for item in self.items()
            if item.open.amount > 0 and (currency is None or item.currency == currency)
        ]

    def record(self, receipt: Receipt, allocations: tuple[Allocation, ...]) -> None:
        """Record what the allocations settled where each item lives."""
        self.receipts[receipt.receipt_id] = receipt
        self.allocations.setdefault(receipt.receipt_id, []).extend(allocations)
        for allocation in allocations:
            charge = self.charges.get(allocation.item_id)
            if charge is not None:
                self.charges[charge.item_id] = charge.apply(allocation.settled)
                continue
            invoice = self.invoices[allocation.item_id]
            events: list[DomainEvent] = []
            if allocation.discount.amount > 0:
                invoice, found = invoice.record_discount(
                    allocation.discount, self.today, receipt.receipt_id
                )
                events.extend(found)
            if allocation.applied.amount > 0:
                invoice, found = invoice.record_payment(
                    allocation.applied, self.today, receipt.receipt_id
                )
                events.extend(found)
            if allocation.write_off.amount > 0:
                invoice, found = invoice.record_write_off(
                    allocation.write_off, self.today, "short_payment"
                )
                events.extend(found)
            self.invoices[allocation.item_id] = invoice
            self.post(events)

    # --- rules --------------------------------------------------------------------------------

    @initialize(
        customer=st.sampled_from(CUSTOMERS), currency=st.sampled_from(CURRENCIES), data=st.data()
    )
    def start(self, customer: str, currency: str, data: st.DataObject) -> None:
        self.issue_invoice(customer, currency, data)

    @rule(customer=st.sampled_from(CUSTOMERS), currency=st.sampled_from(CURRENCIES), data=st.data())
    def issue_invoice(self, customer: str, currency: str, data: st.DataObject) -> None:
        places = decimals_of(currency)
        lines = [
            InvoiceableLine(
                order_id="SO-1",
                order_line_id=str(n),
                product_id=f"P-{n}",
                description="thing",
                quantity=Decimal(data.draw(st.integers(1, 3), label="quantity")),
                unit_price=money(Decimal(units).scaleb(-places), currency),
                tax_category=data.draw(st.sampled_from(CATEGORIES), label="tax"),
            )
            for n, units in enumerate(
                data.draw(st.lists(st.integers(1, 500_000), min_size=1, max_size=3), label="prices")
            )
        ]
        draft = Invoice.draft(
            self.next_id("D"),
            customer,
            lines,
            prices=data.draw(st.sampled_from(PriceBasis), label="prices basis"),
            tax_rounding=data.draw(st.sampled_from(TaxRounding), label="tax rounding"),
        )
        number = self.next_id("INV")
        terms = data.draw(st.sampled_from(TERMS), label="terms")
        invoice, events = draft.issue(number, self.today, terms)
        self.invoices[number] = invoice
        self.post(events)

    @rule(
        currency=st.sampled_from(CURRENCIES),
        payer=st.sampled_from(("customer", "account", "stranger")),
        amount_kind=st.sampled_from(("open", "discounted", "short", "part", "over", "random")),
        reference_kind=st.sampled_from(("right", "typo", "none")),
        method=st.sampled_from((PaymentMethod.TRANSFER, PaymentMethod.CARD)),
        statement=st.booleans(),
        data=st.data(),
    )
    def receive(
        self,
        *,
        currency: str,
        payer: str,
        amount_kind: str,
        reference_kind: str,
        method: PaymentMethod,
        statement: bool,
        data: st.DataObject,
    ) -> None:
        candidates = self.open_items(currency)
        target = data.draw(st.sampled_from(candidates), label="target") if candidates else None
        customer = target.customer_id if target else data.draw(st.sampled_from(CUSTOMERS))
        if target is None or amount_kind == "random":
            amount = from_minor(data.draw(st.integers(1, 10**8), label="minor units"), currency)
        elif amount_kind == "discounted" and target.discount_on(self.today) is not None:
            offer = target.discount_on(self.today)
            assert offer is not None
            amount = target.open - offer.discount
        elif amount_kind == "short" and target.open.amount > 0:
            shortfall = data.draw(st.integers(1, 3), label="short by")
            amount = target.open - from_minor(shortfall, currency)
        elif amount_kind == "part":
            amount = share(target.open, data.draw(percents, label="percent"))
        elif amount_kind == "over":
            amount = target.open + from_minor(data.draw(st.integers(1, 10**5)), currency)
        else:
            amount = target.open
        if amount.amount <= 0:
            amount = from_minor(1, currency)
        reference = None
        if target is not None and reference_kind == "right":
            reference = target.item_id
        remittance = (
            f"payment {typo(target.item_id)}" if target and reference_kind == "typo" else ""
        )
        who = {
            "customer": Payer(customer),
            "account": Payer(account=f"DE00{customer[-1]}"),
            "stranger": Payer(name="Someone Else"),
        }[payer]
        number = self.next_id("R")
        receipt = Receipt(
            number,
            amount,
            self.today,
            f"line-{number}",
            who,
            remittance,
            reference,
            method,
        )
        items = self.items()
        if statement:
            run = apply_statement(
                (receipt,),
                items,
                on=self.today,
                sources=self.sources,
                config=CONFIG,
                payers=PAYERS,
            )
            # the same statement line again applies nothing
            again = apply_statement(
                (receipt,), run.items, on=self.today, sources=run.sources, config=CONFIG
            )
            assert again.duplicates == (receipt,)
            assert again.allocations == ()
            assert again.events == ()
            (applied,) = run.receipts
            allocations, events, self.sources = run.allocations, run.events, run.sources
        else:
            result = apply_cash(
                receipt, items, on=self.today, sources=self.sources, config=CONFIG, payers=PAYERS
            )
            applied, allocations, events = result.receipt, result.allocations, result.events
            self.sources = result.sources
        self.received[currency] += amount
        self.post(events)
        self.record(applied, allocations)

    @rule(data=st.data())
    def pay_charge(self, data: st.DataObject) -> None:
        charges = [c for c in self.charges.values() if c.open.amount > 0]
        if not charges:
            return
        charge = data.draw(st.sampled_from(charges), label="charge")
        number = self.next_id("R")
        receipt = Receipt(
            number, charge.open, self.today, f"line-{number}", Payer(charge.customer_id)
        )
        result = apply_to_item(receipt, charge, charge.open, on=self.today)
        self.received[charge.currency] += charge.open
        self.post(result.events)
        self.record(result.receipt, (result.allocation,))

    def reversible(self, receipt: Receipt) -> bool:
        if receipt.state is ReceiptState.REVERSED or receipt.refunded.amount > 0:
            return False
        return all(
            a.item_id in self.charges
            or (self.invoices[a.item_id].state in REVERSIBLE and a.applied.amount > 0)
            for a in self.allocations.get(receipt.receipt_id, ())
        )

    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        candidates = [r for r in self.receipts.values() if self.reversible(r)]
        if not candidates:
            return
        receipt = data.draw(st.sampled_from(candidates), label="bounced")
        allocations = self.allocations.get(receipt.receipt_id, [])
        reversal = reverse_receipt(receipt, allocations, self.items(), on=self.today)
        self.post(reversal.events)
        reopened = {item.item_id: item for item in reversal.items}
        for allocation in allocations:
            if allocation.item_id in self.charges:
                self.charges[allocation.item_id] = reopened[allocation.item_id]
                continue
            invoice, events = self.invoices[allocation.item_id].reverse_payment(
                allocation.applied,
                self.today,
                receipt.receipt_id,
                discount=allocation.discount,
                write_off=allocation.write_off,
            )
            self.invoices[allocation.item_id] = invoice
            self.post(events)
            assert invoice.open_item is not None
        self.receipts[receipt.receipt_id] = reversal.receipt
        self.reversed[receipt.currency] += receipt.amount

    @rule(data=st.data(), percent=percents)
    def refund(self, data: st.DataObject, percent: int) -> None:
        candidates = [
            r
            for r in self.receipts.values()
            if r.state is not ReceiptState.REVERSED and r.unapplied.amount > 0
        ]
        if not candidates:
            return
        receipt = data.draw(st.sampled_from(candidates), label="refunded")
        amount = min(share(receipt.unapplied, percent), receipt.unapplied)
        refunded, events = refund_receipt(receipt, amount, on=self.today)
        self.receipts[receipt.receipt_id] = refunded
        self.post(events)

    @rule(data=st.data(), full=st.booleans(), percent=percents)
    def credit(self, data: st.DataObject, full: bool, percent: int) -> None:
        candidates = [
            i
            for i in self.invoices.values()
            if i.state in CREDITABLE and i.creditable.amount > 0 and i.open_item is not None
        ]
        if not candidates:
            return
        invoice = data.draw(st.sampled_from(candidates), label="credited")
        number = self.next_id("CN")
        if full:
            note = CreditNote.full(invoice, number, self.today, "returned")
        else:
            amount = min(share(invoice.creditable, percent), invoice.creditable)
            note = CreditNote.for_amount(invoice, number, self.today, "reduction", amount)
        credited, events = invoice.apply_credit_note(note)
        self.invoices[invoice.number or ""] = credited
        self.post(events)

    @rule(days=st.integers(1, 40))
    def dun(self, days: int) -> None:
        self.today += timedelta(days=days)
        result = run_dunning(self.open_items(), self.book, POLICY, self.today)
        self.book = result.book
        for charge in result.charges:
            assert charge.item_id not in self.charges
            self.charges[charge.item_id] = charge
        self.post(result.events)

    @rule(data=st.data(), whole=st.booleans(), percent=percents)
    def write_off_bad_debt(self, data: st.DataObject, whole: bool, percent: int) -> None:
        candidates = [
            i for i in self.invoices.values() if i.state in WRITABLE and i.open.amount > 0
        ]
        if not candidates:
            return
        invoice = data.draw(st.sampled_from(candidates), label="written off")
        amount = invoice.open if whole else min(share(invoice.open, percent), invoice.open)
        written, events = invoice.record_write_off(
            amount, self.today, "insolvent", WriteOffKind.BAD_DEBT
        )
        self.invoices[invoice.number or ""] = written
        self.post(events)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def the_trial_balance_balances(self) -> None:
        assert self.ledger.trial_balance().is_balanced

    @invariant()
    def receivables_equal_the_open_items(self) -> None:
        items = self.items()
        for currency in CURRENCIES:
            mine = [i for i in items if i.currency == currency]
            assert self.ledger.receivable_balance(currency) == sum_open(mine, currency)
            for customer in CUSTOMERS:
                theirs = [i for i in mine if i.customer_id == customer]
                assert self.ledger.receivable_balance(currency, customer) == sum_open(
                    theirs, currency
                )

    @invariant()
    def nothing_is_over_paid(self) -> None:
        for invoice in self.invoices.values():
            assert invoice.open_item is not None
            assert 0 <= invoice.open.amount <= invoice.gross.amount
            assert invoice.open <= invoice.creditable
        for charge in self.charges.values():
            assert 0 <= charge.open.amount <= charge.original.amount

    @invariant()
    def no_receipt_is_over_applied(self) -> None:
        for receipt in self.receipts.values():
            assert receipt.applied + receipt.refunded <= receipt.amount
            assert receipt.unapplied.amount >= 0
            made = self.allocations.get(receipt.receipt_id, [])
            assert sum_of((a.applied for a in made), receipt.currency) == receipt.applied

    @invariant()
    def money_is_conserved(self) -> None:
        chart = RULES.chart
        for currency in CURRENCIES:
            live = [
                r
                for r in self.receipts.values()
                if r.currency == currency and r.state is not ReceiptState.REVERSED
            ]
            applied = sum_of((r.applied for r in live), currency)
            unapplied = sum_of((r.unapplied for r in live), currency)
            refunded = sum_of((r.refunded for r in live), currency)
            assert (
                self.received[currency]
                == applied + unapplied + refunded + (self.reversed[currency])
            )
            cash = self.ledger.balance(chart.code(AccountRole.BANK), currency) + (
                self.ledger.balance(chart.code(AccountRole.GATEWAY_CLEARING), currency)
            )
            assert cash == self.received[currency] - refunded - self.reversed[currency]
            assert self.ledger.role_balance(AccountRole.UNAPPLIED_CASH, currency) == -unapplied
            credit = sum_of(
                (i.customer_credit for i in self.invoices.values() if i.currency == currency),
                currency,
            )
            assert self.ledger.role_balance(AccountRole.CUSTOMER_CREDIT, currency) == -credit


def sum_open(items: list[OpenItem], currency: str) -> Money:
    return sum_of((i.open for i in items), currency)


def sum_of(amounts: Iterable[Money], currency: str) -> Money:
    return total(amounts, currency)


# A run of the machine is many steps, each with several invariants: a quarter of the profile's
# examples explores it well and keeps the file within seconds.
_PROFILE = settings()
TestAccountsReceivable = AccountsReceivable.TestCase
TestAccountsReceivable.settings = settings(
    _PROFILE, max_examples=max(10, _PROFILE.max_examples // 4), stateful_step_count=50
)
