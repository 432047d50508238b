"""Invoices and credit notes: pricing, tax, totals, issue, settlement, disputes and credits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.errors import (
    CurrencyMismatch,
    DiscountNotEarned,
    EmptyInvoice,
    ExcessPrecision,
    IllegalTransition,
    InvalidAmount,
    InvalidInput,
    InvalidQuantity,
    InvoiceImmutable,
    OverAllocation,
    OverCredit,
    OverInvoicing,
    UnknownLine,
    WriteOffAboveTolerance,
)
from o2c.domain.invoicing import (
    INVOICE_LIFECYCLE,
    CreditNote,
    CreditNoteIssued,
    CreditNoteKind,
    Invoice,
    InvoiceableLine,
    InvoiceCredited,
    InvoiceDiscountGranted,
    InvoiceDisputed,
    InvoiceDisputeResolved,
    InvoiceIssued,
    InvoicePaid,
    InvoicePaymentRecorded,
    InvoiceReopened,
    InvoiceState,
    InvoiceWrittenOff,
    PriceBasis,
    SchedulesPayments,
    TaxRounding,
    WriteOffKind,
    compute_amounts,
    lines_from_order,
)
from o2c.domain.money import Money, decimals_of, money, total, unit_price, zero
from o2c.domain.orders import InvoicingPolicy, Order, OrderLine
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms

JAN5 = date(2026, 1, 5)
S19 = TaxCategory.standard("19")
S7 = TaxCategory.standard("7")
S10 = TaxCategory.standard("10")
ZERO_RATED = TaxCategory.zero_rated()
NET30: SchedulesPayments = PaymentTerms.parse("NET 30")  # the real terms satisfy the protocol
SKONTO: SchedulesPayments = PaymentTerms.parse("2/10 NET 30")


def a_line(
    quantity: str = "1",
    price: str = "100.00",
    category: TaxCategory = S19,
    currency: str = "EUR",
    *,
    line_id: str = "1",
    discount: str = "0",
) -> InvoiceableLine:
    return InvoiceableLine(
        order_id="SO-1",
        order_line_id=line_id,
        product_id=f"P-{line_id}",
        description=f"product {line_id}",
        quantity=Decimal(quantity),
        unit_price=unit_price(price, currency),
        tax_category=category,
        discount_percent=Decimal(discount),
    )


def a_draft(*lines: InvoiceableLine, **options: object) -> Invoice:
    return Invoice.draft("D-1", "C-1", lines or (a_line(),), **options)  # type: ignore[arg-type]


def issued(*lines: InvoiceableLine, terms: SchedulesPayments = NET30, **options: object) -> Invoice:
    invoice, _ = a_draft(*lines, **options).issue("INV-1", JAN5, terms)
    return invoice


def eur(amount: str) -> Money:
    return money(amount, "EUR")


# --- pricing and tax --------------------------------------------------------------------------


THIRDS = [a_line("1", "0.333", line_id=str(i)) for i in (1, 2, 3)]


@pytest.mark.parametrize(
    ("prices", "rounding", "net", "tax", "gross"),
    [
        (PriceBasis.TAX_EXCLUSIVE, TaxRounding.PER_DOCUMENT, "0.99", "0.19", "1.18"),
        (PriceBasis.TAX_EXCLUSIVE, TaxRounding.PER_LINE, "0.99", "0.18", "1.17"),
        (PriceBasis.TAX_INCLUSIVE, TaxRounding.PER_DOCUMENT, "0.83", "0.16", "0.99"),
        (PriceBasis.TAX_INCLUSIVE, TaxRounding.PER_LINE, "0.84", "0.15", "0.99"),
    ],
)
def test_three_thirds_at_19_percent_round_differently_but_reconcile(
    prices: PriceBasis, rounding: TaxRounding, net: str, tax: str, gross: str
) -> None:
    invoice = a_draft(*THIRDS, prices=prices, tax_rounding=rounding)
    assert invoice.totals.net == eur(net)
    assert invoice.totals.tax == eur(tax)
    assert invoice.totals.gross == eur(gross)
    assert [line.amount for line in invoice.lines] == [eur("0.33")] * 3
    assert total((line.net for line in invoice.lines), "EUR") == invoice.totals.net
    assert total((line.tax for line in invoice.lines), "EUR") == invoice.totals.tax
    (tax_line,) = invoice.tax_lines
    assert (tax_line.category, tax_line.rate, tax_line.base, tax_line.tax) == (
        S19,
        Decimal(19),
        eur(net),
        eur(tax),
    )


def test_the_default_is_tax_exclusive_prices_with_tax_rounded_per_document() -> None:
    invoice = a_draft(*THIRDS)
    assert (invoice.prices, invoice.tax_rounding) == (
        PriceBasis.TAX_EXCLUSIVE,
        TaxRounding.PER_DOCUMENT,
    )
    assert invoice.totals.tax == eur("0.19")


def test_line_amount_is_quantity_times_price_less_discount_rounded_half_up() -> None:
    invoice = a_draft(a_line("3", "10.00", discount="10"), a_line("1", "0.125", line_id="2"))
    assert [line.amount for line in invoice.lines] == [eur("27.00"), eur("0.13")]


def test_jpy_has_no_minor_unit() -> None:
    lines = (a_line("3", "333", S10, "JPY"),)
    exclusive = a_draft(*lines)
    assert (exclusive.totals.net, exclusive.totals.tax) == (money(999, "JPY"), money(100, "JPY"))
    inclusive = a_draft(*lines, prices=PriceBasis.TAX_INCLUSIVE)
    assert (inclusive.totals.net, inclusive.totals.tax, inclusive.totals.gross) == (
        money(908, "JPY"),
        money(91, "JPY"),
        money(999, "JPY"),
    )


def test_kwd_has_three_decimals() -> None:
    invoice = a_draft(a_line("1", "1.2345", TaxCategory.standard("5"), "KWD"))
    assert invoice.lines[0].amount == money("1.235", "KWD")
    assert invoice.totals.tax == money("0.062", "KWD")
    assert invoice.totals.gross == money("1.297", "KWD")


def test_mixed_tax_categories_get_one_tax_line_each_in_order_of_appearance() -> None:
    invoice = a_draft(
        a_line("1", "10.00", S19, line_id="1"),
        a_line("2", "5.00", S7, line_id="2"),
        a_line("1", "3.00", ZERO_RATED, line_id="3"),
        a_line("1", "10.00", S19, line_id="4"),
    )
    assert [(t.category, t.base, t.tax) for t in invoice.tax_lines] == [
        (S19, eur("20.00"), eur("3.80")),
        (S7, eur("10.00"), eur("0.70")),
        (ZERO_RATED, eur("3.00"), eur("0.00")),
    ]
    assert invoice.totals.gross == eur("37.50")


def test_refusals_when_building_a_draft() -> None:
    with pytest.raises(EmptyInvoice):
        Invoice.draft("D-1", "C-1", [])
    with pytest.raises(InvalidQuantity):
        a_line("0")
    with pytest.raises(InvalidQuantity):
        a_line("-1")
    with pytest.raises(InvalidQuantity):
        InvoiceableLine("SO", "1", "P", "x", 1.5, unit_price("1", "EUR"), S19)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        a_line(discount="100.5")
    with pytest.raises(InvalidAmount):
        a_line(price="-1")
    with pytest.raises(ExcessPrecision):
        InvoiceableLine("SO", "1", "P", "x", Decimal(1), Money(Decimal("0.0000001"), "EUR"), S19)
    with pytest.raises(CurrencyMismatch):
        a_draft(a_line(), a_line(currency="USD", line_id="2"))
    with pytest.raises(CurrencyMismatch):
        Invoice.draft("D-1", "C-1", [a_line()], "USD")


def test_a_draft_can_change_and_recomputes_its_amounts() -> None:
    draft = a_draft(a_line())
    bigger = draft.add_line(a_line("1", "50.00", S7, line_id="2"))
    assert bigger.totals.gross == eur("172.50")
    assert bigger.remove_line(2) == draft
    with pytest.raises(EmptyInvoice):
        draft.remove_line(1)
    with pytest.raises(UnknownLine):
        draft.remove_line(2)


# --- issuing ----------------------------------------------------------------------------------


def test_issue_numbers_the_invoice_schedules_it_and_reports_what_the_ledger_needs() -> None:
    draft = a_draft(a_line("1", "100.00", S19), a_line("1", "100.00", S7, line_id="2"))
    invoice, events = draft.issue("INV-7", JAN5, PaymentTerms.parse("50% NET 30; REST NET 60"))
    assert invoice.state is InvoiceState.ISSUED
    assert (invoice.number, invoice.issue_date) == ("INV-7", JAN5)
    assert invoice.open == invoice.gross == eur("226.00")
    assert invoice.open_item is not None
    assert invoice.open_item.item_id == "INV-7"
    assert invoice.due_date == date(2026, 2, 4)
    assert events == (
        InvoiceIssued(
            invoice_number="INV-7",
            customer_id="C-1",
            on=JAN5,
            currency="EUR",
            tax_lines=invoice.tax_lines,
            net=eur("200.00"),
            tax=eur("26.00"),
            gross=eur("226.00"),
            due_dates=((date(2026, 2, 4), eur("113.00")), (date(2026, 3, 6), eur("113.00"))),
            reference="RF79INV7",
        ),
    )
    assert invoice.payment_reference == "RF79INV7"  # ISO 11649, made from the number


def test_an_issued_invoice_is_immutable() -> None:
    invoice = issued()
    with pytest.raises(InvoiceImmutable):
        invoice.add_line(a_line(line_id="2"))
    with pytest.raises(InvoiceImmutable):
        invoice.remove_line(1)
    with pytest.raises(IllegalTransition):
        invoice.issue("INV-2", JAN5, NET30)


def test_issue_refusals() -> None:
    draft = a_draft(order_date=date(2026, 1, 10))
    with pytest.raises(InvalidInput):
        draft.issue("INV-1", JAN5, NET30)
    with pytest.raises(InvalidInput):
        a_draft().issue("", JAN5, NET30)
    with pytest.raises(InvalidAmount):
        a_draft(a_line(price="0")).issue("INV-1", JAN5, NET30)
    assert draft.issue("INV-1", date(2026, 1, 10), NET30).state.state is InvoiceState.ISSUED


# --- payments ---------------------------------------------------------------------------------


def test_payments_move_the_invoice_to_partially_paid_and_paid() -> None:
    invoice = issued()  # 119.00
    part, events = invoice.record_payment(eur("19.00"), date(2026, 1, 20), "R-1")
    assert part.state is InvoiceState.PARTIALLY_PAID
    assert part.open == eur("100.00")
    assert events == (
        InvoicePaymentRecorded("INV-1", date(2026, 1, 20), eur("19.00"), "R-1", eur("100.00")),
    )
    paid, events = part.record_payment(eur("100.00"), date(2026, 1, 21), "R-2")
    assert paid.state is InvoiceState.PAID
    assert paid.open == zero("EUR")
    assert events[-1] == InvoicePaid("INV-1", date(2026, 1, 21))


def test_payment_refusals_leave_the_invoice_as_it_was() -> None:
    invoice = issued()
    with pytest.raises(OverAllocation):
        invoice.record_payment(eur("119.01"), JAN5, "R-1")
    with pytest.raises(CurrencyMismatch):
        invoice.record_payment(money("1", "USD"), JAN5, "R-1")
    with pytest.raises(InvalidInput):
        invoice.record_payment(eur("1"), date(2026, 1, 4), "R-1")
    with pytest.raises(InvalidAmount):
        invoice.record_payment(eur("0"), JAN5, "R-1")
    with pytest.raises(IllegalTransition):
        a_draft().record_payment(eur("1"), JAN5, "R-1")
    paid, _ = invoice.record_payment(eur("119"), JAN5, "R-1")
    with pytest.raises(IllegalTransition):
        paid.record_payment(eur("1"), JAN5, "R-2")
    assert invoice.open == eur("119.00")
    assert invoice.state is InvoiceState.ISSUED


def test_a_reversed_payment_reopens_the_invoice() -> None:
    paid, _ = issued().record_payment(eur("119"), JAN5, "R-1")
    part, events = paid.reverse_payment(eur("19"), date(2026, 1, 9), "R-1")
    assert part.state is InvoiceState.PARTIALLY_PAID
    assert part.open == eur("19")
    assert events == (
        InvoiceReopened(
            "INV-1", date(2026, 1, 9), eur("19"), "R-1", eur("19"), eur("0"), eur("19")
        ),
    )
    unpaid, _ = part.reverse_payment(eur("100"), date(2026, 1, 9), "R-1")
    assert unpaid.state is InvoiceState.ISSUED
    assert unpaid.open == unpaid.gross
    with pytest.raises(InvalidAmount):
        part.reverse_payment(eur("100.01"), date(2026, 1, 9), "R-1")
    with pytest.raises(IllegalTransition):
        issued().reverse_payment(eur("1"), JAN5, "R-1")


def test_a_payment_of_a_credited_invoice_taken_back_reclaims_the_customer_credit() -> None:
    paid, _ = issued().record_payment(eur("119"), JAN5, "R-1")
    credited, _ = paid.apply_credit_note(CreditNote.full(paid, "CN-1", JAN5, "cancelled"))
    assert credited.customer_credit == eur("119")
    part, events = credited.reverse_payment(eur("19"), date(2026, 1, 9), "R-1")
    assert part.state is InvoiceState.CREDITED  # nothing is left to credit: nothing reopens
    assert (part.open, part.customer_credit) == (eur("0"), eur("100"))
    assert events == (
        InvoiceReopened("INV-1", date(2026, 1, 9), eur("19"), "R-1", eur("0"), eur("19"), eur("0")),
    )
    rest, _ = part.reverse_payment(eur("100"), date(2026, 1, 9), "R-1")
    assert (rest.state, rest.open, rest.customer_credit) == (
        InvoiceState.CREDITED,
        eur("0"),
        eur("0"),
    )
    with pytest.raises(InvalidAmount):
        rest.reverse_payment(eur("1"), date(2026, 1, 9), "R-1")


def test_an_early_payment_discount_is_taken_within_its_period() -> None:
    invoice = issued(terms=SKONTO)  # 119.00, 2 % within 10 days: 2.38
    discounted, events = invoice.record_discount(eur("2.38"), date(2026, 1, 15), "R-1")
    assert events == (
        InvoiceDiscountGranted("INV-1", date(2026, 1, 15), eur("2.38"), "R-1", eur("116.62")),
    )
    paid, _ = discounted.record_payment(eur("116.62"), date(2026, 1, 15), "R-1")
    assert paid.state is InvoiceState.PAID
    with pytest.raises(DiscountNotEarned):
        invoice.record_discount(eur("2.38"), date(2026, 1, 16))
    with pytest.raises(DiscountNotEarned):
        invoice.record_discount(eur("2.39"), date(2026, 1, 15))
    with pytest.raises(DiscountNotEarned):
        issued().record_discount(eur("1"), JAN5)


def test_overdue_is_derived_from_the_due_date_and_an_as_of_date() -> None:
    invoice = issued()  # due 2026-02-04
    assert not invoice.is_overdue(date(2026, 2, 4))
    assert invoice.is_overdue(date(2026, 2, 5))
    assert invoice.days_past_due(date(2026, 2, 14)) == 10
    paid, _ = invoice.record_payment(eur("119"), date(2026, 2, 10), "R-1")
    assert not paid.is_overdue(date(2026, 3, 1))
    assert paid.days_past_due(date(2026, 3, 1)) == 0
    assert not a_draft().is_overdue(date(2030, 1, 1))


# --- disputes and write-offs ------------------------------------------------------------------


def test_a_dispute_pauses_and_resolves_back_to_what_the_open_amount_says() -> None:
    invoice = issued()
    disputed, events = invoice.dispute(date(2026, 1, 10), "wrong price")
    assert disputed.state is InvoiceState.DISPUTED
    assert disputed.open_item is not None
    assert disputed.open_item.disputed
    assert events == (InvoiceDisputed("INV-1", date(2026, 1, 10), "wrong price"),)
    resolved, events = disputed.resolve_dispute(date(2026, 1, 12), "price confirmed")
    assert resolved.state is InvoiceState.ISSUED
    assert resolved.open_item is not None
    assert not resolved.open_item.disputed
    assert events == (InvoiceDisputeResolved("INV-1", date(2026, 1, 12), "price confirmed"),)

    part, _ = invoice.record_payment(eur("19"), JAN5, "R-1")
    still, _ = part.dispute(JAN5, "damaged")[0].record_payment(eur("50"), JAN5, "R-2")
    assert still.state is InvoiceState.DISPUTED
    assert still.resolve_dispute(JAN5, "ok").state.state is InvoiceState.PARTIALLY_PAID
    paid, _ = still.record_payment(eur("50"), JAN5, "R-3")
    assert paid.state is InvoiceState.PAID
    assert paid.open_item is not None
    assert not paid.open_item.disputed
    with pytest.raises(IllegalTransition):
        paid.dispute(JAN5, "late complaint")
    with pytest.raises(IllegalTransition):
        invoice.resolve_dispute(JAN5, "nothing to resolve")


def test_small_differences_close_the_invoice_as_paid() -> None:
    part, _ = issued().record_payment(eur("118.95"), JAN5, "R-1")
    paid, events = part.record_write_off(eur("0.05"), JAN5, "short payment", tolerance=eur("1.00"))
    assert paid.state is InvoiceState.PAID
    assert events[0] == InvoiceWrittenOff(
        "INV-1", JAN5, eur("0.05"), WriteOffKind.SMALL_DIFFERENCE, "short payment", eur("0.00")
    )
    with pytest.raises(WriteOffAboveTolerance):
        part.record_write_off(eur("0.05"), JAN5, "short", tolerance=eur("0.01"))
    with pytest.raises(InvalidAmount):
        part.record_write_off(eur("0.01"), JAN5, "does not close")


def test_bad_debt_written_off_in_full_ends_the_invoice() -> None:
    invoice = issued()
    part, _ = invoice.record_write_off(eur("19"), JAN5, "insolvency quota", WriteOffKind.BAD_DEBT)
    assert part.state is InvoiceState.PARTIALLY_PAID
    gone, _ = part.record_write_off(eur("100"), JAN5, "insolvent", WriteOffKind.BAD_DEBT)
    assert gone.state is InvoiceState.WRITTEN_OFF
    assert gone.open == zero("EUR")
    assert INVOICE_LIFECYCLE.final_states == (InvoiceState.WRITTEN_OFF,)
    with pytest.raises(IllegalTransition):
        gone.record_payment(eur("1"), JAN5, "R-1")


# --- credit notes -----------------------------------------------------------------------------


def test_a_full_credit_note_repeats_the_invoice_and_credits_it() -> None:
    invoice = issued(*THIRDS, a_line("2", "5.00", S7, line_id="4"))
    note = CreditNote.full(invoice, "CN-1", date(2026, 1, 7), "wrong customer")
    assert note.kind is CreditNoteKind.FULL
    assert (note.lines, note.tax_lines, note.totals) == (
        invoice.lines,
        invoice.tax_lines,
        invoice.totals,
    )
    credited, events = invoice.apply_credit_note(note)
    assert credited.state is InvoiceState.CREDITED
    assert credited.open == zero("EUR")
    assert credited.customer_credit == zero("EUR")
    issued_event, credited_event = events
    assert isinstance(issued_event, CreditNoteIssued)
    assert (issued_event.applied, issued_event.customer_credit) == (invoice.gross, zero("EUR"))
    assert credited_event == InvoiceCredited("INV-1", date(2026, 1, 7))
    with pytest.raises(IllegalTransition):
        credited.record_payment(eur("1"), JAN5, "R-1")


def test_partial_credit_notes_by_lines_and_by_amount() -> None:
    invoice = issued(a_line("4", "25.00", S19), a_line("1", "100.00", S7, line_id="2"))
    assert invoice.gross == eur("226.00")
    by_lines = CreditNote.for_lines(invoice, "CN-1", JAN5, "returned", {1: Decimal(1)})
    assert by_lines.totals.gross == eur("29.75")
    invoice, _ = invoice.apply_credit_note(by_lines)
    assert invoice.state is InvoiceState.ISSUED
    assert invoice.open == eur("196.25")
    assert invoice.creditable == eur("196.25")
    by_amount = CreditNote.for_amount(invoice, "CN-2", JAN5, "goodwill", eur("10.00"))
    assert by_amount.totals.gross == eur("10.00")
    assert [t.category for t in by_amount.tax_lines] == [S19, S7]
    invoice, _ = invoice.apply_credit_note(by_amount)
    assert invoice.open == eur("186.25")
    rest = CreditNote.for_lines(invoice, "CN-3", JAN5, "all back", {1: Decimal(3), 2: Decimal(1)})
    assert rest.kind is CreditNoteKind.FULL
    assert rest.totals.gross == eur("186.25")
    credited, _ = invoice.apply_credit_note(rest)
    assert credited.state is InvoiceState.CREDITED
    assert total((t.tax for t in credited.credited_tax_lines), "EUR") == invoice.totals.tax


def test_over_credit_is_refused() -> None:
    invoice = issued(a_line("2", "50.00"))
    with pytest.raises(OverCredit):
        CreditNote.for_lines(invoice, "CN-1", JAN5, "too many", {1: Decimal(3)})
    with pytest.raises(OverCredit):
        CreditNote.for_amount(invoice, "CN-1", JAN5, "too much", eur("119.01"))
    with pytest.raises(UnknownLine):
        CreditNote.for_lines(invoice, "CN-1", JAN5, "no such line", {2: Decimal(1)})
    first = CreditNote.for_lines(invoice, "CN-1", JAN5, "one back", {1: Decimal(1)})
    second = CreditNote.for_amount(invoice, "CN-2", JAN5, "goodwill", eur("60.00"))
    after_first, _ = invoice.apply_credit_note(first)
    with pytest.raises(OverCredit):  # both were fine alone; together they credit too much
        after_first.apply_credit_note(second)
    with pytest.raises(InvalidInput):
        after_first.apply_credit_note(first)
    with pytest.raises(IllegalTransition):
        CreditNote.full(a_draft(), "CN-1", JAN5, "not issued")
    with pytest.raises(InvalidInput):
        CreditNote.full(invoice, "CN-1", date(2026, 1, 4), "before the invoice")


def test_a_credit_note_on_a_paid_invoice_becomes_customer_credit() -> None:
    paid, _ = issued().record_payment(eur("119.00"), JAN5, "R-1")
    note = CreditNote.for_amount(paid, "CN-1", JAN5, "goodwill", eur("19.00"))
    still_paid, events = paid.apply_credit_note(note)
    assert still_paid.state is InvoiceState.PAID
    event = events[0]
    assert isinstance(event, CreditNoteIssued)
    assert (event.applied, event.customer_credit) == (zero("EUR"), eur("19.00"))
    assert still_paid.customer_credit == eur("19.00")
    # The receipt bounces: the invoice cannot be open for more than is left to credit (100.00);
    # the customer credit the credit note handed out covers the rest of the reversal.
    reopened, events = still_paid.reverse_payment(eur("119.00"), JAN5, "R-1")
    assert reopened.state is InvoiceState.ISSUED
    assert reopened.open == reopened.creditable == eur("100.00")
    assert reopened.customer_credit == zero("EUR")
    event = events[0]
    assert isinstance(event, InvoiceReopened)
    assert (event.reopened, event.customer_credit_reclaimed) == (eur("100.00"), eur("19.00"))


def test_a_partial_credit_note_can_close_a_partially_paid_invoice() -> None:
    part, _ = issued().record_payment(eur("100.00"), JAN5, "R-1")
    note = CreditNote.for_amount(part, "CN-1", JAN5, "discount agreed", eur("19.00"))
    paid, events = part.apply_credit_note(note)
    assert paid.state is InvoiceState.PAID
    assert events[-1] == InvoicePaid("INV-1", JAN5)


def test_a_revised_invoice_replaces_a_fully_credited_one() -> None:
    invoice = issued(a_line("2", "50.00"))
    with pytest.raises(InvalidInput):
        Invoice.revise(invoice, "D-2")
    credited, _ = invoice.apply_credit_note(CreditNote.full(invoice, "CN-1", JAN5, "wrong qty"))
    revised = Invoice.revise(credited, "D-2", [a_line("1", "50.00")])
    assert revised.state is InvoiceState.DRAFT
    assert revised.replaces == "INV-1"
    assert revised.customer_id == "C-1"
    again, events = revised.issue("INV-2", JAN5, NET30)
    assert again.gross == eur("59.50")
    event = events[0]
    assert isinstance(event, InvoiceIssued)
    assert event.replaces == "INV-1"
    assert Invoice.revise(credited, "D-3").lines == invoice.lines


# --- invoicing an order ----------------------------------------------------------------------


def an_order_line(line_id: str, quantity: int, price: str, **terms: object) -> OrderLine:
    return OrderLine(
        line_id,
        f"P-{line_id}",
        f"product {line_id}",
        quantity=quantity,
        unit_price=unit_price(price, "EUR"),
        tax=S19,
        **terms,  # type: ignore[arg-type]
    )


def an_approved_order(
    policy: InvoicingPolicy = InvoicingPolicy.ON_SHIPMENT, order_id: str = "SO-1"
) -> Order:
    lines = [
        an_order_line("1", 10, "10.00", discount_percent="10", unit_discount=eur("0.50")),
        an_order_line("2", 5, "4.00"),
    ]
    order = Order.create(order_id, "C-1", lines, on=JAN5, invoicing_policy=policy).state
    return order.place(on=JAN5).state.approve(on=JAN5).state


def test_a_fixed_unit_discount_comes_off_each_unit_after_the_percentage() -> None:
    line = InvoiceableLine(
        order_id="SO-1",
        order_line_id="1",
        product_id="P-1",
        description="x",
        quantity=Decimal(3),
        unit_price=unit_price("10.00", "EUR"),
        tax_category=S19,
        discount_percent=Decimal(10),
        unit_discount=unit_price("0.505", "EUR"),
    )
    assert line.net_unit_price == Decimal("8.495")
    assert line.amount() == eur("25.49")  # 25.485 rounded HALF_UP
    assert a_draft(line).totals.net == eur("25.49")


def test_a_unit_discount_is_checked_like_on_the_order_line() -> None:
    with pytest.raises(InvalidInput, match="exceeds"):
        InvoiceableLine("SO", "1", "P", "x", Decimal(1), eur("1.00"), S19, Decimal(50), eur("0.51"))
    with pytest.raises(CurrencyMismatch):
        InvoiceableLine(
            "SO", "1", "P", "x", Decimal(1), eur("1.00"), S19, Decimal(0), money(1, "USD")
        )
    with pytest.raises(InvalidInput, match="negative"):
        InvoiceableLine("SO", "1", "P", "x", Decimal(1), eur("1.00"), S19, Decimal(0), eur("-0.01"))


def test_lines_from_order_takes_what_the_policy_allows_and_skips_the_rest() -> None:
    order = an_approved_order()
    assert lines_from_order(order) == ()
    with pytest.raises(EmptyInvoice):
        Invoice.from_order(order, "D-1")
    order = order.fulfil({"1": 4}, on=JAN5).state
    (item,) = lines_from_order(order)
    assert (item.order_id, item.order_line_id, item.quantity) == ("SO-1", "1", Decimal(4))
    assert (item.discount_percent, item.unit_discount) == (Decimal(10), eur("0.50"))
    assert item.amount() == order.line("1").amount_for(Decimal(4)) == eur("34.00")
    (part,) = lines_from_order(order, quantities={"1": "1.5"})
    assert part.quantity == Decimal("1.5")
    with pytest.raises(OverInvoicing):
        lines_from_order(order, quantities={"1": 5})
    with pytest.raises(OverInvoicing):
        lines_from_order(order, quantities={"2": 1})
    with pytest.raises(InvalidInput):
        lines_from_order(order, InvoicingPolicy.ON_ORDER)  # looser than the order's policy
    assert lines_from_order(order, InvoicingPolicy.ON_DELIVERY) == ()


def test_invoice_from_order_and_back_to_the_order() -> None:
    order = an_approved_order(InvoicingPolicy.ON_ORDER)
    draft = Invoice.from_order(order, "D-1", tax_rounding=TaxRounding.PER_LINE)
    assert (draft.customer_id, draft.currency, draft.order_date) == ("C-1", "EUR", JAN5)
    assert (draft.prices, draft.tax_rounding) == (PriceBasis.TAX_EXCLUSIVE, TaxRounding.PER_LINE)
    assert draft.totals.net == order.net_total == eur("105.00")
    billed = draft.quantities_by_order_line()
    assert billed == {"1": Decimal(10), "2": Decimal(5)}
    order = order.record_invoice(billed, invoice_id="INV-1", on=JAN5).state
    assert lines_from_order(order) == ()


def test_quantities_by_order_line_sums_per_line_and_needs_an_order_for_several() -> None:
    first = lines_from_order(an_approved_order(InvoicingPolicy.ON_ORDER))
    second = lines_from_order(an_approved_order(InvoicingPolicy.ON_ORDER, order_id="SO-2"))
    split = (*first, first[0])  # the same order line billed on two invoice lines
    assert a_draft(*split).quantities_by_order_line() == {"1": Decimal(20), "2": Decimal(5)}
    both = a_draft(*first, *second[:1])
    with pytest.raises(InvalidInput, match="several orders"):
        both.quantities_by_order_line()
    assert both.quantities_by_order_line("SO-2") == {"1": Decimal(10)}
    assert both.quantities_by_order_line("SO-9") == {}


@given(
    quantity=st.integers(1, 10**6).map(lambda n: Decimal(n).scaleb(-3)),
    price=st.integers(0, 10**8).map(lambda n: Decimal(n).scaleb(-4)),
    percent=st.integers(0, 10_000).map(lambda n: Decimal(n).scaleb(-2)),
    discount_share=st.integers(0, 100),
)
def test_an_invoice_line_is_priced_exactly_like_its_order_line(
    quantity: Decimal, price: Decimal, percent: Decimal, discount_share: int
) -> None:
    after_percent = price * (100 - percent) / 100
    fixed = (after_percent * discount_share / 100).quantize(Decimal("0.0001"), "ROUND_DOWN")
    line = an_order_line(
        "1", 1, str(price), discount_percent=percent, unit_discount=unit_price(fixed, "EUR")
    )
    item = InvoiceableLine.from_order_line("SO-1", line, quantity)
    assert item.net_unit_price == line.net_unit_price == after_percent - fixed
    assert item.amount() == line.amount_for(quantity)


# --- properties -------------------------------------------------------------------------------

CURRENCIES = ("EUR", "JPY", "KWD", "USD")
CATEGORIES = (S19, S7, S10, ZERO_RATED, TaxCategory.standard("21"), TaxCategory.standard("5.5"))


@st.composite
def line_sets(draw: st.DrawFn) -> tuple[str, list[InvoiceableLine]]:
    currency = draw(st.sampled_from(CURRENCIES))
    places = decimals_of(currency) + draw(st.integers(0, 3))
    count = draw(st.integers(1, 6))
    lines = [
        InvoiceableLine(
            order_id="SO-1",
            order_line_id=str(i),
            product_id=f"P-{i}",
            description="thing",
            quantity=draw(st.decimals(min_value="0.001", max_value=1000, places=3)),
            unit_price=unit_price(
                draw(st.decimals(min_value=0, max_value=100_000, places=places)), currency
            ),
            tax_category=draw(st.sampled_from(CATEGORIES)),
            discount_percent=draw(st.decimals(min_value=0, max_value=100, places=2)),
        )
        for i in range(count)
    ]
    return currency, lines


@given(line_sets(), st.sampled_from(PriceBasis), st.sampled_from(TaxRounding))
def test_totals_always_reconcile_exactly(
    drawn: tuple[str, list[InvoiceableLine]], prices: PriceBasis, rounding: TaxRounding
) -> None:
    currency, lines = drawn
    amounts = compute_amounts(lines, currency, prices, rounding)
    totals = amounts.totals
    assert totals.gross == totals.net + totals.tax
    assert total((line.net for line in amounts.lines), currency) == totals.net
    assert total((line.tax for line in amounts.lines), currency) == totals.tax
    assert total((t.tax for t in amounts.tax_lines), currency) == totals.tax
    line_total = total((line.amount for line in amounts.lines), currency)
    assert line_total == (totals.gross if prices is PriceBasis.TAX_INCLUSIVE else totals.net)
    for line in amounts.lines:
        assert line.net.amount >= 0
        assert line.tax.amount >= 0
        assert line.amount.amount == line.amount.amount.quantize(
            Decimal(1).scaleb(-decimals_of(currency))
        )
    for tax_line in amounts.tax_lines:
        exact = tax_line.base.amount * tax_line.rate / 100
        # however it was rounded, the tax of a category is within a cent per line of its rate
        members = sum(1 for line in amounts.lines if line.tax_category == tax_line.category)
        unit = Decimal(1).scaleb(-decimals_of(currency))
        assert abs(tax_line.tax.amount - exact) <= unit * members * (1 + tax_line.rate / 100)


credit_requests = st.lists(
    st.one_of(
        st.tuples(st.just("lines"), st.integers(1, 3), st.integers(1, 3)),
        st.tuples(st.just("amount"), st.integers(1, 100), st.just(0)),
        st.tuples(st.just("full"), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=6,
)


@given(
    st.sampled_from(PriceBasis),
    st.sampled_from(TaxRounding),
    credit_requests,
    st.booleans(),
)
def test_credit_notes_never_exceed_the_invoice(
    prices: PriceBasis,
    rounding: TaxRounding,
    requests: list[tuple[str, int, int]],
    paid_first: bool,
) -> None:
    invoice = issued(
        a_line("3", "0.333", S19, line_id="1"),
        a_line("3", "1.115", S7, line_id="2"),
        a_line("3", "9.99", ZERO_RATED, line_id="3"),
        prices=prices,
        tax_rounding=rounding,
    )
    if paid_first:
        invoice, _ = invoice.record_payment(invoice.gross, JAN5, "R-1")
    for number, (kind, first, second) in enumerate(requests, start=1):
        try:
            if kind == "lines":
                note = CreditNote.for_lines(
                    invoice, f"CN-{number}", JAN5, "r", {first: Decimal(second)}
                )
            elif kind == "amount":
                share = (invoice.creditable.amount * first / 100).quantize(Decimal("0.01"))
                note = CreditNote.for_amount(
                    invoice, f"CN-{number}", JAN5, "r", money(share, "EUR")
                )
            else:
                note = CreditNote.full(invoice, f"CN-{number}", JAN5, "r")
            invoice, _ = invoice.apply_credit_note(note)
        except (OverCredit, InvalidAmount, IllegalTransition):
            continue
        assert zero("EUR") <= invoice.credited <= invoice.gross
        assert zero("EUR") <= invoice.open <= invoice.creditable
        for credited_line in invoice.credited_tax_lines:
            invoiced = invoice.amounts.tax_line(credited_line.category)
            assert invoiced is not None
            assert credited_line.base <= invoiced.base
            assert credited_line.tax <= invoiced.tax
        for line, done in zip(invoice.lines, invoice.credited_quantities, strict=True):
            assert 0 <= done <= line.quantity
        if invoice.credited == invoice.gross:
            assert invoice.state is InvoiceState.CREDITED
            assert total((t.base for t in invoice.credited_tax_lines), "EUR") == invoice.totals.net
            assert total((t.tax for t in invoice.credited_tax_lines), "EUR") == invoice.totals.tax


@given(
    st.lists(st.integers(1, 5_000), min_size=1, max_size=3),
    st.lists(st.integers(1, 99), min_size=1, max_size=6),
)
def test_credits_by_amount_never_exceed_the_invoice_in_base_or_tax(
    cents: list[int], percents: list[int]
) -> None:
    # Regression: a share of 0.24 at 7 % extracted 0.02 of tax where only 0.01 was left to
    # credit, and a goodwill credit was refused as an over-credit.
    categories = (S7, S19, S10)
    lines = [
        a_line("1", f"{c / 100:.2f}", categories[i % 3], line_id=str(i + 1))
        for i, c in enumerate(cents)
    ]
    invoice = issued(*lines)
    for n, percent in enumerate(percents, start=1):
        creditable_minor = int(invoice.creditable.amount * 100)
        asked = creditable_minor * percent // 100
        if asked <= 0:
            break
        note = CreditNote.for_amount(
            invoice, f"CN-{n}", JAN5, "goodwill", money(Decimal(asked) / 100, "EUR")
        )
        invoice, _ = invoice.apply_credit_note(note)
    if invoice.creditable.amount > 0:
        rest = CreditNote.full(invoice, "CN-LAST", JAN5, "the rest")
        invoice, _ = invoice.apply_credit_note(rest)
    assert invoice.state is InvoiceState.CREDITED
    for tax_line in invoice.tax_lines:
        credited = next(t for t in invoice.credited_tax_lines if t.category == tax_line.category)
        assert (credited.base, credited.tax) == (tax_line.base, tax_line.tax)
