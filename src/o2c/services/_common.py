"""Typed look-ups shared by the services: a value by key, or the typed error of its kind.

Everything else the services find, they ask a named query of the persistence port
(``uow.open_items.open_of(...)``, ``uow.invoices.of_order(...)``, ...): the store derives what the
queries filter on from the stored values, so saving a value is all a service does.
"""

from __future__ import annotations

from collections.abc import Iterable

from o2c.domain.credit import CreditAccount, release_if_settled
from o2c.domain.customers import Customer
from o2c.domain.invoicing import Invoice
from o2c.domain.money import Money, total
from o2c.domain.orders import Order
from o2c.domain.payments import Payment
from o2c.domain.receivables import OpenItem
from o2c.domain.settlement import Receivable, item_id_of
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
    "order",
    "payment",
    "receivable",
    "release_settled_holds",
    "save_receivable",
]


# --- loading ----------------------------------------------------------------------------------


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


def receivable(uow: UnitOfWork, item_id: str) -> Receivable:
    """The issued invoice or the dunning charge that open item ``item_id`` belongs to.

    An item that is neither raises :class:`UnknownInvoice`.
    """
    found = uow.invoices.find(item_id)
    if found is not None and found.open_item is not None:
        return found
    charge = uow.charges.find(item_id)
    if charge is None:
        raise UnknownInvoice(item_id)
    return charge


def save_receivable(uow: UnitOfWork, changed: Receivable) -> None:
    """Store a new version of an invoice or a charge in its own repository."""
    if isinstance(changed, OpenItem):
        uow.charges.save(changed.item_id, changed)
    else:
        uow.invoices.save(item_id_of(changed), changed)


def accepted_not_invoiced(
    uow: UnitOfWork, customer_id: str, currency: str, *, excluding: str = ""
) -> Money:
    """The estimated gross of what accepted orders of a customer have not invoiced yet."""
    amounts = [
        found.uninvoiced_gross
        for found in uow.orders.awaiting_invoice(customer_id)
        if found.order_id != excluding and found.currency.code == currency
    ]
    return total(amounts, currency)


def release_settled_holds(work: Work, customer_ids: Iterable[str]) -> None:
    """Release overdue holds of customers whose overdue items are now paid (payment releases)."""
    uow = work.uow
    for customer_id in sorted(set(customer_ids)):
        account = uow.credit_accounts.find(customer_id)
        if account is None or not account.is_on_hold:
            continue
        items = uow.open_items.open_of(customer_id, account.currency)
        released, events = release_if_settled(account, items, work.today)
        if events:
            uow.credit_accounts.save(customer_id, released)
            work.record(events)
