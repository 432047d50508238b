"""Pytest fixtures for applications built on o2c: an app on memory, a clock to move, builders.

Installed with o2c, this module is a pytest plugin (the ``o2c`` entry point in the ``pytest11``
group), so the fixtures are there in any test suite without an import. They are opt-in: nothing
happens until a test asks for one, they all start with ``o2c_`` so they cannot shadow yours, and
``pytest -p no:o2c`` switches the plugin off. Every test gets fresh adapters.

- ``o2c_clock``: a :class:`~o2c.adapters.memory.FixedClock` at :data:`START`; move it with
  ``o2c_clock.advance(days=30)`` to make invoices fall due.
- ``o2c_stock``: the stock the in-memory inventory starts with (override it in your conftest).
- ``o2c_app``: ``o2c.bootstrap()`` on the in-memory adapters with that clock and stock, no
  installed plugins loaded.
- ``o2c_customer``: registers a customer with approved credit and returns it.
- ``o2c_order``: places an order for ``(product, quantity, unit price)`` lines and returns the
  placement.

This module imports only o2c's core and pytest, so loading the plugin costs nothing for a suite
that does not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

import o2c
from o2c.adapters.memory import FixedClock, MemoryInventory
from o2c.domain.customers import Customer
from o2c.domain.money import money, unit_price
from o2c.domain.orders import OrderLine
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.services.results import OrderPlacement

__all__ = [
    "START",
    "CustomerBuilder",
    "OrderBuilder",
    "o2c_app",
    "o2c_clock",
    "o2c_customer",
    "o2c_order",
    "o2c_stock",
]

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""Where ``o2c_clock`` starts: a Monday morning, UTC."""

Line = tuple[str, int | Decimal | str, str]
"""An order line as ``(product, quantity, unit price)``."""

CustomerBuilder = Callable[..., Customer]
OrderBuilder = Callable[..., OrderPlacement]


@pytest.fixture
def o2c_clock() -> FixedClock:
    """A clock that stands still at :data:`START` until the test moves it."""
    return FixedClock(START)


@pytest.fixture
def o2c_stock() -> Mapping[str, int]:
    """The products and quantities the in-memory inventory holds at the start."""
    return {"WIDGET": 1_000, "GADGET": 1_000}


@pytest.fixture
def o2c_app(o2c_clock: FixedClock, o2c_stock: Mapping[str, int]) -> o2c.App:
    """An application on the in-memory adapters, ``o2c_clock`` and ``o2c_stock``."""
    return o2c.bootstrap(
        load_entry_points=False,
        clock=o2c_clock,
        inventory=MemoryInventory(dict(o2c_stock)),
    )


def _keys(prefix: str) -> Callable[[], str]:
    numbers = count(1)
    return lambda: f"{prefix}-{next(numbers)}"


@pytest.fixture
def o2c_customer(o2c_app: o2c.App, o2c_clock: FixedClock) -> CustomerBuilder:
    """Register a customer and approve its credit for a year; returns the :class:`Customer`.

    Call it as ``o2c_customer("C-1", currency="EUR", terms="NET 30", credit_limit="10000")``
    (all optional); ``credit_limit=None`` leaves the credit account never applied for.
    """
    key = _keys("o2c-customer")

    def build(
        customer_id: str = "C-1",
        *,
        currency: str = "EUR",
        terms: str = "NET 30",
        credit_limit: str | None = "10000",
        name: str | None = None,
    ) -> Customer:
        customer = Customer(
            customer_id,
            name or f"Customer {customer_id}",
            currency,
            PaymentTerms.parse(terms),
            email=f"{customer_id.lower()}@example.com",
        )
        services = o2c_app.services
        services.customers.register_customer(customer, idempotency_key=key())
        if credit_limit is not None:
            services.customers.approve_credit(
                customer_id,
                money(credit_limit, currency),
                o2c_clock.today() + timedelta(days=365),
                reviewer="o2c_customer fixture",
                reason="test customer",
                idempotency_key=key(),
            )
        return customer

    return build


@pytest.fixture
def o2c_order(o2c_app: o2c.App) -> OrderBuilder:
    """Place an order through the services; returns the :class:`OrderPlacement`.

    Call it as ``o2c_order("C-1", ("WIDGET", 3, "12.50"), order_id="O-1")``: lines are
    ``(product, quantity, unit price)``, priced in ``currency`` (``EUR`` unless given) and taxed
    at the standard rate ``vat`` (percent, ``19`` unless given). Without ``order_id`` the orders
    are numbered ``O-1``, ``O-2``...
    """
    numbers = count(1)
    key = _keys("o2c-order")

    def build(
        customer_id: str,
        *lines: Line,
        order_id: str | None = None,
        currency: str = "EUR",
        vat: str = "19",
    ) -> OrderPlacement:
        tax = TaxCategory.standard(vat)
        order_lines = [
            OrderLine(
                str(number), product, product.title(), quantity, unit_price(price, currency), tax
            )
            for number, (product, quantity, price) in enumerate(lines, start=1)
        ]
        return o2c_app.services.orders.place_order(
            order_id or f"O-{next(numbers)}",
            customer_id,
            order_lines,
            idempotency_key=key(),
        )

    return build
