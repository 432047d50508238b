"""Loading and saving helpers shared by the services: typed look-ups and the lookups they keep.

No command scans a whole repository. Besides the values themselves, the services keep secondary
keys in ``UnitOfWork.lookups`` (a lookup key mapped to the keys it finds), always in the same unit
of work as the values they point to:

``open-items`` and ``open-items:<customer>``
    invoices and dunning charges that may still be open (pruned when an item is settled, put back
    when it reopens): cash application, dunning, aging and credit exposure read these;
``exposure-orders:<customer>``
    orders credit accepted that still have something to invoice (credit exposure);
``order-invoices:<order>``, ``order-payments:<order>``, ``order-shipments:<order>``
    the documents of an order, in the order they were made;
``receipt-source:<source id>``, ``payer:<account>``, ``gateway-ref:<reference>``
    a statement line already imported, the customer a bank account belongs to, the card payment
    a gateway knows by its reference.

Saving an invoice, a charge or an order goes through :func:`save_invoice`, :func:`save_charge`
and :func:`save_order`, which keep the lookups in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from o2c.domain.credit import CreditAccount, release_if_settled
from o2c.domain.customers import Customer
from o2c.domain.invoicing import Invoice
from o2c.domain.money import Money, total
from o2c.domain.orders import Order
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
    "OPEN_ITEMS",
    "accepted_not_invoiced",
    "add_lookup",
    "credit_account",
    "customer",
    "invoice",
    "lookup",
    "open_items",
    "open_items_of",
    "order",
    "payment",
    "release_settled_holds",
    "remove_lookup",
    "save_charge",
    "save_invoice",
    "save_order",
]

OPEN_ITEMS = "open-items"
"""The lookup of every invoice and charge that may still be open."""


# --- lookups ----------------------------------------------------------------------------------


def lookup(uow: UnitOfWork, key: str) -> tuple[str, ...]:
    """The keys a lookup finds (none if it was never written)."""
    return uow.lookups.find(key) or ()


def add_lookup(uow: UnitOfWork, key: str, value: str) -> None:
    """Make lookup ``key`` find ``value`` too (once)."""
    found = uow.lookups.find(key) or ()
    if value not in found:
        uow.lookups.save(key, (*found, value))


def remove_lookup(uow: UnitOfWork, key: str, value: str) -> None:
    """Make lookup ``key`` no longer find ``value``."""
    found = uow.lookups.find(key)
    if found and value in found:
        rest = tuple(v for v in found if v != value)
        if rest:
            uow.lookups.save(key, rest)
        else:
            uow.lookups.remove(key)


def _track_item(uow: UnitOfWork, item: OpenItem) -> None:
    own = f"{OPEN_ITEMS}:{item.customer_id}"
    if item.is_settled:
        remove_lookup(uow, OPEN_ITEMS, item.item_id)
        remove_lookup(uow, own, item.item_id)
    else:
        add_lookup(uow, OPEN_ITEMS, item.item_id)
        add_lookup(uow, own, item.item_id)


# --- saving -----------------------------------------------------------------------------------


def save_invoice(uow: UnitOfWork, number: str, invoice: Invoice, *, new: bool = False) -> None:
    """Store an invoice (``add`` a new one) and keep the open-item lookups in step."""
    if new:
        uow.invoices.add(number, invoice)
    else:
        uow.invoices.save(number, invoice)
    if invoice.open_item is not None:
        _track_item(uow, invoice.open_item)


def save_charge(uow: UnitOfWork, charge: OpenItem, *, new: bool = False) -> None:
    """Store a dunning charge (``add`` a new one) and keep the open-item lookups in step."""
    if new:
        uow.charges.add(charge.item_id, charge)
    else:
        uow.charges.save(charge.item_id, charge)
    _track_item(uow, charge)


def save_order(uow: UnitOfWork, order: Order, *, new: bool = False) -> None:
    """Store an order (``add`` a new one) and keep the exposure lookup of its customer in step."""
    if new:
        uow.orders.add(order.order_id, order)
    else:
        uow.orders.save(order.order_id, order)
    key = f"exposure-orders:{order.customer_id}"
    if order.uninvoiced_gross.amount > 0:
        add_lookup(uow, key, order.order_id)
    else:
        remove_lookup(uow, key, order.order_id)


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


def order_invoices(uow: UnitOfWork, order_id: str) -> list[Invoice]:
    """The issued invoices of an order, in the order they were issued."""
    found = (uow.invoices.find(number) for number in lookup(uow, f"order-invoices:{order_id}"))
    return [inv for inv in found if inv is not None and inv.open_item is not None]


def payment(uow: UnitOfWork, payment_id: str) -> Payment:
    """The card payment, or :class:`UnknownPayment`."""
    found = uow.payments.find(payment_id)
    if found is None:
        raise UnknownPayment(payment_id)
    return found


def item(uow: UnitOfWork, item_id: str) -> OpenItem | None:
    """The current open item of an invoice or a charge, or ``None``."""
    stored = uow.invoices.find(item_id)
    if stored is not None:
        return stored.open_item
    return uow.charges.find(item_id)


def _items(uow: UnitOfWork, key: str) -> Iterator[OpenItem]:
    for item_id in lookup(uow, key):
        found = item(uow, item_id)
        if found is not None and not found.is_settled:
            yield found


def open_items(uow: UnitOfWork) -> tuple[OpenItem, ...]:
    """Every receivable still open: issued invoices and dunning charges."""
    return tuple(_items(uow, OPEN_ITEMS))


def open_items_of(uow: UnitOfWork, customer_id: str, currency: str) -> tuple[OpenItem, ...]:
    """A customer's open receivables in one currency."""
    return tuple(
        found for found in _items(uow, f"{OPEN_ITEMS}:{customer_id}") if found.currency == currency
    )


def accepted_not_invoiced(
    uow: UnitOfWork, customer_id: str, currency: str, *, excluding: str = ""
) -> Money:
    """The estimated gross of what accepted orders of a customer have not invoiced yet."""
    amounts: list[Money] = []
    for order_id in lookup(uow, f"exposure-orders:{customer_id}"):
        found = uow.orders.find(order_id)
        if found is None or order_id == excluding or found.currency.code != currency:
            continue
        amounts.append(found.uninvoiced_gross)
    return total(amounts, currency)


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
