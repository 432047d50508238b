"""Loading helpers shared by the services: typed look-ups and the open items of receivables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from o2c.domain.credit import CreditAccount, release_if_settled
from o2c.domain.customers import Customer
from o2c.domain.invoicing import Invoice
from o2c.domain.money import Money, total, zero
from o2c.domain.orders import Order, OrderStatus, estimate_totals
from o2c.domain.payments import Payment
from o2c.domain.receivables import OpenItem
from o2c.ports.persistence import UnitOfWork
from o2c.services._runtime import Work
from o2c.services.errors import (
    UnknownCustomer,
    UnknownInvoice,
    UnknownOrder,
    UnknownPayment,
)

__all__ = [
    "accepted_not_invoiced",
    "credit_account",
    "customer",
    "invoice",
    "open_items",
    "open_items_of",
    "order",
    "payment",
    "release_settled_holds",
]

# Orders accepted by credit whose goods may still be invoiced.
_ACCEPTED = frozenset(
    {
        OrderStatus.APPROVED,
        OrderStatus.PARTIALLY_FULFILLED,
        OrderStatus.FULFILLED,
        OrderStatus.PARTIALLY_INVOICED,
    }
)


def customer(uow: UnitOfWork, customer_id: str) -> Customer:
    """The registered customer, or :class:`UnknownCustomer`."""
    found = uow.customers.find(customer_id)
    if found is None:
        raise UnknownCustomer(customer_id)
    return found


def credit_account(uow: UnitOfWork, found: Customer) -> CreditAccount:
    """The customer's credit account (a new, unknown one if it never had one)."""
    account = uow.credit_accounts.find(found.customer_id)
    return account if account is not None else CreditAccount.new(found.customer_id, found.currency)


def order(uow: UnitOfWork, order_id: str) -> Order:
    """The order, or :class:`UnknownOrder`."""
    found = uow.orders.find(order_id)
    if found is None:
        raise UnknownOrder(order_id)
    return found


def invoice(uow: UnitOfWork, number: str) -> Invoice:
    """The issued invoice with this number, or :class:`UnknownInvoice`."""
    found = uow.invoices.find(number)
    if found is None or found.open_item is None:
        raise UnknownInvoice(number)
    return found


def payment(uow: UnitOfWork, payment_id: str) -> Payment:
    """The card payment, or :class:`UnknownPayment`."""
    found = uow.payments.find(payment_id)
    if found is None:
        raise UnknownPayment(payment_id)
    return found


def _items(uow: UnitOfWork) -> Iterator[OpenItem]:
    for stored in uow.invoices.values():
        if stored.open_item is not None:
            yield stored.open_item
    yield from uow.charges.values()


def open_items(uow: UnitOfWork) -> tuple[OpenItem, ...]:
    """Every receivable still open: issued invoices and dunning charges."""
    return tuple(item for item in _items(uow) if not item.is_settled)


def open_items_of(uow: UnitOfWork, customer_id: str, currency: str) -> tuple[OpenItem, ...]:
    """A customer's open receivables in one currency."""
    return tuple(
        item
        for item in _items(uow)
        if item.customer_id == customer_id and item.currency == currency and not item.is_settled
    )


def accepted_not_invoiced(
    orders: Iterable[Order], customer_id: str, currency: str, *, excluding: str = ""
) -> Money:
    """The estimated gross of what accepted orders of a customer have not invoiced yet."""
    amounts: list[Money] = []
    for candidate in orders:
        if (
            candidate.customer_id != customer_id
            or candidate.order_id == excluding
            or candidate.status not in _ACCEPTED
            or candidate.currency.code != currency
        ):
            continue
        remaining = [
            line.__class__(
                line.line_id,
                line.product_id,
                line.description,
                line.effective_quantity - line.invoiced,
                line.unit_price,
                line.tax,
                line.discount_percent,
                line.unit_discount,
            )
            for line in candidate.lines
            if line.effective_quantity > line.invoiced
        ]
        if remaining:
            amounts.append(estimate_totals(remaining, currency).gross)
    return total(amounts, currency) if amounts else zero(currency)


def release_settled_holds(work: Work, customer_ids: Iterable[str]) -> None:
    """Release overdue holds of customers whose overdue items are now paid (payment releases)."""
    uow = work.uow
    for customer_id in sorted(set(customer_ids)):
        account = uow.credit_accounts.find(customer_id)
        if account is None or not account.is_on_hold:
            continue
        items = open_items_of(uow, customer_id, account.currency)
        released, events = release_if_settled(account, items, work.today)
        if events:
            uow.credit_accounts.save(customer_id, released)
            work.record(events)
