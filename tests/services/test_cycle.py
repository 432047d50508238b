"""The whole order-to-cash cycle driven through the services, end to end, in memory."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from services_world import PARCEL, World, eur, widget_line

from o2c.domain.credit import CreditOutcome, CreditStatus
from o2c.domain.invoicing import InvoiceState
from o2c.domain.orders import OrderStatus
from o2c.domain.payments import PaymentStatus
from o2c.domain.receipts import Payer, Receipt, ReceiptState
from o2c.domain.reporting import Period


def _statement_line(world: World, receipt_id: str, amount: str, reference: str) -> Receipt:
    return Receipt(
        receipt_id,
        eur(amount),
        world.today(),
        f"stmt-{receipt_id}",
        Payer(name="Customer C-1", account="DE89370400440532013000"),
        remittance=f"payment {reference}",
        reference=reference,
    )


def _ledger_agrees(world: World) -> None:
    trial = world.ledger.ledger.trial_balance()
    assert trial.is_balanced
    assert world.receivable_balance() == world.open_total()


def test_the_whole_cycle_from_order_to_cash_keeps_the_ledger_in_step(world: World) -> None:
    s = world.services
    world.customer("C-1")

    # 1. Card order: credit approves, stock is reserved, the card is authorised at checkout.
    placed = s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    assert placed.status is OrderStatus.APPROVED
    assert placed.credit_outcome is CreditOutcome.APPROVE
    assert world.inventory.stock("WIDGET").reserved == Decimal(10)
    auth = s.cards.authorise("SO-1", "tok_approve", idempotency_key=world.key())
    assert auth.status is PaymentStatus.AUTHORISED
    assert auth.authorised == eur("119.00")

    # 2. Ship with the cheapest service, invoice on shipment, capture the card.
    shipment = s.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    assert shipment.order_status is OrderStatus.FULFILLED
    assert world.inventory.stock("WIDGET").on_hand == Decimal(90)
    invoice = s.billing.invoice_order("SO-1", idempotency_key=world.key())
    assert invoice.invoice_number == "INV-000001"
    assert invoice.gross == eur("119.00")
    captured = s.cards.capture(auth.payment_id, idempotency_key=world.key())
    assert captured.status is PaymentStatus.CAPTURED
    assert captured.receipt_id is not None
    with world.store.unit_of_work() as uow:
        assert uow.invoices.get("INV-000001").state is InvoiceState.PAID
        assert uow.receipts.get(captured.receipt_id).state is ReceiptState.APPLIED
    _ledger_agrees(world)

    # 3. An order on terms, paid by bank transfer and matched by its reference.
    s.orders.place_order("SO-2", "C-1", [widget_line(quantity=3)], idempotency_key=world.key())
    s.orders.ship_order("SO-2", PARCEL, idempotency_key=world.key())
    second = s.billing.invoice_order("SO-2", idempotency_key=world.key())
    assert second.gross == eur("35.70")
    imported = s.cash.import_receipts(
        [_statement_line(world, "R-1", "35.70", second.invoice_number)],
        idempotency_key=world.key(),
    )
    assert imported.applied == ("R-1",)
    assert [a.item_id for a in imported.allocations] == [second.invoice_number]
    _ledger_agrees(world)

    # 4. A third invoice is not paid: dunning charges a fee and puts the customer on hold.
    s.orders.place_order("SO-3", "C-1", [widget_line(quantity=5)], idempotency_key=world.key())
    s.orders.ship_order("SO-3", PARCEL, idempotency_key=world.key())
    third = s.billing.invoice_order("SO-3", idempotency_key=world.key())
    world.clock.advance(days=55)
    dunned = s.dunning.run_dunning(idempotency_key=world.key())
    assert dunned.held == ("C-1",)
    assert dunned.charges == (f"{third.invoice_number}-FEE-L2",)
    assert world.sent("dunning.second") == ["C-1"]
    again = s.dunning.run_dunning(idempotency_key=world.key())
    assert again.notices == ()
    assert again.charges == ()
    _ledger_agrees(world)

    # 5. The hold blocks the next order and the customer is told to pay first.
    held = s.orders.place_order(
        "SO-4", "C-1", [widget_line(quantity=1)], idempotency_key=world.key()
    )
    assert held.status is OrderStatus.CREDIT_HOLD
    assert world.sent("order.payment_needed") == ["C-1"]

    # 6. Paying the invoice and the fee releases the hold; the held order goes ahead.
    paid = s.cash.import_receipts(
        [
            _statement_line(world, "R-2", "59.50", third.invoice_number),
            _statement_line(world, "R-3", "5.00", f"{third.invoice_number}-FEE-L2"),
        ],
        idempotency_key=world.key(),
    )
    assert paid.applied == ("R-2", "R-3")
    with world.store.unit_of_work() as uow:
        assert uow.credit_accounts.get("C-1").status is CreditStatus.RELEASED
    rechecked = s.orders.recheck_credit("SO-4", idempotency_key=world.key())
    assert rechecked.status is OrderStatus.APPROVED
    _ledger_agrees(world)
    assert world.open_total() == eur("0.00")

    # 7. Measures read from the same repositories.
    aging = s.reports.aging()
    assert aging.rows == () or all(row.total.amount == 0 for row in aging.rows)
    period = Period(world.today() - timedelta(days=90), world.today())
    assert s.reports.credit_sales(period, "EUR") == eur("219.20")
    statement = s.reports.statement("C-1", period)
    assert statement.closing_balance == eur("0.00")
