"""Idempotency, rollback, refusals, stock shortfalls, webhook replay and statement re-import."""

from __future__ import annotations

from decimal import Decimal

import pytest
from services_world import PARCEL, World, build_world, eur, widget_line

from o2c.domain.errors import EmptyInvoice
from o2c.domain.orders import OrderStatus
from o2c.domain.payments import PaymentStatus
from o2c.domain.receipts import Payer, Receipt
from o2c.services import Settings
from o2c.services.context import OutOfStockPolicy
from o2c.services.errors import (
    GatewayDeclined,
    IdempotencyKeyReused,
    InsufficientStock,
    UnknownCustomer,
)


def test_a_retried_command_returns_the_first_result_and_changes_nothing(world: World) -> None:
    world.customer()
    s = world.services
    first = s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="place-1")
    again = s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="place-1")
    assert again == first
    shipped = s.orders.ship_order("SO-1", PARCEL, idempotency_key="ship-1")
    assert s.orders.ship_order("SO-1", PARCEL, idempotency_key="ship-1") == shipped
    assert len(world.carrier.bookings()) == 1
    invoiced = s.billing.invoice_order("SO-1", idempotency_key="inv-1")
    assert s.billing.invoice_order("SO-1", idempotency_key="inv-1") == invoiced
    with world.store.unit_of_work() as uow:
        assert len(uow.orders) == 1
        assert len(uow.invoices) == 1
    assert world.inventory.stock("WIDGET").on_hand == Decimal(90)


def test_a_key_reused_for_another_request_is_refused(world: World) -> None:
    world.customer()
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="same")
    with pytest.raises(IdempotencyKeyReused):
        s.orders.place_order("SO-2", "C-1", [widget_line()], idempotency_key="same")


def test_an_unknown_customer_is_refused_and_nothing_is_saved(world: World) -> None:
    with pytest.raises(UnknownCustomer, match="C-404"):
        world.services.orders.place_order(
            "SO-1", "C-404", [widget_line()], idempotency_key=world.key()
        )
    with world.store.unit_of_work() as uow:
        assert len(uow.orders) == 0


def test_a_failing_adapter_rolls_the_whole_command_back(world: World) -> None:
    world.customer()
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line(quantity=5)], idempotency_key=world.key())
    world.inventory.release("SO-1/1")  # the stock went elsewhere meanwhile
    # what inventory holds is checked before the carrier is booked or any stock committed
    with pytest.raises(InsufficientStock):
        s.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    assert world.carrier.bookings() == ()
    with world.store.unit_of_work() as uow:
        assert uow.orders.get("SO-1").status is OrderStatus.APPROVED
        assert len(uow.shipments) == 0
    # a refused invoice hands its number back
    with pytest.raises(EmptyInvoice):
        s.billing.invoice_order("SO-1", idempotency_key=world.key())
    assert world.store.last_number("INV") == 0


def test_a_declined_card_records_nothing(world: World) -> None:
    world.customer()
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    with pytest.raises(GatewayDeclined):
        s.cards.authorise("SO-1", "tok_decline", idempotency_key=world.key())
    with world.store.unit_of_work() as uow:
        assert len(uow.payments) == 0


@pytest.mark.parametrize("policy", list(OutOfStockPolicy))
def test_a_shortfall_is_flagged_at_once(policy: OutOfStockPolicy) -> None:
    world = build_world(Settings(out_of_stock=policy))
    world.customer()
    s = world.services
    placed = s.orders.place_order(
        "SO-1", "C-1", [widget_line(quantity=5, product="GADGET")], idempotency_key=world.key()
    )
    (short,) = placed.shortfalls
    assert short.quantity == Decimal(2)
    assert short.action is policy
    assert world.sent("order.line_out_of_stock") == ["C-1"]
    s.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    invoice = s.billing.invoice_order("SO-1", idempotency_key=world.key())
    assert invoice.gross == eur("35.70")  # only the three in stock are billed
    with world.store.unit_of_work() as uow:
        line = uow.orders.get("SO-1").lines[0]
    if policy is OutOfStockPolicy.CANCEL:
        assert line.cancelled == Decimal(2)
        assert line.open_quantity == 0
    else:
        assert line.back_ordered == Decimal(2)


def test_a_webhook_delivered_twice_is_handled_once(world: World) -> None:
    world.customer()
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    pending = s.cards.authorise("SO-1", "tok_pending", idempotency_key=world.key())
    assert pending.status is PaymentStatus.PENDING
    (delivery,) = world.gateway.pending_webhooks()
    first = s.cards.handle_webhook(delivery.payload, delivery.headers)
    again = s.cards.handle_webhook(delivery.payload, delivery.headers)
    assert first.handled == (delivery.event_id,)
    assert again.duplicates == (delivery.event_id,)
    with world.store.unit_of_work() as uow:
        payment = uow.payments.get(pending.payment_id)
    assert payment.status is PaymentStatus.AUTHORISED


def test_a_statement_imported_twice_applies_once(world: World) -> None:
    world.customer()
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    s.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    invoice = s.billing.invoice_order("SO-1", idempotency_key=world.key())
    line = Receipt(
        "R-1",
        eur("119.00"),
        world.today(),
        "camt-0001",
        Payer(account="DE89370400440532013000"),
        reference=invoice.invoice_number,
    )
    first = s.cash.import_receipts([line], idempotency_key="stmt-1")
    assert first.applied == ("R-1",)
    renamed = Receipt("R-9", eur("119.00"), world.today(), "camt-0001", reference="x")
    second = s.cash.import_receipts([line, renamed], idempotency_key="stmt-2")
    assert second.applied == ()
    assert second.duplicates == ("R-1", "R-9")
    assert world.open_total() == eur("0.00")
