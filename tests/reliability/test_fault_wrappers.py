"""The fault-injecting wrappers of ``o2c.testing.faults``: numbering, each kind, and what acts."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from decimal import Decimal

import pytest

import o2c
from o2c.adapters.memory import (
    FixedClock,
    MemoryInventory,
    MemoryLedger,
    MemoryRelay,
    MemoryStore,
    OutboxNotifier,
    SandboxGateway,
    TableRateCarrier,
)
from o2c.domain.customers import Customer
from o2c.domain.errors import InvalidInput, O2CError
from o2c.domain.events import DomainEvent
from o2c.ports.carriers import CarrierPort
from o2c.ports.errors import AdapterRejected, AdapterUnavailable
from o2c.ports.gateways import PaymentGatewayPort
from o2c.ports.inventory import InventoryPort
from o2c.ports.ledger import LedgerPort
from o2c.ports.notifications import Notification, Notifier
from o2c.ports.outbox import EventRelay
from o2c.testing.faults import (
    FaultKind,
    FaultPlan,
    FaultyCarrier,
    FaultyGateway,
    FaultyInventory,
    FaultyLedger,
    FaultyListener,
    FaultyNotifier,
    FaultyRelay,
    faulty_publisher,
    faulty_unit_of_work,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _reserve(inventory: FaultyInventory, reservation_id: str) -> object:
    return inventory.reserve(
        reservation_id, order_id="SO-1", line_id="1", product_id="WIDGET", quantity=Decimal(2)
    )


def test_calls_are_numbered_across_every_wrapper_of_a_plan() -> None:
    plan = FaultPlan.dry_run()
    inventory = FaultyInventory(MemoryInventory({"WIDGET": 10}), plan)
    notifier = FaultyNotifier(OutboxNotifier(), plan)
    _reserve(inventory, "R-1")
    notifier.send(Notification("N-1", "C-1", "hello", NOW))
    inventory.held("R-1")
    assert [(c.number, c.operation) for c in plan.calls] == [
        (1, "inventory.reserve"),
        (2, "notifier.send"),
        (3, "inventory.held"),
    ]
    assert plan.injected == ()


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (FaultKind.UNAVAILABLE, AdapterUnavailable),
        (FaultKind.REJECTED, AdapterRejected),
        (FaultKind.CRASH, RuntimeError),
    ],
)
def test_a_fault_before_the_call_leaves_the_adapter_untouched(
    kind: FaultKind, error: type[Exception]
) -> None:
    inner = MemoryInventory({"WIDGET": 10})
    plan = FaultPlan.single(2, kind)
    inventory = FaultyInventory(inner, plan)
    _reserve(inventory, "R-1")
    with pytest.raises(error, match=r"call 2 \(inventory\.reserve\)"):
        _reserve(inventory, "R-2")
    assert inner.stock("WIDGET").reserved == Decimal(2)  # only R-1
    _reserve(inventory, "R-2")  # call 3 is not broken
    assert inner.stock("WIDGET").reserved == Decimal(4)
    assert [c.fault for c in plan.calls] == [None, kind, None]
    assert [a.number for a in inventory.answers] == [1, 3]


def test_a_crash_is_outside_the_o2c_error_family() -> None:
    plan = FaultPlan.single(1, FaultKind.CRASH)
    with pytest.raises(RuntimeError) as raised:
        FaultyNotifier(OutboxNotifier(), plan).send(Notification("N-1", "C-1", "hello", NOW))
    assert not isinstance(raised.value, O2CError)


def test_a_lost_answer_acts_and_then_raises_a_retryable_error() -> None:
    inner = MemoryInventory({"WIDGET": 10})
    plan = FaultPlan.single(1, FaultKind.LOST_ANSWER)
    inventory = FaultyInventory(inner, plan)
    with pytest.raises(AdapterUnavailable) as raised:
        _reserve(inventory, "R-1")
    assert raised.value.retryable
    assert inner.held("R-1") == Decimal(2)  # the reservation was made
    (answer,) = inventory.answers
    assert answer.lost
    assert inventory.reservations()[0].reservation_id == "R-1"


def test_calls_made_while_paused_are_neither_counted_nor_broken() -> None:
    plan = FaultPlan.single(1, FaultKind.UNAVAILABLE)
    inventory = FaultyInventory(MemoryInventory({"WIDGET": 10}), plan)
    with plan.paused():
        assert inventory.stock("WIDGET").on_hand == Decimal(10)
    assert plan.count == 0
    with pytest.raises(AdapterUnavailable):
        inventory.stock("WIDGET")


def test_call_numbers_start_at_one() -> None:
    with pytest.raises(InvalidInput, match="start at 1"):
        FaultPlan({0: FaultKind.CRASH})


@pytest.mark.parametrize(
    ("kind", "committed"),
    [
        (FaultKind.UNAVAILABLE, False),
        (FaultKind.CRASH, False),
        (FaultKind.LOST_ANSWER, True),
    ],
)
def test_a_broken_commit_commits_only_when_the_answer_is_lost(
    kind: FaultKind, committed: bool
) -> None:
    store = MemoryStore()
    plan = FaultPlan.single(1, kind)
    factory = faulty_unit_of_work(store.unit_of_work, plan)
    with factory() as uow:
        uow.customers.add("C-1", Customer("C-1", "Acme", "EUR"))
        with pytest.raises(Exception, match="call 1"):
            uow.commit()
    with store.unit_of_work() as fresh:
        assert (fresh.customers.find("C-1") is not None) is committed
    assert [c.operation for c in plan.calls] == ["unit_of_work.commit"]


def test_every_wrapper_satisfies_its_port_in_the_composition_root() -> None:
    plan = FaultPlan.dry_run()
    clock = FixedClock(NOW)
    store = MemoryStore()
    app = o2c.bootstrap(
        load_entry_points=False,
        unit_of_work=faulty_unit_of_work(store.unit_of_work, plan),
        inventory=FaultyInventory(MemoryInventory({"WIDGET": 10}), plan),
        carrier=FaultyCarrier(TableRateCarrier(clock), plan),
        payment_gateway=FaultyGateway(SandboxGateway(clock), plan),
        ledger=FaultyLedger(MemoryLedger(), plan),
        notifier=FaultyNotifier(OutboxNotifier(), plan),
        relay=FaultyRelay(MemoryRelay(), plan),
        clock=clock,
    )
    app.services.customers.register_customer(
        Customer("C-1", "Acme", "EUR"), idempotency_key="register"
    )
    assert "unit_of_work.commit" in {c.operation for c in plan.calls}
    assert all(name == "override" for port, name in app.chosen.items() if port != "clock")


class _Heard:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def o2c_domain_event(self, event: DomainEvent) -> None:
        self.events.append(event)


class _Event(DomainEvent):
    pass


@pytest.mark.parametrize(("kind", "heard"), [(FaultKind.CRASH, 0), (FaultKind.LOST_ANSWER, 1)])
def test_a_listener_hears_the_event_only_when_the_fault_comes_after(
    kind: FaultKind, heard: int
) -> None:
    listener = _Heard()
    plan = FaultPlan.single(1, kind)
    with pytest.raises(Exception, match="call 1"):
        FaultyListener(listener, plan).o2c_domain_event(_Event())
    assert len(listener.events) == heard


@pytest.mark.parametrize(
    ("kind", "heard"), [(FaultKind.UNAVAILABLE, 0), (FaultKind.LOST_ANSWER, 2)]
)
def test_a_publisher_publishes_only_when_the_fault_comes_after(kind: FaultKind, heard: int) -> None:
    listener = _Heard()

    def publish(events: object) -> None:
        assert isinstance(events, tuple)
        for event in events:
            listener.o2c_domain_event(event)

    plan = FaultPlan.single(1, kind)
    with pytest.raises(AdapterUnavailable):
        faulty_publisher(publish, plan)((_Event(), _Event()))
    assert len(listener.events) == heard


def test_answers_given_while_paused_are_kept_with_number_zero() -> None:
    plan = FaultPlan.dry_run()
    inventory = FaultyInventory(MemoryInventory({"WIDGET": 10}), plan)
    with plan.paused():
        _reserve(inventory, "R-1")
    _reserve(inventory, "R-2")
    assert [(a.number, a.arguments["reservation_id"]) for a in inventory.answers] == [
        (0, "R-1"),
        (1, "R-2"),
    ]


_WRAPPERS = [
    (FaultyInventory, InventoryPort),
    (FaultyCarrier, CarrierPort),
    (FaultyGateway, PaymentGatewayPort),
    (FaultyLedger, LedgerPort),
    (FaultyNotifier, Notifier),
    (FaultyRelay, EventRelay),
]


def _methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(protocol).items()
        if not name.startswith("_") and callable(member)
    }


@pytest.mark.parametrize(("wrapper", "protocol"), _WRAPPERS)
def test_every_wrapper_has_each_method_of_its_port_with_the_same_parameters(
    wrapper: type, protocol: type
) -> None:
    # bootstrap only checks that the names exist; a wrapper that drops a keyword (an
    # idempotency key) would pass it and break the call it wraps at run time.
    for name, expected in _methods(protocol).items():
        assert hasattr(wrapper, name), f"{wrapper.__name__} lacks {name}"
        got = inspect.signature(getattr(wrapper, name))
        assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == [
            (p.name, p.kind, p.default) for p in expected.parameters.values()
        ], f"{wrapper.__name__}.{name}{got} differs from {protocol.__name__}.{name}{expected}"


def test_an_inventory_commit_passes_its_idempotency_key_on() -> None:
    inner = MemoryInventory({"WIDGET": 10})
    plan = FaultPlan.single(2, FaultKind.LOST_ANSWER)
    inventory = FaultyInventory(inner, plan)
    _reserve(inventory, "R-1")
    with pytest.raises(AdapterUnavailable):
        inventory.commit("R-1", Decimal(1), idempotency_key="ship-1")
    inventory.commit("R-1", Decimal(1), idempotency_key="ship-1")  # asked again: once only
    assert inner.stock("WIDGET").on_hand == Decimal(9)
    assert inventory.answers[-1].arguments["idempotency_key"] == "ship-1"


def test_a_carrier_status_lookup_goes_through_the_plan() -> None:
    clock = FixedClock(NOW)
    plan = FaultPlan.single(2, FaultKind.UNAVAILABLE)
    carrier = FaultyCarrier(TableRateCarrier(clock), plan)
    assert carrier.find_booking("SH-1") is None
    with pytest.raises(AdapterUnavailable, match=r"call 2 \(carrier\.find_booking\)"):
        carrier.find_booking("SH-1")
    assert [c.operation for c in plan.calls] == ["carrier.find_booking"] * 2
