"""Sales orders: lines and amounts, totals, lifecycle, shipping, invoicing, returns, amendments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.errors import (
    AmendmentNotAllowed,
    CurrencyMismatch,
    DomainError,
    DuplicateLine,
    EmptyOrder,
    ExcessPrecision,
    IllegalTransition,
    InvalidInput,
    InvalidQuantity,
    OverBackOrder,
    OverCancellation,
    OverDelivery,
    OverFulfilment,
    OverInvoicing,
    OverReturn,
    UnknownLine,
)
from o2c.domain.events import Changed
from o2c.domain.money import Money, Rounding, money, percent_of, total, unit_price
from o2c.domain.orders import (
    ORDER_LIFECYCLE,
    GoodsReturned,
    InvoicingPolicy,
    LineBackOrdered,
    LineCancelled,
    LineDelivered,
    LineFulfilled,
    LineQuantity,
    Order,
    OrderAmended,
    OrderApproved,
    OrderCancelled,
    OrderCompleted,
    OrderCreated,
    OrderDelivered,
    OrderFulfilled,
    OrderInvoiced,
    OrderLine,
    OrderPlaced,
    OrderPutOnCreditHold,
    OrderSentToCreditReview,
    OrderStatus,
    Progress,
    estimate_totals,
    to_quantity,
)
from o2c.domain.tax import TaxCategory

DAY = date(2026, 3, 2)
VAT = TaxCategory.standard("19")
REDUCED = TaxCategory.standard("7")
ZERO_RATED = TaxCategory.zero_rated()


def a_line(
    line_id: str = "1",
    quantity: str | int = 10,
    price: str = "10.00",
    currency: str = "EUR",
    tax: TaxCategory = VAT,
    **terms: object,
) -> OrderLine:
    return OrderLine(
        line_id,
        f"P-{line_id}",
        f"product {line_id}",
        quantity=quantity,
        unit_price=unit_price(price, currency),
        tax=tax,
        **terms,  # type: ignore[arg-type]
    )


def an_order(
    *lines: OrderLine, policy: InvoicingPolicy = InvoicingPolicy.ON_SHIPMENT, status: str = "draft"
) -> Order:
    """An order moved to ``status`` (draft, placed or approved) through the real operations."""
    order, _ = Order.create(
        "SO-1", "C-1", lines or (a_line("1"), a_line("2", 5)), on=DAY, invoicing_policy=policy
    )
    if status in ("placed", "approved"):
        order = order.place(on=DAY).state
    if status == "approved":
        order = order.approve(on=DAY).state
    return order


def refused(operation: Callable[[], Changed[Order]], error: type[DomainError]) -> DomainError:
    with pytest.raises(error) as caught:
        operation()
    return caught.value


# --- quantities and lines -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", 0, "-1", Decimal("-0.5"), "NaN", "Infinity", "x", "1e13"])
def test_quantity_must_be_positive_finite_and_bounded(value: str | int | Decimal) -> None:
    with pytest.raises(InvalidQuantity):
        to_quantity(value)


def test_quantity_refuses_floats_and_excess_decimals() -> None:
    with pytest.raises(InvalidQuantity, match="float"):
        to_quantity(1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidQuantity, match="decimals"):
        to_quantity("0.0000001")
    assert to_quantity("2.5") == Decimal("2.5")
    assert to_quantity(3) == Decimal(3)


def test_a_line_refuses_a_zero_quantity_with_a_typed_error() -> None:
    with pytest.raises(InvalidQuantity) as caught:
        a_line(quantity=0)
    assert caught.value.field == "quantity"
    assert isinstance(caught.value, InvalidInput)


def test_line_net_amount_rounds_half_up_to_the_currency() -> None:
    assert a_line(quantity=3, price="0.335").net_amount == money("1.01", "EUR")  # 1.005
    assert a_line(quantity=1, price="0.3349").net_amount == money("0.33", "EUR")
    assert a_line(quantity=3, price="5", currency="JPY").net_amount == money("15", "JPY")


def test_percent_discount_then_unit_discount_per_unit() -> None:
    line = a_line(
        quantity=4, price="10.00", discount_percent="10", unit_discount=unit_price("0.50", "EUR")
    )
    assert line.net_unit_price == Decimal("8.50")  # 10.00 * 0.9 - 0.50
    assert line.net_amount == money("34.00", "EUR")
    assert line.list_amount == money("40.00", "EUR")
    assert line.discount_amount == money("6.00", "EUR")
    assert line.amount_for(Decimal(1)) == money("8.50", "EUR")


@pytest.mark.parametrize("percent", ["-1", "100.01", "abc", "12.00000000001"])
def test_discount_percent_must_be_between_0_and_100(percent: str) -> None:
    with pytest.raises(InvalidInput):
        a_line(discount_percent=percent)


def test_a_full_discount_is_a_free_line() -> None:
    assert a_line(discount_percent="100").net_amount == money("0.00", "EUR")


def test_unit_discount_is_checked() -> None:
    with pytest.raises(InvalidInput, match="exceeds"):
        a_line(price="1.00", unit_discount=unit_price("1.01", "EUR"))
    with pytest.raises(CurrencyMismatch):
        a_line(unit_discount=unit_price("1", "USD"))
    with pytest.raises(InvalidInput, match="negative"):
        a_line(unit_discount=unit_price("-1", "EUR"))


def test_unit_price_must_not_be_negative_nor_too_precise() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        a_line(price="-1.00")
    with pytest.raises(ExcessPrecision):
        OrderLine("1", "P", "", quantity=1, unit_price=Money("0.0000001", "EUR"), tax=VAT)


def test_a_line_needs_ids_and_consistent_progress() -> None:
    with pytest.raises(InvalidInput):
        a_line(line_id="")
    with pytest.raises(InvalidQuantity, match="fulfilled exceeds"):
        attrs.evolve(a_line(quantity=2), fulfilled=Decimal(3))
    with pytest.raises(InvalidQuantity, match="returned exceeds"):
        attrs.evolve(a_line(quantity=2), returned=Decimal(1))


# --- creating an order and totals -----------------------------------------------------------


def test_create_gives_a_draft_and_an_event() -> None:
    order, events = Order.create("SO-1", "C-1", [a_line()], on=DAY)
    assert order.status is OrderStatus.DRAFT
    assert order.revision == 1
    assert events == (OrderCreated("SO-1", "C-1", DAY),)


def test_create_refuses_empty_orders() -> None:
    with pytest.raises(EmptyOrder):
        Order.create("SO-1", "C-1", [], on=DAY)


def test_create_refuses_duplicate_line_ids() -> None:
    with pytest.raises(DuplicateLine) as caught:
        Order.create("SO-1", "C-1", [a_line("1"), a_line("1")], on=DAY)
    assert caught.value.line_id == "1"


def test_create_refuses_mixed_currencies() -> None:
    with pytest.raises(CurrencyMismatch):
        Order.create("SO-1", "C-1", [a_line("1"), a_line("2", currency="USD")], on=DAY)


def test_create_refuses_lines_that_already_have_progress() -> None:
    used = attrs.evolve(a_line(), cancelled=Decimal(1))
    with pytest.raises(InvalidInput, match="progress"):
        Order.create("SO-1", "C-1", [used], on=DAY)


def test_tax_is_estimated_per_category_base_not_per_line() -> None:
    tenth = TaxCategory.standard("10")
    lines = [a_line("1", 1, "0.05", tax=tenth), a_line("2", 1, "0.05", tax=tenth)]
    totals = an_order(*lines).totals
    # per line it would be 0.01 + 0.01; per category base 0.10 * 10 % = 0.01
    assert totals.tax == money("0.01", "EUR")
    assert totals.gross == money("0.11", "EUR")


def test_totals_group_by_category() -> None:
    order = an_order(a_line("1", 2, "10.00"), a_line("2", 1, "5.55", tax=REDUCED))
    totals = order.totals
    assert [t.category for t in totals.taxes] == [VAT, REDUCED]
    assert totals.taxes[0].tax == money("3.80", "EUR")
    assert totals.taxes[1].tax == money("0.39", "EUR")  # 0.3885
    assert totals.net == order.net_total == money("25.55", "EUR")
    assert order.gross_total == money("29.74", "EUR")


# --- credit and confirmation ----------------------------------------------------------------


def test_place_records_the_totals_for_the_credit_check() -> None:
    order, events = an_order(a_line("1", 1, "100.00")).place(on=DAY)
    assert order.status is OrderStatus.PLACED
    assert order.placed_on == DAY
    assert events == (
        OrderPlaced("SO-1", "C-1", money("100.00", "EUR"), money("119.00", "EUR"), DAY),
    )


def test_credit_review_and_hold_then_approval() -> None:
    order = an_order(status="placed")
    order, events = order.send_to_credit_review(on=DAY, reason="first order")
    assert order.status is OrderStatus.CREDIT_REVIEW
    assert events == (OrderSentToCreditReview("SO-1", "first order", DAY),)
    order, events = order.put_on_credit_hold(on=DAY, reason="overdue invoice")
    assert order.status is OrderStatus.CREDIT_HOLD
    assert events == (OrderPutOnCreditHold("SO-1", "overdue invoice", DAY),)
    order, events = order.approve(on=DAY)
    assert order.status is OrderStatus.APPROVED
    assert events == (OrderApproved("SO-1", DAY),)


def test_a_draft_cannot_be_approved_and_stays_as_it_was() -> None:
    order = an_order()
    error = refused(lambda: order.approve(on=DAY), IllegalTransition)
    assert isinstance(error, IllegalTransition)
    assert error.state == "draft"
    assert "place" in error.allowed
    assert order.status is OrderStatus.DRAFT


def test_operations_refuse_dates_before_the_order() -> None:
    order = an_order()
    with pytest.raises(InvalidInput, match="before"):
        order.place(on=DAY - timedelta(days=1))


# --- shipping -------------------------------------------------------------------------------


def test_nothing_ships_before_approval() -> None:
    refused(lambda: an_order(status="placed").fulfil({"1": 1}, on=DAY), IllegalTransition)


def test_partial_then_complete_fulfilment() -> None:
    order = an_order(status="approved")
    order, events = order.fulfil({"1": 4}, on=DAY, shipment_id="SH-1")
    assert order.status is OrderStatus.PARTIALLY_FULFILLED
    assert order.shipping_status is Progress.PARTIAL
    assert events == (LineFulfilled("SO-1", "1", Decimal(4), "SH-1", DAY),)
    order, events = order.fulfil({"1": 6, "2": 5}, on=DAY, shipment_id="SH-2")
    assert order.status is OrderStatus.FULFILLED
    assert order.shipping_status is Progress.FULL
    assert events[-1] == OrderFulfilled("SO-1", DAY)
    assert [line.open_quantity for line in order.lines] == [0, 0]


def test_over_fulfilment_is_refused() -> None:
    order = an_order(status="approved").fulfil({"1": 8}, on=DAY).state
    error = refused(lambda: order.fulfil({"1": 3}, on=DAY), OverFulfilment)
    assert isinstance(error, OverFulfilment)
    assert (error.requested, error.available) == ("3", "2")
    assert "cannot fulfil 3" in str(error)


def test_fulfilment_refuses_unknown_lines_bad_and_empty_quantities() -> None:
    order = an_order(status="approved")
    refused(lambda: order.fulfil({"9": 1}, on=DAY), UnknownLine)
    refused(lambda: order.fulfil({"1": 0}, on=DAY), InvalidQuantity)
    refused(lambda: order.fulfil({}, on=DAY), InvalidQuantity)


def test_back_order_flags_part_of_the_open_quantity() -> None:
    order, events = an_order(status="approved").back_order("1", 6, on=DAY)
    assert order.line("1").back_ordered == 6
    assert events == (LineBackOrdered("SO-1", "1", Decimal(6), DAY),)
    refused(lambda: order.back_order("1", 5, on=DAY), OverBackOrder)
    # shipping the 4 at hand keeps the back-order; shipping beyond it clears it
    order = order.fulfil({"1": 4}, on=DAY).state
    assert order.line("1").back_ordered == 6
    order = order.fulfil({"1": 2}, on=DAY).state
    assert order.line("1").back_ordered == 4


def test_cancel_line_remainder_reduces_what_is_shipped_and_billed() -> None:
    order = an_order(status="approved").fulfil({"1": 3}, on=DAY).state
    order, events = order.cancel_line("1", on=DAY)
    assert events == (LineCancelled("SO-1", "1", Decimal(7), DAY),)
    line = order.line("1")
    assert (line.cancelled, line.effective_quantity, line.open_quantity) == tuple(
        map(Decimal, (7, 3, 0))
    )
    assert line.net_amount == money("30.00", "EUR")
    assert order.status is OrderStatus.PARTIALLY_FULFILLED  # line 2 is still open
    order, events = order.cancel_line("2", 5, on=DAY)
    assert order.status is OrderStatus.FULFILLED
    assert OrderFulfilled("SO-1", DAY) in events


def test_cancelling_every_line_before_shipping_cancels_the_order() -> None:
    order = an_order(status="approved").cancel_line("1", on=DAY).state
    order, events = order.cancel_line("2", on=DAY)
    assert order.status is OrderStatus.CANCELLED
    assert isinstance(events[-1], OrderCancelled)


def test_cancel_line_refuses_more_than_open() -> None:
    order = an_order(status="approved").fulfil({"1": 8}, on=DAY).state
    refused(lambda: order.cancel_line("1", 3, on=DAY), OverCancellation)
    done = order.fulfil({"1": 2}, on=DAY).state
    refused(lambda: done.cancel_line("1", on=DAY), OverCancellation)


def test_cancel_line_keeps_prepaid_quantities() -> None:
    order = an_order(status="approved", policy=InvoicingPolicy.ON_ORDER)
    order = order.record_invoice({"1": 4}, invoice_id="INV-1", on=DAY).state
    assert order.line("1").cancellable_quantity == 6
    refused(lambda: order.cancel_line("1", on=DAY), OverCancellation)
    assert order.cancel_line("1", 6, on=DAY).state.line("1").effective_quantity == 4


# --- cancelling and completing the order ----------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "placed", "approved"])
def test_cancel_before_fulfilment(status: str) -> None:
    order, events = an_order(status=status).cancel(on=DAY, reason="customer changed mind")
    assert order.status is OrderStatus.CANCELLED
    assert events == (OrderCancelled("SO-1", "customer changed mind", DAY),)
    assert order.net_total == money("0.00", "EUR")


def test_cancel_after_fulfilment_started_is_illegal() -> None:
    order = an_order(status="approved").fulfil({"1": 1}, on=DAY).state
    refused(lambda: order.cancel(on=DAY), IllegalTransition)


def test_cancel_after_a_prepayment_invoice_is_refused() -> None:
    order = an_order(status="approved", policy=InvoicingPolicy.ON_ORDER)
    order = order.record_invoice({"2": 1}, invoice_id="INV-1", on=DAY).state
    refused(lambda: order.cancel(on=DAY), OverCancellation)


def test_complete_only_when_invoiced() -> None:
    order = an_order(status="approved").fulfil({"1": 10, "2": 5}, on=DAY).state
    refused(lambda: order.complete(on=DAY), IllegalTransition)
    order = order.record_invoice({"1": 10, "2": 5}, invoice_id="INV-1", on=DAY).state
    order, events = order.complete(on=DAY)
    assert order.status is OrderStatus.COMPLETED
    assert events == (OrderCompleted("SO-1", DAY),)


# --- invoicing ------------------------------------------------------------------------------


def test_invoice_on_shipment_is_bounded_by_what_shipped() -> None:
    order = an_order(status="approved")
    refused(lambda: order.record_invoice({"1": 1}, invoice_id="I", on=DAY), OverInvoicing)
    order = order.fulfil({"1": 4}, on=DAY).state
    order, events = order.record_invoice({"1": 4}, invoice_id="INV-1", on=DAY)
    assert events == (OrderInvoiced("SO-1", "INV-1", (LineQuantity("1", Decimal(4)),), False, DAY),)
    # invoicing during shipping leaves the lifecycle alone; the progress shows it
    assert order.status is OrderStatus.PARTIALLY_FULFILLED
    assert order.invoicing_status is Progress.PARTIAL
    error = refused(lambda: order.record_invoice({"1": 1}, invoice_id="I", on=DAY), OverInvoicing)
    assert isinstance(error, OverInvoicing)
    assert error.available == "0"


def test_invoicing_each_shipment_ends_invoiced_with_the_last_shipment() -> None:
    order = an_order(status="approved").fulfil({"1": 10}, on=DAY).state
    order = order.record_invoice({"1": 10}, invoice_id="INV-1", on=DAY).state
    order = order.fulfil({"2": 5}, on=DAY).state
    assert order.status is OrderStatus.PARTIALLY_INVOICED
    order, events = order.record_invoice({"2": 5}, invoice_id="INV-2", on=DAY)
    assert order.status is OrderStatus.INVOICED
    assert isinstance(events[0], OrderInvoiced)
    assert events[0].fully_invoiced


def test_prepayment_invoicing_up_to_ordered_minus_cancelled() -> None:
    order = an_order(status="approved", policy=InvoicingPolicy.ON_ORDER)
    refused(lambda: order.record_invoice({"1": 11}, invoice_id="I", on=DAY), OverInvoicing)
    order = order.record_invoice({"1": 10, "2": 5}, invoice_id="INV-1", on=DAY).state
    assert order.status is OrderStatus.APPROVED
    assert order.invoicing_status is Progress.FULL
    order, events = order.fulfil({"1": 10, "2": 5}, on=DAY)
    assert order.status is OrderStatus.INVOICED  # shipped and already billed
    assert OrderFulfilled("SO-1", DAY) in events


def test_fulfilled_then_invoiced_in_parts() -> None:
    order = an_order(status="approved").fulfil({"1": 10, "2": 5}, on=DAY).state
    assert order.status is OrderStatus.FULFILLED
    order = order.record_invoice({"1": 10}, invoice_id="INV-1", on=DAY).state
    assert order.status is OrderStatus.PARTIALLY_INVOICED
    order = order.record_invoice({"2": 5}, invoice_id="INV-2", on=DAY).state
    assert order.status is OrderStatus.INVOICED


def test_invoice_ceiling_and_invoiceable_quantity_per_policy() -> None:
    line = attrs.evolve(
        a_line(quantity=10),
        cancelled=Decimal(2),
        fulfilled=Decimal(5),
        delivered=Decimal(3),
        invoiced=Decimal(1),
    )
    assert line.invoiceable_quantity(InvoicingPolicy.ON_ORDER) == 7
    assert line.invoiceable_quantity(InvoicingPolicy.ON_SHIPMENT) == 4
    assert line.invoiceable_quantity(InvoicingPolicy.ON_DELIVERY) == 2
    # invoiced beyond a ceiling (goods came back, or stricter policy) leaves nothing, never less
    billed = attrs.evolve(line, invoiced=Decimal(6))
    assert billed.invoice_ceiling(InvoicingPolicy.ON_SHIPMENT) == 5
    assert billed.invoiceable_quantity(InvoicingPolicy.ON_SHIPMENT) == 0
    assert billed.invoiceable_quantity(InvoicingPolicy.ON_DELIVERY) == 0


def test_stricter_policies_never_allow_more() -> None:
    strict_to_loose = [
        InvoicingPolicy.ON_DELIVERY,
        InvoicingPolicy.ON_SHIPMENT,
        InvoicingPolicy.ON_ORDER,
    ]
    for i, policy in enumerate(strict_to_loose):
        assert [policy.allows_more_than(other) for other in strict_to_loose] == [
            j < i for j in range(3)
        ]


def test_invoiceable_quantities_and_check_follow_the_orders_policy() -> None:
    order = an_order(status="approved").fulfil({"1": 4}, on=DAY).state
    order = order.record_delivery({"1": 1}, on=DAY).state
    assert order.invoiceable_quantities() == {"1": Decimal(4)}
    assert order.invoiceable_quantities(InvoicingPolicy.ON_DELIVERY) == {"1": Decimal(1)}
    refused_policy = pytest.raises(InvalidInput, match="on_shipment")
    with refused_policy:
        order.invoiceable_quantities(InvoicingPolicy.ON_ORDER)
    assert order.check_invoiceable({"1": "2.5"}) == (LineQuantity("1", Decimal("2.5")),)
    with pytest.raises(OverInvoicing):
        order.check_invoiceable({"1": 2}, InvoicingPolicy.ON_DELIVERY)
    with pytest.raises(OverInvoicing):
        order.check_invoiceable({"2": 1})
    with pytest.raises(UnknownLine):
        order.check_invoiceable({"9": 1})


def test_an_order_refuses_stored_lines_invoiced_beyond_its_policy() -> None:
    order = an_order(status="approved", policy=InvoicingPolicy.ON_ORDER)
    prepaid = order.record_invoice({"1": 3}, invoice_id="INV-1", on=DAY).state
    with pytest.raises(InvalidQuantity, match="on_shipment"):
        attrs.evolve(prepaid, invoicing_policy=InvoicingPolicy.ON_SHIPMENT)


# --- delivery -------------------------------------------------------------------------------


def test_delivery_is_bounded_by_what_shipped_and_leaves_the_state_alone() -> None:
    order = an_order(status="approved").fulfil({"1": 4}, on=DAY, shipment_id="SH-1").state
    order, events = order.record_delivery({"1": 3}, on=DAY, shipment_id="SH-1")
    assert events == (LineDelivered("SO-1", "1", Decimal(3), "SH-1", DAY),)
    assert order.line("1").delivered == 3
    assert order.status is OrderStatus.PARTIALLY_FULFILLED
    assert order.delivery_status is Progress.PARTIAL
    error = refused(lambda: order.record_delivery({"1": 2}, on=DAY), OverDelivery)
    assert isinstance(error, OverDelivery)
    assert (error.requested, error.available) == ("2", "1")
    assert "cannot deliver 2" in str(error)
    refused(lambda: order.record_delivery({"2": 1}, on=DAY), OverDelivery)


def test_nothing_is_delivered_before_a_shipment() -> None:
    refused(
        lambda: an_order(status="approved").record_delivery({"1": 1}, on=DAY), IllegalTransition
    )


def test_the_last_delivery_reports_the_order_delivered() -> None:
    order = an_order(status="approved").fulfil({"1": 10, "2": 5}, on=DAY).state
    order = order.record_delivery({"1": 10}, on=DAY).state
    order, events = order.record_delivery({"2": 5}, on=DAY)
    assert events[-1] == OrderDelivered("SO-1", DAY)
    assert order.delivery_status is Progress.FULL
    assert order.status is OrderStatus.FULFILLED


def test_returns_count_against_delivered_goods_first() -> None:
    order = an_order(status="approved").fulfil({"1": 10}, on=DAY).state
    order = order.record_delivery({"1": 5}, on=DAY).state
    order = order.record_return({"1": 3}, on=DAY).state  # returned from the 5 delivered
    assert order.line("1").deliverable_quantity == 5
    # goods refused at the door: the return goes beyond what was delivered
    refused_at_door = an_order(status="approved").fulfil({"1": 10}, on=DAY).state
    refused_at_door = refused_at_door.record_return({"1": 4}, on=DAY).state
    assert refused_at_door.line("1").deliverable_quantity == 6
    refused(lambda: refused_at_door.record_delivery({"1": 7}, on=DAY), OverDelivery)
    assert refused_at_door.record_delivery({"1": 6}, on=DAY).state.line("1").delivered == 6


def test_deliveries_may_follow_completion_of_an_order_invoiced_on_shipment() -> None:
    order = an_order(status="approved").fulfil({"1": 10, "2": 5}, on=DAY).state
    order = order.record_invoice({"1": 10, "2": 5}, invoice_id="INV-1", on=DAY).state
    order = order.complete(on=DAY).state
    order, events = order.record_delivery({"1": 10, "2": 5}, on=DAY)
    assert order.status is OrderStatus.COMPLETED
    assert OrderDelivered("SO-1", DAY) in events


def test_invoice_on_delivery_is_bounded_by_what_was_delivered() -> None:
    order = an_order(status="approved", policy=InvoicingPolicy.ON_DELIVERY)
    order = order.fulfil({"1": 10, "2": 5}, on=DAY).state
    error = refused(lambda: order.record_invoice({"1": 1}, invoice_id="I", on=DAY), OverInvoicing)
    assert isinstance(error, OverInvoicing)
    assert error.available == "0"
    order = order.record_delivery({"1": 6}, on=DAY).state
    order = order.record_invoice({"1": 6}, invoice_id="INV-1", on=DAY).state
    assert order.status is OrderStatus.PARTIALLY_INVOICED
    refused(lambda: order.record_invoice({"1": 1}, invoice_id="I", on=DAY), OverInvoicing)


def test_a_line_refuses_delivered_beyond_fulfilled() -> None:
    with pytest.raises(InvalidQuantity, match="delivered exceeds"):
        attrs.evolve(a_line(quantity=5), fulfilled=Decimal(2), delivered=Decimal(3))
    with pytest.raises(InvalidQuantity):
        attrs.evolve(a_line(quantity=5), delivered=Decimal(-1))


# --- returns --------------------------------------------------------------------------------


def test_returns_are_bounded_by_shipped_and_not_yet_returned() -> None:
    order = an_order(status="approved").fulfil({"1": 4}, on=DAY).state
    order, events = order.record_return({"1": 3}, on=DAY, return_id="RMA-1")
    assert events == (
        GoodsReturned(
            "SO-1", "RMA-1", (LineQuantity("1", Decimal(3)),), money("30.00", "EUR"), DAY
        ),
    )
    assert order.line("1").returned == 3
    error = refused(lambda: order.record_return({"1": 2}, on=DAY), OverReturn)
    assert isinstance(error, OverReturn)
    assert error.available == "1"


def test_returns_need_a_shipment_and_are_allowed_after_completion() -> None:
    refused(lambda: an_order(status="approved").record_return({"1": 1}, on=DAY), IllegalTransition)
    order = an_order(status="approved").fulfil({"1": 10, "2": 5}, on=DAY).state
    order = order.record_invoice({"1": 10, "2": 5}, invoice_id="INV-1", on=DAY).state
    order = order.complete(on=DAY).state
    order, _ = order.record_return({"2": 5}, on=DAY)
    assert order.status is OrderStatus.COMPLETED
    assert order.line("2").returnable_quantity == 0


# --- amendments -----------------------------------------------------------------------------


def test_amending_a_draft_keeps_the_previous_revision() -> None:
    order = an_order()
    amended, events = order.change_quantity("1", 12, reason="customer asked", on=DAY)
    assert amended.revision == 2
    assert amended.revisions[0].lines == order.lines
    assert amended.revisions[0].reason == "customer asked"
    assert amended.line("1").quantity == 12
    assert not amended.amended_after_placement
    assert isinstance(events[0], OrderAmended)
    assert events[0].revision == 2
    assert events[0].net_total == money("170.00", "EUR")


def test_amending_after_placement_is_tracked() -> None:
    order = an_order(status="placed")
    order = order.change_unit_price("2", unit_price("9.00", "EUR"), reason="price", on=DAY).state
    order = order.add_line(a_line("3", 1), reason="extra", on=DAY).state
    order = order.remove_line("1", reason="not needed", on=DAY).state
    assert order.revision == 4
    assert [line.line_id for line in order.lines] == ["2", "3"]
    assert order.amended_after_placement
    assert order.status is OrderStatus.PLACED


def test_amending_an_approved_order_asks_for_credit_again() -> None:
    order = an_order(status="approved").change_quantity("1", 20, reason="more", on=DAY).state
    assert order.status is OrderStatus.PLACED


def test_amendment_after_fulfilment_or_invoicing_is_refused() -> None:
    shipped = an_order(status="approved").fulfil({"1": 1}, on=DAY).state
    error = refused(
        lambda: shipped.change_quantity("1", 5, reason="r", on=DAY), AmendmentNotAllowed
    )
    assert "fulfilment" in str(error)
    prepaid = an_order(status="approved", policy=InvoicingPolicy.ON_ORDER)
    prepaid = prepaid.record_invoice({"1": 1}, invoice_id="I", on=DAY).state
    refused(lambda: prepaid.remove_line("2", reason="r", on=DAY), AmendmentNotAllowed)


def test_amendments_keep_the_order_rules() -> None:
    order = an_order(a_line("1"))
    refused(lambda: order.add_line(a_line("1"), reason="r", on=DAY), DuplicateLine)
    refused(
        lambda: order.add_line(a_line("2", currency="USD"), reason="r", on=DAY), CurrencyMismatch
    )
    refused(lambda: order.remove_line("1", reason="r", on=DAY), EmptyOrder)
    refused(lambda: order.remove_line("9", reason="r", on=DAY), UnknownLine)
    refused(lambda: order.change_quantity("1", 0, reason="r", on=DAY), InvalidQuantity)
    refused(lambda: order.change_quantity("1", 10, reason="r", on=DAY), InvalidInput)
    cancelled = order.cancel(on=DAY).state
    refused(lambda: cancelled.change_quantity("1", 3, reason="r", on=DAY), IllegalTransition)


def test_change_quantity_stays_above_the_cancelled_quantity() -> None:
    order = an_order(status="approved").back_order("1", 5, on=DAY).state
    order = order.cancel_line("1", 4, on=DAY).state
    refused(lambda: order.change_quantity("1", 4, reason="r", on=DAY), InvalidQuantity)
    order = order.change_quantity("1", 6, reason="r", on=DAY).state
    line = order.line("1")
    assert (line.effective_quantity, line.back_ordered) == (Decimal(2), Decimal(2))


# --- the lifecycle table --------------------------------------------------------------------


def test_lifecycle_table_shape() -> None:
    assert ORDER_LIFECYCLE.final_states == (OrderStatus.CANCELLED,)
    # once completed, only deliveries and returns can still happen to an order
    assert [t.value for t in ORDER_LIFECYCLE.allowed(OrderStatus.COMPLETED)] == [
        "record_delivery",
        "record_return",
    ]
    cancellable = {t.source for t in ORDER_LIFECYCLE.transitions if t.trigger.value == "cancel"}
    assert cancellable == {
        OrderStatus.DRAFT,
        OrderStatus.PLACED,
        OrderStatus.CREDIT_REVIEW,
        OrderStatus.CREDIT_HOLD,
        OrderStatus.APPROVED,
    }


# --- properties -----------------------------------------------------------------------------

CATEGORIES = st.sampled_from([VAT, REDUCED, ZERO_RATED])
QUANTITIES = st.integers(1, 10_000).map(lambda n: Decimal(n).scaleb(-2))
PRICES = st.integers(0, 10**9).map(lambda n: unit_price(Decimal(n).scaleb(-6), "EUR"))


@st.composite
def lines(draw: st.DrawFn, max_size: int = 5) -> tuple[OrderLine, ...]:
    count = draw(st.integers(1, max_size))
    return tuple(
        OrderLine(
            str(i),
            f"P{i}",
            "",
            quantity=draw(QUANTITIES),
            unit_price=draw(PRICES),
            tax=draw(CATEGORIES),
            discount_percent=draw(st.integers(0, 100)),
        )
        for i in range(count)
    )


@given(lines())
def test_totals_equal_the_sum_of_the_lines(order_lines: tuple[OrderLine, ...]) -> None:
    totals = estimate_totals(order_lines, "EUR")
    assert totals.net == total((line.net_amount for line in order_lines), "EUR")
    assert totals.tax == total((t.tax for t in totals.taxes), "EUR")
    assert totals.gross == total((totals.net, totals.tax), "EUR")
    assert total((t.base for t in totals.taxes), "EUR") == totals.net
    for sub in totals.taxes:
        assert sub.tax == percent_of(sub.base, sub.category.rate, Rounding.HALF_UP)
    for line in order_lines:
        assert 0 <= line.net_amount.amount <= line.list_amount.amount


PROGRESS_FIELDS = ("fulfilled", "back_ordered", "cancelled", "invoiced", "returned", "delivered")
PROGRESS = st.integers(0, 12_000).map(lambda n: Decimal(n).scaleb(-2))


def _refusal(build: Callable[[], OrderLine]) -> OrderLine | str:
    """The line ``build`` makes, or the reason it was refused."""
    try:
        return build()
    except InvalidQuantity as refused:
        return refused.reason


@given(lines(max_size=1), st.dictionaries(st.sampled_from(PROGRESS_FIELDS), PROGRESS))
def test_moving_progress_equals_rebuilding_the_line(
    order_lines: tuple[OrderLine, ...], progress: dict[str, Decimal]
) -> None:
    (line,) = order_lines
    validated = _refusal(lambda: attrs.evolve(line, **progress))  # type: ignore[arg-type]
    fast = _refusal(lambda: line._with_progress(**progress))
    assert fast == validated
    if isinstance(fast, OrderLine) and isinstance(validated, OrderLine):
        assert attrs.asdict(fast, recurse=False) == attrs.asdict(validated, recurse=False)
        assert fast.net_amount == validated.net_amount


OPERATIONS = st.sampled_from(
    [
        "place", "review", "hold", "approve", "fulfil", "back_order", "cancel_line", "invoice",
        "return", "deliver", "complete", "cancel", "amend",
    ]
)  # fmt: skip


def apply(order: Order, name: str, line_id: str, quantity: Decimal) -> Changed[Order]:
    if name == "place":
        return order.place(on=DAY)
    if name == "review":
        return order.send_to_credit_review(on=DAY)
    if name == "hold":
        return order.put_on_credit_hold(on=DAY)
    if name == "approve":
        return order.approve(on=DAY)
    if name == "fulfil":
        return order.fulfil({line_id: quantity}, on=DAY)
    if name == "back_order":
        return order.back_order(line_id, quantity, on=DAY)
    if name == "cancel_line":
        return order.cancel_line(line_id, quantity, on=DAY)
    if name == "invoice":
        return order.record_invoice({line_id: quantity}, invoice_id="I", on=DAY)
    if name == "return":
        return order.record_return({line_id: quantity}, on=DAY)
    if name == "deliver":
        return order.record_delivery({line_id: quantity}, on=DAY)
    if name == "complete":
        return order.complete(on=DAY)
    if name == "cancel":
        return order.cancel(on=DAY)
    return order.change_quantity(line_id, quantity, reason="amend", on=DAY)


def check_quantities(order: Order) -> None:
    for line in order.lines:
        assert 0 <= line.cancelled <= line.quantity
        assert 0 <= line.fulfilled <= line.effective_quantity
        assert 0 <= line.back_ordered <= line.open_quantity
        assert 0 <= line.returned <= line.fulfilled
        assert 0 <= line.delivered <= line.fulfilled
        ceiling = {
            InvoicingPolicy.ON_ORDER: line.effective_quantity,
            InvoicingPolicy.ON_SHIPMENT: line.fulfilled,
            InvoicingPolicy.ON_DELIVERY: line.delivered,
        }[order.invoicing_policy]
        assert 0 <= line.invoiced <= ceiling


@given(
    st.sampled_from(InvoicingPolicy),
    st.sampled_from(["draft", "approved"]),
    st.lists(
        st.tuples(OPERATIONS, st.sampled_from(["1", "2"]), st.integers(1, 12).map(Decimal)),
        max_size=30,
    ),
)
def test_random_operations_keep_quantities_within_bounds(
    policy: InvoicingPolicy, start: str, steps: list[tuple[str, str, Decimal]]
) -> None:
    order = an_order(a_line("1", 10), a_line("2", 4), policy=policy, status=start)
    for name, line_id, quantity in steps:
        before = order
        try:
            order, events = apply(order, name, line_id, quantity)
        except DomainError:
            assert order == before
            continue
        assert events
        check_quantities(order)
        assert order.net_total == total((li.net_amount for li in order.lines), "EUR")
