"""The domain's own answers to what a store files a value under."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from o2c.domain.money import money, unit_price
from o2c.domain.orders import Order, OrderLine
from o2c.domain.payments import OperationKind, Payment
from o2c.domain.tax import TaxCategory

DAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_an_order_counts_toward_exposure_once_credit_accepted_it_until_invoiced() -> None:
    line = OrderLine(
        "1", "P-1", "widget", Decimal(2), unit_price("10.00", "EUR"), TaxCategory.standard("19")
    )
    order, _ = Order.create("SO-1", "C-1", [line], on=DAY)
    assert not order.counts_toward_exposure  # a draft
    order, _ = order.place(on=DAY)
    assert not order.counts_toward_exposure  # credit has not decided
    order, _ = order.approve(on=DAY)
    assert order.counts_toward_exposure
    order, _ = order.cancel(on=DAY)
    assert not order.counts_toward_exposure


def test_a_payment_awaits_its_gateway_reference_only_while_pending_unnamed() -> None:
    amount = money("10.00", "EUR")
    payment, _ = Payment.create("P-1", "C-1", "SO-1", amount, at=AT)
    assert not payment.awaits_gateway_reference
    pending, _ = payment.mark_pending(
        OperationKind.AUTHORISE, amount, at=AT, idempotency_key="P-1:authorise"
    )
    assert pending.awaits_gateway_reference
    named, _ = payment.mark_pending(
        OperationKind.AUTHORISE, amount, at=AT, idempotency_key="P-1:a", gateway_reference="G-1"
    )
    assert not named.awaits_gateway_reference
