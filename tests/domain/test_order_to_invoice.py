"""From an order to its invoices and credit notes, through the real operations of both modules.

The protocol under test: build the draft from the order (``Invoice.from_order``), record its
quantities on the order (``order.record_invoice(draft.quantities_by_order_line(), ...)``), which
checks them against the order's invoicing policy once more, then issue the draft.

About totals: every invoice line is rounded HALF_UP on its own, as is the order line for its whole
quantity. When a line is billed in ``k`` parts, the parts' rounding errors (each in (-1/2, 1/2] of
a minor unit) and the whole's add up to less than ``(k + 1) / 2`` minor units, so the invoices'
nets differ from the order's net by at most ``k // 2`` minor units per line; they agree exactly
when each part's ``quantity x net unit price`` is a whole number of minor units.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.errors import OverDelivery, OverInvoicing
from o2c.domain.invoicing import (
    CreditNote,
    Invoice,
    InvoiceState,
    SchedulesPayments,
    lines_from_order,
)
from o2c.domain.money import Money, money, total, unit_price
from o2c.domain.orders import (
    GoodsReturned,
    InvoicingPolicy,
    Order,
    OrderLine,
    OrderStatus,
    Progress,
)
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms

DAY = date(2026, 4, 1)
VAT = TaxCategory.standard("19")
REDUCED = TaxCategory.standard("7")
TERMS: SchedulesPayments = PaymentTerms.parse("2/10 NET 30")


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def a_line(line_id: str, quantity: str | int, price: str, **terms: object) -> OrderLine:
    return OrderLine(
        line_id,
        f"P-{line_id}",
        f"product {line_id}",
        quantity=quantity,
        unit_price=unit_price(price, "EUR"),
        tax=terms.pop("tax", VAT),  # type: ignore[arg-type]
        **terms,  # type: ignore[arg-type]
    )


def an_approved_order(
    *lines: OrderLine, policy: InvoicingPolicy = InvoicingPolicy.ON_SHIPMENT
) -> Order:
    order = Order.create("SO-1", "C-1", lines, on=DAY, invoicing_policy=policy).state
    return order.place(on=DAY).state.approve(on=DAY).state


def invoice_what_is_due(
    order: Order, number: str, on: date, **options: object
) -> tuple[Order, Invoice]:
    """Draft from the order, record the draft's quantities on the order, then issue."""
    draft = Invoice.from_order(order, f"draft-{number}", **options)  # type: ignore[arg-type]
    order = order.record_invoice(draft.quantities_by_order_line(), invoice_id=number, on=on).state
    invoice = draft.issue(number, on, TERMS).state
    return order, invoice


def net_of(invoices: list[Invoice]) -> Money:
    return total((invoice.totals.net for invoice in invoices), "EUR")


# --- the cycle on shipment --------------------------------------------------------------------


def test_two_shipments_two_invoices_that_add_up_to_the_order() -> None:
    # 19.99 less 10 % is 17.991, less 0.491 a unit: 17.50 exactly, so every part is whole cents
    order = an_approved_order(
        a_line("1", 10, "19.99", discount_percent="10", unit_discount=unit_price("0.491", "EUR")),
        a_line("2", 3, "4.20", tax=REDUCED),
    )
    assert order.net_total == eur("187.60")

    order = order.fulfil({"1": 4, "2": 1}, on=DAY, shipment_id="SH-1").state
    assert [(i.order_line_id, i.quantity) for i in lines_from_order(order)] == [
        ("1", Decimal(4)),
        ("2", Decimal(1)),
    ]
    order, first = invoice_what_is_due(order, "INV-1", DAY)
    assert first.totals.net == eur("74.20")  # 4 x 17.50 + 4.20
    assert order.status is OrderStatus.PARTIALLY_FULFILLED
    assert order.invoicing_status is Progress.PARTIAL
    assert lines_from_order(order) == ()  # everything shipped is billed

    later = DAY + timedelta(days=3)
    order = order.fulfil({"1": 6, "2": 2}, on=later, shipment_id="SH-2").state
    assert order.status is OrderStatus.PARTIALLY_INVOICED
    order, second = invoice_what_is_due(order, "INV-2", later)
    assert order.status is OrderStatus.INVOICED
    assert order.invoicing_status is Progress.FULL
    assert order.complete(on=later).state.status is OrderStatus.COMPLETED

    assert net_of([first, second]) == order.net_total
    for invoice, issued_on in ((first, DAY), (second, later)):
        assert invoice.state is InvoiceState.ISSUED
        assert invoice.due_date == issued_on + timedelta(days=30)
        assert invoice.gross == invoice.totals.net + invoice.totals.tax
        assert invoice.open_item is not None
        offer = invoice.open_item.discount_on(issued_on + timedelta(days=10))
        assert offer is not None
        assert (offer.deadline, offer.percent) == (issued_on + timedelta(days=10), Decimal(2))
        assert invoice.open_item.discount_on(issued_on + timedelta(days=11)) is None


def test_partial_invoices_may_differ_from_the_order_by_rounding_within_the_bound() -> None:
    # half a cent a unit: one unit rounds up to 0.01, two units are exactly 0.01
    order = an_approved_order(a_line("1", 2, "0.005"), a_line("2", 1, "1.00"))
    assert order.net_total == eur("1.01")
    order = order.fulfil({"1": 1, "2": 1}, on=DAY).state
    order, first = invoice_what_is_due(order, "INV-1", DAY)
    order = order.fulfil({"1": 1}, on=DAY).state
    order, second = invoice_what_is_due(order, "INV-2", DAY)
    assert net_of([first, second]) == eur("1.02")  # 0.01 + 1.00, then 0.01
    difference = net_of([first, second]) - order.net_total
    assert difference == eur("0.01")  # line "1" in k = 2 parts: at most 2 // 2 minor units


def test_a_draft_for_more_than_the_order_allows_is_refused_when_recorded() -> None:
    order = an_approved_order(a_line("1", 5, "10.00")).fulfil({"1": 2}, on=DAY).state
    first = Invoice.from_order(order, "draft-1")
    second = Invoice.from_order(order, "draft-2")  # a second draft of the same shipment
    order = order.record_invoice(first.quantities_by_order_line(), invoice_id="INV-1", on=DAY).state
    with pytest.raises(OverInvoicing):
        order.record_invoice(second.quantities_by_order_line(), invoice_id="INV-2", on=DAY)


# --- on delivery, on order --------------------------------------------------------------------


def test_invoicing_on_delivery_is_bounded_by_what_was_delivered() -> None:
    order = an_approved_order(
        a_line("1", 6, "12.50"), a_line("2", 2, "3.00"), policy=InvoicingPolicy.ON_DELIVERY
    )
    order = order.fulfil({"1": 6, "2": 2}, on=DAY, shipment_id="SH-1").state
    assert lines_from_order(order) == ()  # shipped, not yet received
    order = order.record_delivery({"1": 4}, on=DAY, shipment_id="SH-1").state
    with pytest.raises(OverInvoicing):
        lines_from_order(order, quantities={"1": 5})
    order, first = invoice_what_is_due(order, "INV-1", DAY)
    assert first.quantities_by_order_line() == {"1": Decimal(4)}
    assert order.status is OrderStatus.PARTIALLY_INVOICED
    with pytest.raises(OverDelivery):
        order.record_delivery({"1": 3}, on=DAY)
    order = order.record_delivery({"1": 2, "2": 2}, on=DAY).state
    assert order.delivery_status is Progress.FULL
    order, second = invoice_what_is_due(order, "INV-2", DAY)
    assert order.status is OrderStatus.INVOICED
    assert net_of([first, second]) == order.net_total == eur("81.00")


def test_a_prepayment_invoice_comes_before_anything_ships() -> None:
    order = an_approved_order(
        a_line("1", 3, "33.33"), a_line("2", 1, "9.99"), policy=InvoicingPolicy.ON_ORDER
    )
    order, prepayment = invoice_what_is_due(order, "INV-1", DAY)
    assert prepayment.totals.net == order.net_total == eur("109.98")
    assert order.status is OrderStatus.APPROVED  # invoicing in advance leaves shipping alone
    assert order.shipping_status is Progress.NONE
    assert order.invoicing_status is Progress.FULL
    order = order.fulfil({"1": 3, "2": 1}, on=DAY).state
    assert order.status is OrderStatus.INVOICED  # shipped and already billed


# --- returns ----------------------------------------------------------------------------------


def test_a_return_leads_to_a_partial_credit_note_for_the_returned_quantity() -> None:
    order = an_approved_order(
        a_line("1", 4, "25.00", discount_percent="5", unit_discount=unit_price("0.125", "EUR")),
        a_line("2", 2, "8.00", tax=REDUCED),
    )
    order = order.fulfil({"1": 4, "2": 2}, on=DAY).state
    order, invoice = invoice_what_is_due(order, "INV-1", DAY)
    invoice = invoice.record_payment(invoice.gross, DAY, "R-1").state

    order, events = order.record_return({"1": 3}, on=DAY, return_id="RMA-1")
    (returned,) = events
    assert isinstance(returned, GoodsReturned)
    numbers = {line.item.order_line_id: n for n, line in enumerate(invoice.lines, start=1)}
    note = CreditNote.for_lines(
        invoice,
        "CN-1",
        DAY,
        "returned",
        {numbers[q.line_id]: q.quantity for q in returned.quantities},
    )
    # the credit note and the return value the goods by the same pricing rule
    assert note.totals.net == returned.net_amount == eur("70.88")  # 3 x 23.625
    assert note.credited_quantities == (Decimal(3), Decimal(0))
    invoice, _ = invoice.apply_credit_note(note)
    assert invoice.creditable == invoice.gross - note.gross
    assert invoice.customer_credit == note.gross  # the invoice was already paid
    assert order.line("1").invoiced == 4  # a return never un-invoices: the credit note does


# --- properties -------------------------------------------------------------------------------

UNIT_PRICES = st.integers(10_000, 5_000_000).map(lambda n: Decimal(n).scaleb(-4))
ORDERED = st.integers(1, 400).map(lambda n: Decimal(n).scaleb(-1))


@st.composite
def order_lines(draw: st.DrawFn) -> tuple[OrderLine, ...]:
    count = draw(st.integers(1, 3))
    lines = []
    for i in range(count):
        price = draw(UNIT_PRICES)
        percent = draw(st.integers(0, 50))
        after_percent = price * (100 - percent) / 100
        fixed = (after_percent * draw(st.integers(0, 30)) / 100).quantize(Decimal("0.0001"))
        lines.append(
            a_line(
                str(i),
                str(draw(ORDERED)),
                str(price),
                discount_percent=percent,
                unit_discount=unit_price(min(fixed, after_percent), "EUR"),
                tax=draw(st.sampled_from([VAT, REDUCED])),
            )
        )
    return tuple(lines)


@given(
    order_lines(),
    st.sampled_from(InvoicingPolicy),
    st.lists(st.lists(st.integers(0, 100), min_size=3, max_size=3), max_size=4),
    st.lists(st.integers(0, 100), min_size=3, max_size=3),
)
def test_invoicing_partial_shipments_stays_within_the_policy_and_ends_in_full(
    lines: tuple[OrderLine, ...],
    policy: InvoicingPolicy,
    shipments: list[list[int]],
    delivered_share: list[int],
) -> None:
    order = an_approved_order(*lines, policy=policy)
    invoices: list[Invoice] = []
    parts = dict.fromkeys((line.line_id for line in lines), 0)

    def bill() -> None:
        nonlocal order
        if not lines_from_order(order):
            return
        order, invoice = invoice_what_is_due(order, f"INV-{len(invoices) + 1}", DAY)
        invoices.append(invoice)
        for line_id in invoice.quantities_by_order_line():
            parts[line_id] += 1
        for line in order.lines:
            ceiling = {
                InvoicingPolicy.ON_ORDER: line.effective_quantity,
                InvoicingPolicy.ON_SHIPMENT: line.fulfilled,
                InvoicingPolicy.ON_DELIVERY: line.delivered,
            }[policy]
            assert line.invoiced <= ceiling
            assert line.invoiceable_quantity(policy) == ceiling - line.invoiced

    bill()
    for shares in shipments:
        shipped = {
            line.line_id: (line.open_quantity * share / 100).quantize(Decimal("0.1"), "ROUND_DOWN")
            for line, share in zip(order.lines, shares, strict=False)
        }
        shipped = {line_id: q for line_id, q in shipped.items() if q > 0}
        if shipped:
            order = order.fulfil(shipped, on=DAY).state
            arrived = {
                line.line_id: (line.deliverable_quantity * share / 100).quantize(
                    Decimal("0.1"), "ROUND_DOWN"
                )
                for line, share in zip(order.lines, delivered_share, strict=False)
            }
            arrived = {line_id: q for line_id, q in arrived.items() if q > 0}
            if arrived:
                order = order.record_delivery(arrived, on=DAY).state
        bill()
    rest = {line.line_id: line.open_quantity for line in order.lines if line.open_quantity}
    if rest:
        order = order.fulfil(rest, on=DAY).state
    in_transit = {
        li.line_id: li.deliverable_quantity for li in order.lines if li.deliverable_quantity
    }
    if in_transit:
        order = order.record_delivery(in_transit, on=DAY).state
    bill()

    assert order.invoicing_status is Progress.FULL
    assert order.status is OrderStatus.INVOICED
    assert lines_from_order(order) == ()
    for line in order.lines:
        billed = total(
            (
                invoice_line.amount
                for invoice in invoices
                for invoice_line in invoice.lines
                if invoice_line.item.order_line_id == line.line_id
            ),
            "EUR",
        )
        bound = eur("0.01") * (parts[line.line_id] // 2)
        assert abs(billed - line.net_amount) <= bound
    allowed = eur("0.01") * sum(k // 2 for k in parts.values())
    assert abs(net_of(invoices) - order.net_total) <= allowed
