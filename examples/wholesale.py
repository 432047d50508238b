"""A wholesaler: credit review, "2/10 NET 30", partial shipments, bank transfers and dunning.

Run it with ``python examples/wholesale.py``. The application is ``o2c.bootstrap()`` on the
in-memory adapters with a fixed clock that the story moves forward by hand:

1. a first-time business customer orders; its order waits for a credit review until a person
   approves a limit, then ships in two parts and is invoiced on each shipment;
2. three other customers buy on "2/10 NET 30";
3. a week later one bank transfer pays both invoices of the first customer, a second customer
   pays a few cents short (written off within tolerance), a third takes the early discount;
4. the fourth pays nothing: over the next months dunning sends a reminder, then notices with a
   fee and interest, and puts it on credit hold, which blocks its next order until it pays;
5. aging and DSO at the end; the ledger balances and receivables equal the open items.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import o2c
from o2c.domain.customers import Address, Customer
from o2c.domain.ledger import AccountRole
from o2c.domain.money import Money, money, total, unit_price
from o2c.domain.orders import OrderLine, OrderStatus
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.reporting import Period
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.ports.carriers import Parcel
from o2c.services.results import StatementImport

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VAT = TaxCategory.standard("19")
TERMS = PaymentTerms.parse("2/10 NET 30")
PALLET = [Parcel(Decimal("18"))]


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def show(amount: Money) -> str:
    return f"{amount.amount:,.2f} {amount.currency.code}"


app = o2c.bootstrap(
    {
        "adapters": {
            "clock": {"use": "fixed", "options": {"at": START}},
            "inventory": {"use": "memory", "options": {"stock": {"BOLT": 5000, "NUT": 5000}}},
        },
        "settings": {
            "matching": {"write_off_absolute": "1.00 EUR"},
            "dunning": {
                "levels": [
                    {"number": 1, "days": 1, "template": "dunning.reminder"},
                    {
                        "number": 2,
                        "days": 15,
                        "template": "dunning.notice",
                        "fee": ["5.00 EUR"],
                        "interest_percent": 8,
                    },
                    {
                        "number": 3,
                        "days": 30,
                        "template": "dunning.final_notice",
                        "fee": ["10.00 EUR"],
                        "interest_percent": 8,
                        "actions": ["credit_hold"],
                    },
                ]
            },
        },
    },
    load_entry_points=False,
)
services = app.services
clock = app.adapters.clock


def customer(customer_id: str, name: str, account: str) -> None:
    services.customers.register_customer(
        Customer(
            customer_id,
            name,
            "EUR",
            TERMS,
            address=Address("Industriestrasse 9", "Stuttgart", "70565", "DE"),
            payer_accounts=frozenset({account}),
        ),
        idempotency_key=f"register-{customer_id}",
    )


def approve(customer_id: str, limit: str) -> None:
    services.customers.approve_credit(
        customer_id,
        eur(limit),
        date(2027, 3, 1),
        reviewer="credit desk",
        reason="trade references and annual accounts checked",
        idempotency_key=f"approve-{customer_id}",
    )


def lines(bolts: int, nuts: int) -> list[OrderLine]:
    return [
        OrderLine("1", "BOLT", "Hex bolt M8, box of 100", bolts, unit_price("10.00", "EUR"), VAT),
        OrderLine("2", "NUT", "Hex nut M8, box of 100", nuts, unit_price("5.00", "EUR"), VAT),
    ]


def transfer(
    receipt_id: str, amount: Money, account: str, text: str, reference: str = ""
) -> Receipt:
    return Receipt(
        receipt_id,
        amount,
        clock.today(),
        f"camt-{receipt_id}",
        Payer(account=account),
        remittance=text,
        reference=reference or None,
    )


print("== A first-time customer and its credit review")
customer("ACME", "Acme Maschinenbau GmbH", "DE02ACME")
services.customers.apply_for_credit("ACME", eur("10000"), idempotency_key="apply-ACME")
first = services.orders.place_order("SO-100", "ACME", lines(40, 40), idempotency_key="SO-100")
assert first.status is OrderStatus.CREDIT_REVIEW
print(f"   SO-100 waits for a person: {first.status.value} ({', '.join(first.reasons)})")
approve("ACME", "10000")
released = services.orders.approve_order("SO-100", idempotency_key="review-SO-100")
assert released.status is OrderStatus.APPROVED
print("   the credit desk approved a 10,000.00 EUR limit and released SO-100")

print("\n== Partial shipments, invoiced on each shipment")
services.orders.ship_order("SO-100", PALLET, {"1": 40}, idempotency_key="ship-SO-100-1")
part_one = services.billing.invoice_order("SO-100", idempotency_key="inv-SO-100-1")
services.orders.ship_order("SO-100", PALLET, idempotency_key="ship-SO-100-2")
part_two = services.billing.invoice_order("SO-100", idempotency_key="inv-SO-100-2")
print(
    f"   bolts shipped: {part_one.invoice_number} {show(part_one.gross)}, due {part_one.due_date}"
)
print(
    f"   nuts shipped:  {part_two.invoice_number} {show(part_two.gross)}, due {part_two.due_date}"
)

print("\n== Three regular customers order")
invoices: dict[str, str] = {}
for customer_id, name in (
    ("BETA", "Beta Bau AG"),
    ("GAMMA", "Gamma Handel"),
    ("DELTA", "Delta KG"),
):
    customer(customer_id, name, f"DE02{customer_id}")
    approve(customer_id, "5000")
    services.orders.place_order(
        f"SO-{customer_id}", customer_id, lines(10, 10), idempotency_key=f"SO-{customer_id}"
    )
    services.orders.ship_order(f"SO-{customer_id}", PALLET, idempotency_key=f"ship-{customer_id}")
    issued = services.billing.invoice_order(
        f"SO-{customer_id}", idempotency_key=f"inv-{customer_id}"
    )
    invoices[customer_id] = issued.invoice_number
    print(f"   {name:<14} {issued.invoice_number} {show(issued.gross)}")


def report(imported: StatementImport) -> None:
    for allocation in imported.allocations:
        extra = ""
        if allocation.discount.amount:
            extra = f", early-payment discount {show(allocation.discount)}"
        if allocation.write_off.amount:
            extra = f", short by {show(allocation.write_off)}: written off"
        paid = show(allocation.applied)
        print(f"   {allocation.receipt_id} paid {allocation.item_id}: {paid}{extra}")


print("\n== A week later: the bank statement")
clock.advance(days=7)
both = total((part_one.gross, part_two.gross), "EUR")
early = services.cash.import_receipts(
    [
        transfer("R-1", both, "DE02ACME", f"{part_one.invoice_number} {part_two.invoice_number}"),
        transfer("R-2", eur("174.93"), "DE02GAMMA", "less 2% discount", invoices["GAMMA"]),
    ],
    idempotency_key="camt-2026-03-09",
)
report(early)
assert [a.item_id for a in early.allocations if a.receipt_id == "R-1"] == [
    part_one.invoice_number,
    part_two.invoice_number,
]
assert [a.discount for a in early.allocations if a.receipt_id == "R-2"] == [eur("3.57")]

print("\n== After the discount period")
clock.advance(days=5)
late = services.cash.import_receipts(
    [transfer("R-3", eur("178.00"), "DE02BETA", "invoice", invoices["BETA"])],
    idempotency_key="camt-2026-03-14",
)
report(late)
assert [a.write_off for a in late.allocations] == [eur("0.50")]

print("\n== Delta pays nothing: dunning over the following months")
for days in (19, 14, 15):
    clock.advance(days=days)
    run = services.dunning.run_dunning(idempotency_key=f"dunning-{clock.today()}")
    sent = [n.split(":L")[-1] for n in run.notices]
    print(
        f"   {clock.today()}: notices at level {', '.join(sent) or '-'};"
        f" charges {', '.join(run.charges) or '-'}; on hold {', '.join(run.held) or '-'}"
    )
account_held = "DELTA" in run.held
assert account_held
blocked = services.orders.place_order(
    "SO-DELTA-2", "DELTA", lines(1, 1), idempotency_key="SO-DELTA-2"
)
assert blocked.status is OrderStatus.CREDIT_HOLD
print(f"   Delta's next order SO-DELTA-2 is blocked: {blocked.status.value}")

print("\n== Delta pays everything it owes")
statement = services.reports.statement("DELTA", Period(START.date(), clock.today()))
owed = statement.closing_balance
paid = services.cash.import_receipts(
    [transfer("R-4", owed, "DE02DELTA", "all open items")], idempotency_key="camt-delta"
)
assert paid.on_account == ("R-4",)
print(f"   R-4 of {show(owed)} names no document: it goes on Delta's account")
for item in statement.open_items:
    services.cash.apply_receipt("R-4", item.item_id, idempotency_key=f"apply-R-4-{item.item_id}")
    print(f"   the clerk applies it to {item.item_id} ({show(item.open)})")
rechecked = services.orders.recheck_credit("SO-DELTA-2", idempotency_key="recheck-SO-DELTA-2")
assert rechecked.status is OrderStatus.APPROVED
print(f"   the hold is released and SO-DELTA-2 goes ahead: {rechecked.status.value}")

services.orders.ship_order("SO-DELTA-2", PALLET, idempotency_key="ship-SO-DELTA-2")
last = services.billing.invoice_order("SO-DELTA-2", idempotency_key="inv-SO-DELTA-2")
print(f"   shipped and invoiced: {last.invoice_number} {show(last.gross)}, due {last.due_date}")

print("\n== Receivables")
clock.advance(days=40)
as_of = clock.today()
aging = services.reports.aging(as_of)
print(f"   aging as of {as_of}: " + " | ".join(aging.labels))
for row in aging.rows:
    buckets = " | ".join(f"{amount.amount:,.2f}" for amount in row.amounts)
    print(f"   {row.customer_id:<6} {buckets}   total {show(row.total)}")
period = Period(START.date(), as_of)
days_outstanding = services.reports.dso(period, "EUR")
assert days_outstanding is not None
print(f"   DSO {period.start} to {period.end}: {days_outstanding:.1f} days")
ledger = app.adapters.ledger
assert ledger.trial_balance().is_balanced
receivable = ledger.balance(services.settings.chart.code(AccountRole.RECEIVABLE), "EUR")
open_total = aging.total("EUR")
assert receivable == open_total == last.gross, (receivable, open_total)
print(f"   ledger receivables {show(receivable)} = open items {show(open_total)}; books balance")
