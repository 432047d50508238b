"""Settling and reopening receivables: invoices and dunning charges through one operation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.cash import apply_to_item
from o2c.domain.errors import InvalidInput
from o2c.domain.invoicing import Invoice, InvoiceableLine, InvoicePaid
from o2c.domain.money import from_minor, money, to_minor, unit_price
from o2c.domain.receipts import Payer, Receipt, ReceiptState
from o2c.domain.receivables import Instalment, ItemKind, OpenItem
from o2c.domain.settlement import (
    Receivable,
    item_id_of,
    open_item_of,
    reverse_settlements,
    settle,
)
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms

ISSUED = date(2026, 3, 2)
PAID = date(2026, 3, 20)
BOUNCED = date(2026, 3, 25)


def an_invoice(number: str = "INV-1", price: str = "100.00") -> Invoice:
    line = InvoiceableLine(
        order_id="SO-1",
        order_line_id="1",
        product_id="P-1",
        description="widget",
        quantity=Decimal(1),
        unit_price=unit_price(price, "EUR"),
        tax_category=TaxCategory.standard("19"),
    )
    invoice, _ = Invoice.draft(f"D-{number}", "C-1", [line]).issue(
        number, ISSUED, PaymentTerms.parse("NET 30")
    )
    return invoice


def a_charge(item_id: str = "DN-1", amount: str = "5.00") -> OpenItem:
    return OpenItem(
        item_id,
        "C-1",
        ISSUED,
        (Instalment.unpaid(ISSUED, money(amount, "EUR")),),
        kind=ItemKind.CHARGE,
    )


def a_receipt(amount: str) -> Receipt:
    return Receipt("R-1", money(amount, "EUR"), PAID, "STMT/1", Payer("C-1"))


def test_settling_an_invoice_records_the_payment_and_its_events() -> None:
    invoice = an_invoice()
    applied = apply_to_item(
        a_receipt("119.00"), open_item_of(invoice), money("119.00", "EUR"), on=PAID
    )
    settled, events = settle(invoice, applied.allocation, on=PAID)
    assert isinstance(settled, Invoice)
    assert open_item_of(settled).is_settled
    assert settled.received == money("119.00", "EUR")
    assert any(isinstance(event, InvoicePaid) for event in events)


def test_settling_a_charge_reduces_it_by_all_the_allocation_settled() -> None:
    charge = a_charge()
    applied = apply_to_item(a_receipt("3.00"), charge, money("3.00", "EUR"), on=PAID)
    settled, events = settle(charge, applied.allocation, on=PAID)
    assert settled == charge.apply(money("3.00", "EUR"))
    assert events == ()


def test_an_allocation_of_another_item_or_an_unissued_invoice_is_refused() -> None:
    applied = apply_to_item(a_receipt("3.00"), a_charge(), money("3.00", "EUR"), on=PAID)
    with pytest.raises(InvalidInput, match="another item"):
        settle(a_charge("DN-2"), applied.allocation, on=PAID)
    draft = Invoice.draft("D-9", "C-1", [line.item for line in an_invoice().lines])
    with pytest.raises(InvalidInput, match="not issued"):
        item_id_of(draft)


@given(
    invoice_cents=st.integers(1, 11_900),
    charge_cents=st.integers(1, 500),
    order=st.booleans(),
)
def test_reversing_a_receipt_reopens_exactly_what_settling_it_took(
    invoice_cents: int, charge_cents: int, order: bool
) -> None:
    invoice, charge = an_invoice(), a_charge()
    receivables: list[Receivable] = [invoice, charge] if order else [charge, invoice]
    receipt = Receipt(
        "R-1", from_minor(invoice_cents + charge_cents, "EUR"), PAID, "STMT/1", Payer("C-1")
    )
    settled: list[Receivable] = []
    allocations = []
    for receivable, cents in zip(
        receivables,
        (invoice_cents, charge_cents) if order else (charge_cents, invoice_cents),
        strict=True,
    ):
        applied = apply_to_item(
            receipt, open_item_of(receivable), from_minor(cents, "EUR"), on=PAID
        )
        receipt = applied.receipt
        allocations.append(applied.allocation)
        settled.append(settle(receivable, applied.allocation, on=PAID).state)
    took = [
        to_minor(open_item_of(r).open) - to_minor(open_item_of(s).open)
        for r, s in zip(receivables, settled, strict=True)
    ]
    assert sum(took) == to_minor(receipt.applied) == invoice_cents + charge_cents
    reversed_ = reverse_settlements(receipt, allocations, settled, on=BOUNCED)
    assert [open_item_of(r).open for r in reversed_.receivables] == [
        open_item_of(r).open for r in receivables
    ]
    assert [item_id_of(r) for r in reversed_.receivables] == [item_id_of(r) for r in receivables]
    assert reversed_.receipt.state is ReceiptState.REVERSED
    assert reversed_.events
