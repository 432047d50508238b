"""From domain events to journal entries: each money event posts the right accounts and amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.cash import (
    Allocation,
    ReceiptApplied,
    ReceiptPlacedOnAccount,
    ReceiptRecorded,
    ReceiptRefunded,
    ReceiptReversed,
    apply_cash,
    apply_to_item,
    refund_receipt,
    reverse_receipt,
)
from o2c.domain.dunning import DunningFeeCharged, DunningWrittenOff, InterestCharged
from o2c.domain.errors import InvalidAmount, InvalidInput, UnmappedAccountRole
from o2c.domain.events import DomainEvent
from o2c.domain.invoicing import (
    CreditNote,
    Invoice,
    InvoiceableLine,
    InvoiceDiscountGranted,
    InvoiceDisputed,
    InvoicePaymentRecorded,
    InvoiceState,
    InvoiceWrittenOff,
    TaxRounding,
    WriteOffKind,
)
from o2c.domain.ledger import (
    AccountRole,
    ChartOfAccounts,
    JournalEntry,
    Ledger,
    Side,
)
from o2c.domain.money import Money, money, unit_price
from o2c.domain.payments import PaymentCaptured, PaymentChargedBack, PaymentRefunded
from o2c.domain.posting import POSTING_HANDLERS, PostingRules, journal_entries, receipt_account
from o2c.domain.receipts import Payer, PaymentMethod, Receipt
from o2c.domain.receivables import Instalment, ItemKind, OpenItem
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms

RULES = PostingRules()
CHART = RULES.chart
ON = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
AR, REVENUE, TAX, BANK, CLEARING, UNAPPLIED, CREDIT, DISCOUNTS, WRITE_OFF, BAD_DEBT = (
    CHART.code(role)
    for role in (
        AccountRole.RECEIVABLE,
        AccountRole.REVENUE,
        AccountRole.TAX_PAYABLE,
        AccountRole.BANK,
        AccountRole.GATEWAY_CLEARING,
        AccountRole.UNAPPLIED_CASH,
        AccountRole.CUSTOMER_CREDIT,
        AccountRole.SALES_DISCOUNTS,
        AccountRole.WRITE_OFF,
        AccountRole.BAD_DEBT,
    )
)


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def line(price: str, rate: str, number: int = 1, currency: str = "EUR") -> InvoiceableLine:
    return InvoiceableLine(
        order_id="SO-1",
        order_line_id=str(number),
        product_id=f"P-{number}",
        description="thing",
        quantity=Decimal(1),
        unit_price=unit_price(price, currency),
        tax_category=TaxCategory.standard(rate),
    )


def an_invoice(*lines: InvoiceableLine, terms: str = "NET 30", number: str = "INV-1") -> Invoice:
    draft = Invoice.draft(f"D-{number}", "C-1", lines or (line("100.00", "19"),))
    invoice, _ = draft.issue(number, ON, PaymentTerms.parse(terms))
    return invoice


def posted(*events: DomainEvent) -> Ledger:
    ledger = Ledger.empty()
    for event in events:
        ledger = ledger.post_batch(journal_entries(event, RULES))
    return ledger


def sides(entry: JournalEntry) -> set[tuple[str, Side, str, str | None, str | None]]:
    return {(p.account, p.side, str(p.amount.amount), p.party, p.document) for p in entry.postings}


def a_receipt(
    amount: str, *, customer: str | None = "C-1", method: PaymentMethod = PaymentMethod.TRANSFER
) -> Receipt:
    return Receipt("R-1", eur(amount), ON, "line-1", Payer(customer), method=method)


# --- documents ----------------------------------------------------------------------------------


def test_an_issued_invoice_posts_gross_receivable_against_revenue_and_tax_per_rate() -> None:
    draft = Invoice.draft("D-1", "C-1", (line("100.00", "19", 1), line("50.00", "7", 2)))
    _, events = draft.issue("INV-1", ON, PaymentTerms.parse("NET 30"))
    (entry,) = journal_entries(events[0], RULES)
    assert entry.entry_id == "INV-1:invoice_issued"
    assert sides(entry) == {
        (AR, Side.DEBIT, "172.50", "C-1", "INV-1"),
        (REVENUE, Side.CREDIT, "100.00", None, None),
        (REVENUE, Side.CREDIT, "50.00", None, None),
        (TAX, Side.CREDIT, "19.00", None, None),
        (TAX, Side.CREDIT, "3.50", None, None),
    }
    assert {p.memo for p in entry.postings if p.account == TAX} == {"S 19%", "S 7%"}


def test_a_credit_note_mirrors_the_invoice_for_what_is_open() -> None:
    invoice = an_invoice()
    note = CreditNote.for_amount(invoice, "CN-1", ON, "price reduction", eur("59.50"))
    _, events = invoice.apply_credit_note(note)
    (entry,) = journal_entries(events[0], RULES)
    assert sides(entry) == {
        (AR, Side.CREDIT, "59.50", "C-1", "INV-1"),
        (REVENUE, Side.DEBIT, "50.00", None, None),
        (TAX, Side.DEBIT, "9.50", None, None),
    }


def test_a_credit_note_on_a_paid_invoice_becomes_customer_credit() -> None:
    invoice = an_invoice()
    paid, _ = invoice.record_payment(eur("119.00"), ON, "R-1")
    note = CreditNote.full(paid, "CN-1", ON, "returned")
    _, events = paid.apply_credit_note(note)
    note_entry, credit = journal_entries(events[0], RULES)
    assert credit.entry_id == "CN-1:customer_credit_granted"
    assert sides(credit) == {
        (AR, Side.DEBIT, "119.00", "C-1", "INV-1"),
        (CREDIT, Side.CREDIT, "119.00", "C-1", None),
    }
    ledger = Ledger.empty().post_batch((note_entry, credit))
    assert ledger.receivable_balance("EUR", "C-1") == eur("0.00")
    assert ledger.balance(CREDIT, "EUR", "C-1") == eur("-119.00")


# --- cash ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "account"),
    [
        (PaymentMethod.TRANSFER, BANK),
        (PaymentMethod.CHEQUE, BANK),
        (PaymentMethod.CARD, CLEARING),
        (PaymentMethod.WALLET, CLEARING),
    ],
)
def test_a_recorded_receipt_posts_cash_to_unapplied_cash(
    method: PaymentMethod, account: str
) -> None:
    (entry,) = journal_entries(ReceiptRecorded.of(a_receipt("80.00", method=method)), RULES)
    assert entry.entry_id == "R-1:receipt_recorded"
    assert sides(entry) == {
        (account, Side.DEBIT, "80.00", None, None),
        (UNAPPLIED, Side.CREDIT, "80.00", "C-1", None),
    }
    assert receipt_account(method) in (AccountRole.BANK, AccountRole.GATEWAY_CLEARING)


def test_cash_application_records_and_applies_a_receipt() -> None:
    invoice = an_invoice()
    assert invoice.open_item is not None
    result = apply_cash(
        attrs.evolve(a_receipt("150.00"), reference="INV-1"), (invoice.open_item,), on=ON
    )
    kinds = [type(e) for e in result.events]
    assert ReceiptRecorded in kinds
    assert ReceiptApplied in kinds
    ledger = posted(_issued_event(), *result.events)
    assert ledger.receivable_balance("EUR", "C-1") == eur("0.00")
    assert ledger.balance(UNAPPLIED, "EUR") == eur("-31.00")
    assert ledger.balance(BANK, "EUR") == eur("150.00")


def _issued_event() -> DomainEvent:
    draft = Invoice.draft("D-INV-1", "C-1", (line("100.00", "19"),))
    return draft.issue("INV-1", ON, PaymentTerms.parse("NET 30"))[1][0]


def test_an_allocation_posts_cash_discount_and_write_off_separately() -> None:
    allocation = Allocation(
        "R-1",
        "INV-1",
        eur("96.00"),
        eur("2.00"),
        eur("0.50"),
        "short_payment",
        "manual",
        Decimal(1),
        "",
        "C-1",
    )
    applied, discount, write_off = journal_entries(
        ReceiptApplied("R-1", ON, (allocation,), eur("0.00")), RULES
    )
    assert applied.entry_id == "R-1/INV-1@0.00:receipt_applied"
    assert sides(applied) == {
        (UNAPPLIED, Side.DEBIT, "96.00", "C-1", None),
        (AR, Side.CREDIT, "96.00", "C-1", "INV-1"),
    }
    assert sides(discount) == {
        (DISCOUNTS, Side.DEBIT, "2.00", None, None),
        (AR, Side.CREDIT, "2.00", "C-1", "INV-1"),
    }
    assert sides(write_off) == {
        (WRITE_OFF, Side.DEBIT, "0.50", None, None),
        (AR, Side.CREDIT, "0.50", "C-1", "INV-1"),
    }


def test_an_allocation_without_a_customer_is_refused() -> None:
    allocation = Allocation(
        "R-1", "INV-1", eur("1.00"), eur("0"), eur("0"), None, "manual", Decimal(1), ""
    )
    with pytest.raises(InvalidInput):
        journal_entries(ReceiptApplied("R-1", ON, (allocation,), eur("0.00")), RULES)


def test_two_applications_of_one_receipt_to_one_item_post_twice() -> None:
    invoice = an_invoice()
    assert invoice.open_item is not None
    first = apply_to_item(a_receipt("50.00"), invoice.open_item, eur("20.00"), on=ON)
    second = apply_to_item(first.receipt, first.item, eur("20.00"), on=ON)
    ledger = posted(_issued_event(), *first.events, *second.events)
    assert ledger.receivable_balance("EUR", "C-1") == eur("79.00")
    assert ledger.balance(UNAPPLIED, "EUR") == eur("-10.00")


def test_a_reversed_receipt_undoes_recording_application_discount_and_write_off() -> None:
    invoice = an_invoice(terms="2/10 NET 30")
    assert invoice.open_item is not None
    receipt = a_receipt("116.62")  # 119.00 less 2 %
    applied = apply_cash(receipt, (invoice.open_item,), on=ON)
    assert applied.allocations[0].discount == eur("2.38")
    reversal = reverse_receipt(applied.receipt, applied.allocations, applied.items, on=ON)
    before = posted(_issued_event())
    after = posted(_issued_event(), *applied.events, *reversal.events)
    for account in (AR, BANK, UNAPPLIED, DISCOUNTS):
        assert after.balance(account, "EUR") == before.balance(account, "EUR")
    assert after.receivable_balance("EUR", "C-1") == reversal.items[0].open
    assert any(e.meta("reverses") for e in after.entries)


def test_a_reversed_card_receipt_leaves_gateway_clearing() -> None:
    event = ReceiptReversed("R-1", ON, (), eur("10.00"), "C-1", PaymentMethod.CARD)
    (entry,) = journal_entries(event, RULES)
    assert sides(entry) == {
        (UNAPPLIED, Side.DEBIT, "10.00", "C-1", None),
        (CLEARING, Side.CREDIT, "10.00", None, None),
    }


def test_refunds_of_one_receipt_post_under_their_own_ids() -> None:
    receipt = a_receipt("30.00", customer=None)
    part, first = refund_receipt(receipt, eur("10.00"), on=ON)
    _, second = refund_receipt(part, eur("10.00"), on=ON)
    (one,) = journal_entries(first[0], RULES)
    (two,) = journal_entries(second[0], RULES)
    assert one.entry_id != two.entry_id
    assert sides(one) == {
        (UNAPPLIED, Side.DEBIT, "10.00", None, None),
        (BANK, Side.CREDIT, "10.00", None, None),
    }
    assert one.meta("customer") is None
    known = ReceiptRefunded("R-2", ON, eur("5.00"), eur("5.00"), "C-1", PaymentMethod.CARD)
    (entry,) = journal_entries(known, RULES)
    assert sides(entry) == {
        (UNAPPLIED, Side.DEBIT, "5.00", "C-1", None),
        (CLEARING, Side.CREDIT, "5.00", None, None),
    }


# --- invoice settlements, write-offs and charges ----------------------------------------------


def test_settlements_named_after_a_receipt_post_nothing_of_their_own() -> None:
    invoice = an_invoice(terms="2/10 NET 30")
    discounted, granted = invoice.record_discount(eur("2.38"), ON, "R-1")
    paid, recorded = discounted.record_payment(eur("116.62"), ON, "R-1")
    for event in (*granted, *recorded):
        assert journal_entries(event, RULES) == ()
    small = InvoiceWrittenOff(
        "INV-1", ON, eur("0.10"), WriteOffKind.SMALL_DIFFERENCE, "short", eur("0"), "C-1"
    )
    assert journal_entries(small, RULES) == ()
    assert paid.open == eur("0.00")


def test_a_discount_granted_by_hand_posts_to_sales_discounts() -> None:
    event = InvoiceDiscountGranted("INV-1", ON, eur("2.38"), None, eur("116.62"), "C-1")
    (entry,) = journal_entries(event, RULES)
    assert sides(entry) == {
        (DISCOUNTS, Side.DEBIT, "2.38", None, None),
        (AR, Side.CREDIT, "2.38", "C-1", "INV-1"),
    }


def test_a_bad_debt_write_off_posts_to_bad_debt_expense() -> None:
    invoice = an_invoice()
    _, events = invoice.record_write_off(eur("119.00"), ON, "insolvent", WriteOffKind.BAD_DEBT)
    (entry,) = journal_entries(events[0], RULES)
    assert sides(entry) == {
        (BAD_DEBT, Side.DEBIT, "119.00", None, None),
        (AR, Side.CREDIT, "119.00", "C-1", "INV-1"),
    }


def test_a_reopened_invoice_posts_the_customer_credit_it_reclaims() -> None:
    invoice = an_invoice()
    paid, _ = invoice.record_payment(eur("119.00"), ON, "R-1")
    note = CreditNote.for_amount(paid, "CN-1", ON, "goodwill", eur("19.00"))
    credited, _ = paid.apply_credit_note(note)
    reopened, events = credited.reverse_payment(eur("119.00"), ON, "R-1")
    assert reopened.open == eur("100.00")
    (entry,) = journal_entries(events[0], RULES)
    assert sides(entry) == {
        (CREDIT, Side.DEBIT, "19.00", "C-1", None),
        (AR, Side.CREDIT, "19.00", "C-1", "INV-1"),
    }


def test_dunning_charges_post_receivable_against_fee_and_interest_income() -> None:
    fee = DunningFeeCharged("INV-1-FEE-L2", "C-1", "INV-1", 2, eur("5.00"), ON)
    interest = InterestCharged("INV-1-INT-L2", "C-1", "INV-1", 2, eur("0.42"), ON)
    (fee_entry,) = journal_entries(fee, RULES)
    (interest_entry,) = journal_entries(interest, RULES)
    assert sides(fee_entry) == {
        (AR, Side.DEBIT, "5.00", "C-1", "INV-1-FEE-L2"),
        (CHART.code(AccountRole.FEE_INCOME), Side.CREDIT, "5.00", None, None),
    }
    assert sides(interest_entry) == {
        (AR, Side.DEBIT, "0.42", "C-1", "INV-1-INT-L2"),
        (CHART.code(AccountRole.INTEREST_INCOME), Side.CREDIT, "0.42", None, None),
    }


# --- what posts nothing -----------------------------------------------------------------------


class SomethingHappened(DomainEvent):
    pass


@pytest.mark.parametrize(
    "event",
    [
        SomethingHappened(),
        InvoiceDisputed("INV-1", ON, "wrong price"),
        InvoicePaymentRecorded("INV-1", ON, eur("1.00"), "R-1", eur("0")),
        ReceiptPlacedOnAccount("R-1", "C-1", ON, eur("1.00"), ()),
        DunningWrittenOff("INV-1", "C-1", ON),
        PaymentCaptured("P-1", "C-1", "SO-1", eur("1.00"), eur("1.00"), AT, None),
        PaymentRefunded("P-1", "C-1", "SO-1", eur("1.00"), eur("1.00"), AT, None),
        PaymentChargedBack("P-1", "C-1", "SO-1", eur("1.00"), AT, None),
    ],
)
def test_events_that_move_no_money_or_post_through_another_event_give_nothing(
    event: DomainEvent,
) -> None:
    assert journal_entries(event, RULES) == ()


def test_the_dispatch_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        POSTING_HANDLERS[SomethingHappened] = lambda e, r: ()  # type: ignore[index]


def test_a_chart_without_a_needed_role_refuses() -> None:
    rules = PostingRules(ChartOfAccounts.default().without_role(AccountRole.GATEWAY_CLEARING))
    with pytest.raises(UnmappedAccountRole):
        journal_entries(ReceiptRecorded.of(a_receipt("1.00", method=PaymentMethod.CARD)), rules)


# --- properties -------------------------------------------------------------------------------

rates = st.sampled_from(("0", "7", "19", "20"))


@given(
    prices=st.lists(st.tuples(st.integers(1, 10**6), rates), min_size=1, max_size=4),
    currency=st.sampled_from(("EUR", "JPY")),
    rounding=st.sampled_from(TaxRounding),
    paid_share=st.integers(1, 100),
)
def test_issue_and_pay_posts_balanced_entries_that_reconcile_with_the_open_item(
    prices: list[tuple[int, str]], currency: str, rounding: TaxRounding, paid_share: int
) -> None:
    places = 2 if currency == "EUR" else 0
    lines = [
        line(str(Decimal(units).scaleb(-places)), rate, number, currency)
        for number, (units, rate) in enumerate(prices, start=1)
    ]
    draft = Invoice.draft("D-1", "C-1", lines, tax_rounding=rounding)
    invoice, issued = draft.issue("INV-1", ON, PaymentTerms.parse("NET 30"))
    assert invoice.open_item is not None
    amount = money(
        str((invoice.gross.amount * paid_share / 100).quantize(Decimal(1).scaleb(-places))),
        currency,
    )
    events: list[DomainEvent] = list(issued)
    if amount.amount > 0:
        receipt = Receipt("R-1", amount, ON, "line-1", Payer("C-1"))
        result = apply_to_item(receipt, invoice.open_item, amount, on=ON)
        events.extend(result.events)
        item = result.item
    else:
        item = invoice.open_item
    ledger = Ledger.empty()
    for event in events:
        entries = journal_entries(event, RULES)
        for entry in entries:
            for cur in entry.currencies:
                debit = sum(p.units for p in entry.postings if p.currency == cur and p.units > 0)
                credit = -sum(p.units for p in entry.postings if p.currency == cur and p.units < 0)
                assert debit == credit
        ledger = ledger.post_batch(entries)
        assert ledger.post_batch(entries) is ledger  # posting again changes nothing
    assert ledger.trial_balance().is_balanced
    assert ledger.receivable_balance(currency, "C-1") == item.open
    assert ledger.balance(REVENUE, currency) == -invoice.totals.net


def test_a_charge_item_paid_by_cash_application_reconciles() -> None:
    charge = OpenItem(
        "INV-1-FEE-L2", "C-1", ON, (Instalment.unpaid(ON, eur("5.00")),), kind=ItemKind.CHARGE
    )
    fee = DunningFeeCharged("INV-1-FEE-L2", "C-1", "INV-1", 2, eur("5.00"), ON)
    result = apply_to_item(a_receipt("5.00"), charge, eur("5.00"), on=ON)
    ledger = posted(fee, *result.events)
    assert ledger.receivable_balance("EUR", "C-1") == result.item.open == eur("0.00")


def test_regression_a_reversed_payment_takes_its_discount_and_write_off_with_it() -> None:
    # A bounced receipt used to reopen only the cash it paid, so an invoice settled with an
    # early-payment discount stayed short by the discount while the cash reversal reopened it all.
    invoice = an_invoice(terms="2/10 NET 30")
    discounted, _ = invoice.record_discount(eur("2.38"), ON, "R-1")
    paid, _ = discounted.record_payment(eur("116.62"), ON, "R-1")
    reopened, events = paid.reverse_payment(eur("116.62"), ON, "R-1", discount=eur("2.38"))
    assert reopened.open == eur("119.00")
    assert reopened.discounted == eur("0.00")
    assert reopened.state is InvoiceState.ISSUED
    assert events[0].discount == eur("2.38")  # type: ignore[attr-defined]
    with pytest.raises(InvalidAmount):
        paid.reverse_payment(eur("116.62"), ON, "R-1", write_off=eur("0.01"))
