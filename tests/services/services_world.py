"""A world of in-memory adapters and the services over it, with scenario builders (shared by
the service tests through ``conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import attrs

from o2c.adapters.memory import (
    FixedClock,
    MemoryInventory,
    MemoryLedger,
    MemoryStore,
    OutboxNotifier,
    SandboxGateway,
    TableRateCarrier,
)
from o2c.domain.customers import Address, Customer
from o2c.domain.dunning import DunningAction, DunningLevel, DunningPolicy, FeeTable
from o2c.domain.events import DomainEvent
from o2c.domain.ledger import AccountRole
from o2c.domain.money import Money, money, total, unit_price
from o2c.domain.orders import OrderLine
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.ports.carriers import CarrierPort, Parcel, TrackingStatus
from o2c.ports.inventory import InventoryPort
from o2c.ports.ledger import LedgerPort
from o2c.services import Adapters, Services, Settings

VAT = TaxCategory.standard("19")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PARCEL = (Parcel(Decimal("1.5")),)


def eur(amount: str) -> Money:
    return money(amount, "EUR")


@attrs.define
class World:
    """Everything a scenario touches: the adapters, the services and what went out."""

    clock: FixedClock
    store: MemoryStore
    inventory: MemoryInventory
    carrier: TableRateCarrier
    gateway: SandboxGateway
    ledger: MemoryLedger
    notifier: OutboxNotifier
    published: list[DomainEvent]
    services: Services
    keys: int = 0

    def key(self) -> str:
        self.keys += 1
        return f"k-{self.keys}"

    def today(self) -> date:
        return self.clock.today()

    def customer(
        self,
        customer_id: str = "C-1",
        *,
        terms: str = "NET 30",
        limit: str | None = "5000",
        payer_account: str = "DE89370400440532013000",
    ) -> Customer:
        """Register a customer; with a limit, its credit is approved for a year."""
        customer = Customer(
            customer_id,
            f"Customer {customer_id}",
            "EUR",
            PaymentTerms.parse(terms),
            email=f"{customer_id.lower()}@example.com",
            address=Address("Hauptstrasse 1", "Berlin", "10115", "DE"),
            payer_accounts=frozenset({payer_account}),
        )
        self.services.customers.register_customer(customer, idempotency_key=self.key())
        if limit is not None:
            self.services.customers.approve_credit(
                customer_id,
                eur(limit),
                date(2027, 3, 1),
                reviewer="ana",
                reason="references checked",
                idempotency_key=self.key(),
            )
        return customer

    def snapshot(self) -> tuple[object, ...]:
        """Everything a command could change: stored values, ledger, outbox, stock, bookings.

        The call log is left out (it records every intent, also of commands that failed and were
        compensated); what counts is that none of its calls is left open.
        """
        sizes = {name: size for name, size in self.store.sizes().items() if name != "calls"}
        with self.store.unit_of_work() as uow:
            stored = (tuple(uow.orders.values()), len(uow.calls.unsettled()))
        return (
            sizes,
            stored,
            len(self.ledger),
            len(self.notifier),
            len(self.published),
            self.inventory.stock("WIDGET"),
            len([b for b in self.carrier.bookings() if self.is_live(b.tracking_number)]),
        )

    def is_live(self, tracking_number: str) -> bool:
        """Whether a booking still stands (not cancelled)."""
        return self.carrier.track(tracking_number).status is not TrackingStatus.CANCELLED

    def sent(self, template: str) -> list[str]:
        return [n.customer_id for n in self.notifier.sent if n.template == template]

    def open_total(self) -> Money:
        with self.store.unit_of_work() as uow:
            return total((item.open for item in uow.open_items.open()), "EUR")

    def receivable_balance(self) -> Money:
        chart = self.ledger.chart
        return self.ledger.balance(chart.code(AccountRole.RECEIVABLE), "EUR")


def widget_line(line_id: str = "1", quantity: int = 10, product: str = "WIDGET") -> OrderLine:
    return OrderLine(line_id, product, "Widget", quantity, unit_price("10.00", "EUR"), VAT)


def lines(*items: OrderLine) -> Sequence[OrderLine]:
    return items or (widget_line(),)


DUNNING = DunningPolicy(
    (
        DunningLevel(1, 7, "dunning.first"),
        DunningLevel(
            2,
            21,
            "dunning.second",
            fee=FeeTable.flat(eur("5.00")),
            actions=frozenset({DunningAction.CREDIT_HOLD}),
        ),
    )
)


def build_world(
    settings: Settings | None = None,
    *,
    inventory: Callable[[MemoryInventory], InventoryPort] | None = None,
    carrier: Callable[[TableRateCarrier], CarrierPort] | None = None,
    ledger: Callable[[MemoryLedger], LedgerPort] | None = None,
) -> World:
    """A fresh world; ``inventory``, ``carrier`` and ``ledger`` may wrap the in-memory adapter."""
    clock = FixedClock(START)
    store = MemoryStore()
    stock = MemoryInventory({"WIDGET": 100, "GADGET": 3})
    shipping = TableRateCarrier(clock)
    gateway = SandboxGateway(clock)
    books = MemoryLedger()
    notifier = OutboxNotifier()
    published: list[DomainEvent] = []
    adapters = Adapters(
        unit_of_work=store.unit_of_work,
        inventory=inventory(stock) if inventory else stock,
        carrier=carrier(shipping) if carrier else shipping,
        payment_gateway=gateway,
        ledger=ledger(books) if ledger else books,
        notifier=notifier,
        clock=clock,
        publish=published.extend,
    )
    inventory_ = stock
    carrier_ = shipping
    ledger_ = books
    services = Services(adapters, settings or Settings(dunning_policy=DUNNING))
    return World(
        clock, store, inventory_, carrier_, gateway, ledger_, notifier, published, services
    )
