"""A web shop: a consumer pays by card, one item is out of stock, and a return is refunded.

Run it with ``python examples/web_shop.py``. The application is the embedded in-memory setup of
``o2c.bootstrap()`` with a fixed clock, so every run prints the same story:

1. the shopper orders a mug, a T-shirt and a poster; the poster is out of stock, so the shopper
   is told at once and that line is cancelled (nobody is billed for it);
2. the card is authorised at checkout through the payment gateway (a sandbox test token);
3. the parcel ships, the invoice is issued on shipment and the card is captured for it;
4. the shopper sends the T-shirt back: a credit note credits it and the card is refunded that
   much;
5. the general ledger's trial balance balances, and accounts receivable is zero.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import o2c
from o2c import (
    AccountRole,
    Address,
    Customer,
    Money,
    OrderLine,
    OrderStatus,
    Parcel,
    PaymentStatus,
    PaymentTerms,
    TaxCategory,
    money,
    unit_price,
)

VAT = TaxCategory.standard("19")


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def show(amount: Money) -> str:
    return f"{amount.amount:,.2f} {amount.currency.code}"


app = o2c.bootstrap(
    {
        "adapters": {
            "clock": {"use": "fixed", "options": {"at": datetime(2026, 5, 4, 10, 0, tzinfo=UTC)}},
            "inventory": {
                "use": "memory",
                "options": {"stock": {"MUG": 40, "TEE": 25, "POSTER": 0}},
            },
        },
        "settings": {"out_of_stock": "cancel"},
    },
    load_entry_points=False,
)
shop = app.services

print("== A shopper signs up")
shopper = Customer(
    "WEB-1001",
    "Mia Schneider",
    "EUR",
    PaymentTerms.parse("NET 14"),
    email="mia@example.com",
    address=Address("Gartenweg 5", "Leipzig", "04109", "DE"),
)
shop.customers.register_customer(shopper, idempotency_key="signup-WEB-1001")
# Card orders are covered by the authorisation: the shop grants card customers a small line.
shop.customers.approve_credit(
    "WEB-1001",
    eur("500"),
    date(2027, 5, 4),
    reviewer="checkout",
    reason="card payments only",
    idempotency_key="card-line-WEB-1001",
)
print("   Mia Schneider may order up to 500.00 EUR, paid by card")

print("\n== Checkout")
basket = [
    OrderLine("1", "MUG", "Mug 'o2c'", 2, unit_price("12.00", "EUR"), VAT),
    OrderLine("2", "TEE", "T-shirt, size M", 1, unit_price("25.00", "EUR"), VAT),
    OrderLine("3", "POSTER", "Poster A2", 1, unit_price("15.00", "EUR"), VAT),
]
placed = shop.orders.place_order("WEB-SO-1", "WEB-1001", basket, idempotency_key="checkout-1")
assert placed.status is OrderStatus.APPROVED
(short,) = placed.shortfalls
print(f"   order WEB-SO-1 is {placed.status.value}")
print(f"   line {short.line_id} ({short.product_id}) is out of stock, so it was cancelled")
alerts = app.adapters.notifier.for_customer("WEB-1001")  # type: ignore[attr-defined]
assert [n.template for n in alerts] == ["order.line_out_of_stock"]
print(f"   Mia was told at once ({alerts[0].template})")

card = shop.cards.authorise("WEB-SO-1", "tok_approve", idempotency_key="checkout-1-card")
assert card.status is PaymentStatus.AUTHORISED
assert card.authorised == eur("58.31")  # the mugs and the T-shirt, with VAT; not the poster
print(f"   card authorised for {show(card.authorised)} (payment {card.payment_id})")

print("\n== Shipping, invoicing, capture")
shipped = shop.orders.ship_order("WEB-SO-1", [Parcel(Decimal("0.9"))], idempotency_key="ship-1")
print(f"   shipped with {shipped.carrier} {shipped.service}, tracking {shipped.tracking_number}")
invoice = shop.billing.invoice_order("WEB-SO-1", idempotency_key="invoice-1")
assert invoice.gross == eur("58.31")
print(f"   invoice {invoice.invoice_number} for {show(invoice.gross)}")
captured = shop.cards.capture(card.payment_id, idempotency_key="capture-1")
assert captured.captured == invoice.gross
print(f"   card captured: {show(captured.captured)}, the invoice is paid")

print("\n== A return")
app.adapters.clock.advance(days=6)  # type: ignore[attr-defined]
note = shop.billing.issue_credit_note(
    invoice.invoice_number,
    reason="T-shirt returned: wrong size",
    lines={2: Decimal(1)},
    idempotency_key="return-1",
)
assert note.gross == eur("29.75")
assert note.customer_credit == note.gross  # the invoice had been paid: the shopper is owed it
print(f"   credit note {note.credit_note_number} for {show(note.gross)}")
refund = shop.cards.refund(card.payment_id, note.customer_credit, idempotency_key="refund-1")
assert refund.status is PaymentStatus.PARTIALLY_REFUNDED
kept = refund.captured - refund.refunded
assert kept == eur("28.56")
print(f"   card refunded {show(refund.refunded)}; the shop keeps {show(kept)}")

print("\n== The books")
ledger = app.adapters.ledger
trial = ledger.trial_balance()
for row in trial.rows:
    print(f"   {row.account:<6} {row.name:<32} {show(row.balance):>14}")
debits, credits = trial.totals("EUR")
print(f"   {'':<6} {'total debits / credits':<32} {show(debits):>14} / {show(credits)}")
assert trial.is_balanced
chart = app.services.settings.chart
receivable = ledger.balance(chart.code(AccountRole.RECEIVABLE), "EUR")
assert receivable == eur("0.00")
assert shop.reports.aging().rows == () or all(
    r.total.amount == 0 for r in shop.reports.aging().rows
)
print(f"   accounts receivable: {show(receivable)}; nothing is left open")
