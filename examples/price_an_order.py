"""Price a sales order and print its payment schedule under common payment terms.

Run it with ``make demo`` or ``python examples/price_an_order.py``. Everything here is the pure
o2c domain: no database, no clock (the dates are chosen), no network.
"""

from __future__ import annotations

from datetime import date

from o2c import (
    BusinessCalendar,
    Money,
    Order,
    OrderLine,
    PaymentTerms,
    TaxCategory,
    money,
    total,
    unit_price,
)

ORDER_DATE = date(2026, 11, 23)
INVOICE_DATE = date(2026, 11, 25)

# Christmas and Boxing Day, so that a due date falling on them moves to the next business day.
CALENDAR = BusinessCalendar(holidays=frozenset({date(2026, 12, 25), date(2026, 12, 26)}))


def amount(value: Money) -> str:
    return f"{value.amount:>12,.2f} {value.currency.code}"


def build_order() -> Order:
    vat = TaxCategory.standard("19")
    reduced = TaxCategory.standard("7")
    lines = [
        OrderLine(
            "1",
            "DESK-OAK",
            "Oak desk, 160 x 80",
            quantity=3,
            unit_price=unit_price("489.00", "EUR"),
            tax=vat,
            discount_percent="5",
        ),
        OrderLine(
            "2",
            "SCREW-4x40",
            "Wood screws 4x40",
            quantity=2500,
            unit_price=unit_price("0.0185", "EUR"),
            tax=vat,
        ),
        OrderLine(
            "3",
            "BOOK-JOINERY",
            "Handbook of joinery",
            quantity=2,
            unit_price=unit_price("39.90", "EUR"),
            tax=reduced,
            unit_discount=money("2.00", "EUR"),
        ),
    ]
    order, _ = Order.create("SO-2026-0042", "ACME-GMBH", lines, on=ORDER_DATE)
    order, _ = order.place(on=ORDER_DATE)
    return order


def print_order(order: Order) -> None:
    print(f"Order {order.order_id} for {order.customer_id}, placed {ORDER_DATE}")
    print(f"{'line':<5}{'product':<14}{'qty':>7}{'unit price':>12}{'discount':>10}{'net':>18}")
    for line in order.lines:
        discount = f"{line.discount_percent.normalize():f}%" if line.discount_percent else ""
        if line.unit_discount is not None:
            discount = f"{line.unit_discount.amount}/unit"
        print(
            f"{line.line_id:<5}{line.product_id:<14}{line.quantity.normalize():>7f}"
            f"{line.unit_price.amount:>12f}{discount:>10}{amount(line.net_amount):>18}"
        )
    totals = order.totals
    print(f"{'net total':>48}{amount(totals.net):>18}")
    for subtotal in totals.taxes:
        label = f"tax {subtotal.category.label} on {subtotal.base.amount:,.2f}"
        print(f"{label:>48}{amount(subtotal.tax):>18}")
    print(f"{'gross total':>48}{amount(totals.gross):>18}")


def print_schedule(terms_text: str, order: Order) -> None:
    terms = PaymentTerms.parse(terms_text)
    gross = order.totals.gross
    schedule = terms.schedule(gross, INVOICE_DATE, calendar=CALENDAR)
    unadjusted = terms.schedule(gross, INVOICE_DATE)
    print(f"\nTerms {terms.code!r}, invoiced {INVOICE_DATE}:")
    for number, (instalment, raw) in enumerate(
        zip(schedule.instalments, unadjusted.instalments, strict=True), start=1
    ):
        moved = (
            f"  (moved from {raw.due_date}: not a business day)"
            if raw.due_date != instalment.due_date
            else ""
        )
        print(f"  {number}. due {instalment.due_date} {amount(instalment.amount)}{moved}")
        for discount in instalment.discounts:
            pay = instalment.amount - discount.amount
            print(
                f"       {discount.percent.normalize():f}% off until {discount.deadline}:"
                f" pay {amount(pay).strip()} (saves {amount(discount.amount).strip()})"
            )
    scheduled = total((i.amount for i in schedule.instalments), gross.currency)
    check = "exactly the gross total" if scheduled == gross else "NOT the gross total"
    print(f"  instalments add up to {amount(scheduled).strip()}: {check}")


def main() -> None:
    order = build_order()
    print_order(order)
    for terms_text in ("2/10 NET 30", "30/60/90", "3/10, 1/20, NET 45", "NET 30 EOM", "15 MFI"):
        print_schedule(terms_text, order)


if __name__ == "__main__":
    main()
