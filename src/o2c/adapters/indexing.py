"""What each named query filters on, derived from a stored value.

The named queries of :mod:`o2c.ports.persistence` never take a secondary key from the caller: a
store derives what each query filters on from the value it stores. These functions are that
derivation, shared by every store so that all of them answer a query alike. The in-memory store
files values under :data:`INDEXES`; a SQL store writes the same keys into indexed columns, or for
a key with several values (the orders of an invoice, the payer accounts of a customer) into small
side tables.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from types import MappingProxyType
from typing import Any

from o2c.domain.customers import Customer
from o2c.domain.invoicing import Invoice
from o2c.domain.orders import Order
from o2c.domain.payments import Payment
from o2c.domain.receivables import OpenItem
from o2c.domain.references import normalise_payer_name
from o2c.domain.worklist import QueuedReceipt
from o2c.ports.persistence import normalise_account

__all__ = [
    "INDEXES",
    "IndexKeys",
    "awaiting_invoice",
    "invoice_orders",
    "open_item",
    "open_keys",
    "customer_name",
    "payer_accounts",
    "queue_keys",
    "unresolved",
]

IndexKeys = Callable[[Any], tuple[Hashable, ...]]
"""The keys a stored value files under in one index (none: the value is not in that index)."""


def open_item(item: OpenItem | None) -> OpenItem | None:
    """The item if it is a receivable still to settle, else ``None`` (``open_items.open``)."""
    if item is None or item.is_settled:
        return None
    return item


def open_keys(item: OpenItem | None) -> tuple[Hashable, ...]:
    """An unsettled item files under ``("open",)`` and ``("open", customer, currency)``."""
    item = open_item(item)
    if item is None:
        return ()
    return (("open",), ("open", item.customer_id, item.currency))


def invoice_orders(invoice: Invoice) -> tuple[str, ...]:
    """The orders an issued invoice bills, once each (``invoices.of_order``); none for a draft."""
    if invoice.open_item is None:
        return ()
    return tuple(dict.fromkeys(line.item.order_id for line in invoice.lines if line.item.order_id))


def payer_accounts(customer: Customer) -> tuple[str, ...]:
    """The customer's payer accounts in normalised form (``customers.by_payer_account``)."""
    return tuple(sorted({normalise_account(account) for account in customer.payer_accounts}))


def customer_name(customer: Customer) -> str:
    """The customer's name in normalised form (``customers.by_name``)."""
    return normalise_payer_name(customer.name)


def queue_keys(entry: QueuedReceipt) -> tuple[Hashable, ...]:
    """An open queue entry files under ``("open",)``, its customer, its currency and both
    (``exception_queue.open_entries``); a closed one under none."""
    if not entry.is_open:
        return ()
    customer, currency = entry.customer_id, entry.currency
    return (
        ("open",),
        ("open", "customer", customer),
        ("open", "currency", currency),
        ("open", customer, currency),
    )


def awaiting_invoice(order: Order) -> str | None:
    """The order's customer while something is left to invoice (``orders.awaiting_invoice``)."""
    return order.customer_id if order.counts_toward_exposure else None


def unresolved(payment: Payment) -> bool:
    """Whether the payment is pending without a gateway reference
    (``payments.awaiting_gateway_reference``)."""
    return payment.awaits_gateway_reference


def _one(key: Hashable | None) -> tuple[Hashable, ...]:
    return () if key is None else (key,)


INDEXES: Mapping[str, Mapping[str, IndexKeys]] = MappingProxyType(
    {
        "customers": {"payer": payer_accounts, "name": lambda c: (customer_name(c),)},
        "orders": {
            "status": lambda o: (o.status,),
            "awaiting_invoice": lambda o: _one(awaiting_invoice(o)),
        },
        "invoices": {"open": lambda i: open_keys(i.open_item), "order": invoice_orders},
        "charges": {"open": open_keys},
        "payments": {
            "order": lambda p: (p.reference,),
            "gateway_reference": lambda p: (p.gateway_reference,) if p.gateway_reference else (),
            "unresolved": lambda p: (True,) if unresolved(p) else (),
        },
        "receipts": {
            "source": lambda r: (r.source_id,),
            "payment": lambda r: (r.payment_id,) if r.payment_id else (),
        },
        "shipments": {"order": lambda s: (s.order_id,)},
        "calls": {
            "unsettled": lambda c: (True,) if c.is_unsettled else (),
            "subject": lambda c: (c.subject,),
        },
        "exception_queue": {"open": queue_keys},
    }
)
"""Each repository's indexes by name, and the keys a stored value files under in each.

The memory store keeps one dictionary per index; the names are those its named queries use.
"""
