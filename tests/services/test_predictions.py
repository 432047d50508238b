"""Payment predictions through the services: learned from the paid history in the store."""

from __future__ import annotations

from datetime import date, timedelta

from services_world import PARCEL, World, eur, widget_line

from o2c.domain.receipts import Payer, Receipt
from o2c.domain.reporting import InvoiceLikelyLate, Period


def _invoice(world: World, order_id: str) -> str:
    s = world.services
    s.orders.place_order(order_id, "C-1", [widget_line(quantity=1)], idempotency_key=world.key())
    s.orders.ship_order(order_id, PARCEL, idempotency_key=world.key())
    return s.billing.invoice_order(order_id, idempotency_key=world.key()).invoice_number


def _pay(world: World, number: str) -> None:
    receipt = Receipt(
        f"R-{number}",
        eur("11.90"),
        world.today(),
        f"stmt-{number}",
        Payer(name="Customer C-1", account="DE89370400440532013000"),
        remittance=f"payment {number}",
        reference=number,
    )
    paid = world.services.cash.import_receipts([receipt], idempotency_key=world.key())
    assert paid.applied == (receipt.receipt_id,)


def test_a_customer_who_pays_twelve_days_late_is_flagged_before_the_next_due_date(
    world: World,
) -> None:
    world.customer("C-1", terms="NET 30")
    for n in range(4):  # four invoices, each paid 12 days after it fell due
        number = _invoice(world, f"SO-{n}")
        world.clock.advance(days=42)
        _pay(world, number)
    upcoming = _invoice(world, "SO-NEXT")
    today = world.today()

    reports = world.services.reports
    prediction = next(p for p in reports.payment_predictions() if p.item_id == upcoming)
    assert prediction.basis == "customer"
    assert prediction.records_used == 4
    assert prediction.expected_days_late == 12
    assert prediction.expected_on == today + timedelta(days=42)
    assert [p.item_id for p in reports.likely_late()] == [upcoming]

    flagged = reports.flag_likely_late(idempotency_key="flag-1")
    assert flagged.items == (upcoming,)
    raised = [e for e in world.published if isinstance(e, InvoiceLikelyLate)]
    assert [(e.item_id, e.expected_days_late) for e in raised] == [(upcoming, 12)]
    # A retry under the same key raises nothing new.
    assert reports.flag_likely_late(idempotency_key="flag-1") == flagged
    assert len([e for e in world.published if isinstance(e, InvoiceLikelyLate)]) == 1

    judged = reports.backtest(today - timedelta(days=50))
    assert judged is not None
    assert judged.items == 1


def test_invoice_processing_time_and_order_accuracy_come_from_the_store(world: World) -> None:
    world.customer("C-1", terms="NET 30")
    s = world.services
    s.orders.place_order("SO-A", "C-1", [widget_line(quantity=2)], idempotency_key=world.key())
    s.orders.ship_order("SO-A", PARCEL, idempotency_key=world.key())
    world.clock.advance(days=3)  # invoiced three days after it shipped
    invoice = s.billing.invoice_order("SO-A", idempotency_key=world.key())
    s.orders.place_order("SO-B", "C-1", [widget_line(quantity=1)], idempotency_key=world.key())
    s.orders.ship_order("SO-B", PARCEL, idempotency_key=world.key())
    s.billing.invoice_order("SO-B", idempotency_key=world.key())  # the same day
    s.billing.issue_credit_note(
        invoice.invoice_number, reason="goodwill", amount=eur("1.00"), idempotency_key=world.key()
    )

    period = Period(date(2026, 1, 1), date(2026, 12, 31))
    timing = s.reports.invoice_processing_time(period)
    assert timing is not None
    assert (timing.count, timing.minimum, timing.maximum) == (2, 0, 3)
    accuracy = s.reports.order_accuracy(period)
    assert (accuracy.orders, accuracy.accurate) == (2, 1)  # SO-A got a credit note
