"""Fault injection: wrap any adapter so that a chosen call of a run fails the way real systems do.

A :class:`FaultPlan` numbers every call that goes through a wrapped adapter, across all of them,
in the order the calls happen (call 1, 2, 3, … of the run). Give it the call numbers to break and
how (:class:`FaultKind`); everything else passes through untouched::

    from o2c.testing.faults import FaultKind, FaultPlan, FaultyInventory, FaultyLedger

    plan = FaultPlan({7: FaultKind.LOST_ANSWER})
    app = o2c.bootstrap(
        inventory=FaultyInventory(MyInventory(), plan),
        ledger=FaultyLedger(MyLedger(), plan),
    )

The kinds are the four ways a call to another system goes wrong:

* :attr:`FaultKind.UNAVAILABLE`: ``AdapterUnavailable`` before the call (retryable);
* :attr:`FaultKind.REJECTED`: ``AdapterRejected`` before the call (permanent for that request);
* :attr:`FaultKind.CRASH`: a bare ``RuntimeError`` before the call, outside the o2c errors, as a
  driver bug or a broken plugin raises;
* :attr:`FaultKind.LOST_ANSWER`: the call **takes effect**, then ``AdapterUnavailable`` is raised,
  as when a timeout hides that the other system did the work.

Run the scenario once with an empty plan (:meth:`FaultPlan.dry_run`) to learn how many calls it
makes (:attr:`FaultPlan.calls`); then run it again for every call number and every kind.

There is one wrapper per port (:class:`FaultyInventory`, :class:`FaultyCarrier`,
:class:`FaultyGateway`, :class:`FaultyLedger`, :class:`FaultyNotifier`, :class:`FaultyRelay`),
one for the unit-of-work factory (:func:`faulty_unit_of_work`: its ``commit`` may fail, or commit
and then fail; with a :class:`CommitLog` it also keeps what each commit stored in the outboxes),
one for
the event publisher (:func:`faulty_publisher`) and one for a plugin that listens to domain events
(:class:`FaultyListener`). For any other call to another system, :meth:`FaultPlan.call` is the
building block the wrappers use. Each wrapper keeps :attr:`answers`: what the wrapped adapter
really answered (the calls that took effect, including those whose answer was then lost), so a
test can compare the other system's state with the books.

Reading an adapter while checking the outcome should not count as a call of the run: read the
wrapped adapter (``wrapper.inner``) or read inside :meth:`FaultPlan.paused` (calls made while
paused are neither counted nor broken, but their answers are still kept).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar, cast

import attrs

from o2c.domain.errors import InvalidInput
from o2c.domain.events import DomainEvent
from o2c.domain.ledger import JournalEntry, TrialBalance
from o2c.domain.money import Money
from o2c.ports.carriers import Booking, CarrierPort, RateQuote, ShipmentRequest, TrackingEvent
from o2c.ports.errors import AdapterRejected, AdapterUnavailable
from o2c.ports.gateways import (
    GatewayCapabilities,
    GatewayNotice,
    GatewayResponse,
    PaymentGatewayPort,
)
from o2c.ports.hookspecs import hookimpl
from o2c.ports.inventory import InventoryPort, Reservation, StockLevel
from o2c.ports.ledger import LedgerPort, PostingResult
from o2c.ports.notifications import Notification, Notifier
from o2c.ports.outbox import EventRelay, RelayedEvent
from o2c.ports.persistence import UnitOfWork

__all__ = [
    "Answer",
    "CommitLog",
    "EventListener",
    "FaultKind",
    "FaultPlan",
    "FaultyCarrier",
    "FaultyGateway",
    "FaultyInventory",
    "FaultyLedger",
    "FaultyListener",
    "FaultyNotifier",
    "FaultyRelay",
    "FaultyUnitOfWork",
    "PortCall",
    "faulty_publisher",
    "faulty_unit_of_work",
]

R = TypeVar("R")


class FaultKind(enum.Enum):
    """How an injected call fails."""

    UNAVAILABLE = "unavailable"
    """``AdapterUnavailable`` before the call: nothing happened, trying again may work."""
    REJECTED = "rejected"
    """``AdapterRejected`` before the call: the other system refused this request."""
    CRASH = "crash"
    """A bare ``RuntimeError`` before the call: a bug, not an o2c error."""
    LOST_ANSWER = "lost_answer"
    """The call takes effect, then ``AdapterUnavailable``: the work is done, the answer lost."""

    @property
    def acts(self) -> bool:
        """Whether the call reaches the wrapped adapter before the failure."""
        return self is FaultKind.LOST_ANSWER


@attrs.frozen
class PortCall:
    """One call that went through a wrapped adapter, numbered across the run."""

    number: int
    """1 for the first call of the run."""
    port: str
    """The wrapper's label: ``"inventory"``, ``"carrier"``, ``"unit_of_work"``, …"""
    method: str
    fault: FaultKind | None = None
    """The fault injected into this call, if any."""

    @property
    def operation(self) -> str:
        """``port.method``, as matrices group calls."""
        return f"{self.port}.{self.method}"


@attrs.frozen
class Answer:
    """What a wrapped adapter really answered to one call that reached it."""

    number: int
    """The call's number in the run; 0 for a call made while the plan was paused."""
    method: str
    arguments: Mapping[str, object]
    result: object
    lost: bool
    """Whether the caller never saw this answer (:attr:`FaultKind.LOST_ANSWER`)."""


class FaultPlan:
    """Numbers the calls of a run through wrapped adapters and breaks the chosen ones.

    ``faults`` maps call numbers (1 for the first call) to the way each fails (``InvalidInput``
    for a number below 1). One plan is shared by every wrapper of a run, so the numbering spans
    all ports.
    """

    def __init__(self, faults: Mapping[int, FaultKind] | None = None) -> None:
        for number in faults or {}:
            if number < 1:
                raise InvalidInput("faults", str(number), "call numbers start at 1")
        self.faults: Mapping[int, FaultKind] = dict(faults or {})
        self._calls: list[PortCall] = []
        self._paused = 0

    @classmethod
    def dry_run(cls) -> FaultPlan:
        """A plan that injects nothing and only counts (to learn a scenario's calls)."""
        return cls()

    @classmethod
    def single(cls, number: int, kind: FaultKind) -> FaultPlan:
        """A plan that breaks call ``number`` only."""
        return cls({number: kind})

    @property
    def calls(self) -> tuple[PortCall, ...]:
        """Every counted call so far, in order."""
        return tuple(self._calls)

    @property
    def count(self) -> int:
        """How many calls were counted so far."""
        return len(self._calls)

    @property
    def injected(self) -> tuple[PortCall, ...]:
        """The calls that were broken."""
        return tuple(call for call in self._calls if call.fault is not None)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Calls made inside the block are neither counted nor broken (checks, set-up).

        The wrappers still keep what the adapter answered (:attr:`FaultyInventory.answers`…).
        """
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def call(
        self,
        port: str,
        method: str,
        act: Callable[[], R],
        *,
        adapter: str | None = None,
        answered: Callable[[int, R, bool], None] | None = None,
    ) -> R:
        """Run ``act`` as call ``port.method`` of the run, breaking it if the plan says so.

        ``adapter`` is the name given to the injected adapter errors (default: ``port``).
        ``answered`` hears, for every call that reached ``act``, the call's number (0 while
        :meth:`paused`), the result and whether the caller lost it.
        """
        if self._paused:
            result = act()
            if answered is not None:
                answered(0, result, False)
            return result
        number = len(self._calls) + 1
        kind = self.faults.get(number)
        self._calls.append(PortCall(number, port, method, kind))
        if kind is None:
            result = act()
            if answered is not None:
                answered(number, result, False)
            return result
        name = adapter or port
        where = f"call {number} ({port}.{method})"
        if kind is FaultKind.UNAVAILABLE:
            raise AdapterUnavailable(name, f"injected outage at {where}")
        if kind is FaultKind.REJECTED:
            raise AdapterRejected(name, f"injected refusal at {where}", "injected")
        if kind is FaultKind.CRASH:
            # Deliberately outside the o2c error family: what a buggy driver or plugin raises.
            raise RuntimeError(f"injected crash at {where}")
        result = act()
        if answered is not None:
            answered(number, result, True)
        raise AdapterUnavailable(name, f"injected lost answer at {where}: the call took effect")


class _Wrapper:
    """What every adapter wrapper shares: the plan, a label and the log of real answers."""

    def __init__(self, plan: FaultPlan, port: str, adapter_name: str) -> None:
        self.plan = plan
        self.port = port
        self._adapter_name = adapter_name
        self._answers: list[Answer] = []

    @property
    def answers(self) -> tuple[Answer, ...]:
        """What the wrapped adapter answered to each call that reached it, in order."""
        return tuple(self._answers)

    def _run(self, method: str, act: Callable[[], R], **arguments: object) -> R:
        def answered(number: int, result: R, lost: bool) -> None:
            self._answers.append(Answer(number, method, dict(arguments), result, lost))

        return self.plan.call(self.port, method, act, adapter=self._adapter_name, answered=answered)


def _name_of(adapter: object, default: str) -> str:
    name = getattr(adapter, "name", None)
    return name if isinstance(name, str) else default


class FaultyInventory(_Wrapper):
    """An :class:`~o2c.ports.inventory.InventoryPort` whose calls may fail as ``plan`` says."""

    def __init__(self, inner: InventoryPort, plan: FaultPlan, *, port: str = "inventory") -> None:
        super().__init__(plan, port, _name_of(inner, port))
        self.inner = inner
        self.name = self._adapter_name

    def stock(self, product_id: str) -> StockLevel:
        """The wrapped adapter's stock level."""
        return self._run("stock", lambda: self.inner.stock(product_id), product_id=product_id)

    def reserve(
        self,
        reservation_id: str,
        *,
        order_id: str,
        line_id: str,
        product_id: str,
        quantity: Decimal,
    ) -> Reservation:
        """Reserve through the wrapped adapter."""
        return self._run(
            "reserve",
            lambda: self.inner.reserve(
                reservation_id,
                order_id=order_id,
                line_id=line_id,
                product_id=product_id,
                quantity=quantity,
            ),
            reservation_id=reservation_id,
            order_id=order_id,
            line_id=line_id,
            product_id=product_id,
            quantity=quantity,
        )

    def release(self, reservation_id: str) -> None:
        """Release through the wrapped adapter."""
        self._run(
            "release", lambda: self.inner.release(reservation_id), reservation_id=reservation_id
        )

    def commit(
        self, reservation_id: str, quantity: Decimal, *, idempotency_key: str | None = None
    ) -> None:
        """Commit stock through the wrapped adapter (once per ``idempotency_key``)."""
        self._run(
            "commit",
            lambda: self.inner.commit(reservation_id, quantity, idempotency_key=idempotency_key),
            reservation_id=reservation_id,
            quantity=quantity,
            idempotency_key=idempotency_key,
        )

    def held(self, reservation_id: str) -> Decimal:
        """What the wrapped adapter's reservation holds."""
        return self._run(
            "held", lambda: self.inner.held(reservation_id), reservation_id=reservation_id
        )

    def reservations(self) -> tuple[Reservation, ...]:
        """Every reservation the wrapped adapter answered (its caller saw the answer or not)."""
        return tuple(
            answer.result for answer in self.answers if isinstance(answer.result, Reservation)
        )


class FaultyCarrier(_Wrapper):
    """A :class:`~o2c.ports.carriers.CarrierPort` whose calls may fail as ``plan`` says."""

    def __init__(self, inner: CarrierPort, plan: FaultPlan, *, port: str = "carrier") -> None:
        super().__init__(plan, port, inner.name)
        self.inner = inner
        self.name = inner.name

    def quote(self, request: ShipmentRequest) -> tuple[RateQuote, ...]:
        """The wrapped carrier's rates."""
        return self._run("quote", lambda: self.inner.quote(request), request=request)

    def book(self, request: ShipmentRequest, service: str) -> Booking:
        """Book with the wrapped carrier."""
        return self._run(
            "book", lambda: self.inner.book(request, service), request=request, service=service
        )

    def track(self, tracking_number: str) -> TrackingEvent:
        """The wrapped carrier's tracking."""
        return self._run(
            "track", lambda: self.inner.track(tracking_number), tracking_number=tracking_number
        )

    def cancel(self, tracking_number: str) -> None:
        """Cancel with the wrapped carrier."""
        self._run(
            "cancel", lambda: self.inner.cancel(tracking_number), tracking_number=tracking_number
        )

    def find_booking(self, shipment_id: str) -> Booking | None:
        """Ask the wrapped carrier for the booking made for a shipment (the status lookup)."""
        return self._run(
            "find_booking",
            lambda: self.inner.find_booking(shipment_id),
            shipment_id=shipment_id,
        )

    def bookings(self) -> tuple[Booking, ...]:
        """Every booking the wrapped carrier answered with (its caller saw it or not), once each.

        A booking found by :meth:`find_booking` is one the carrier made earlier, so it is kept
        once, by its tracking number.
        """
        found: dict[str, Booking] = {}
        for answer in self.answers:
            if isinstance(answer.result, Booking):
                found.setdefault(answer.result.tracking_number, answer.result)
        return tuple(found.values())


class FaultyGateway(_Wrapper):
    """A :class:`~o2c.ports.gateways.PaymentGatewayPort` whose calls may fail as ``plan`` says."""

    def __init__(
        self, inner: PaymentGatewayPort, plan: FaultPlan, *, port: str = "payment_gateway"
    ) -> None:
        super().__init__(plan, port, inner.name)
        self.inner = inner
        self.name = inner.name
        self.capabilities: GatewayCapabilities = inner.capabilities
        """The wrapped gateway's capabilities (reading them is not a call)."""

    def authorise(
        self, *, payment_id: str, amount: Money, payment_token: str, idempotency_key: str
    ) -> GatewayResponse:
        """Authorise with the wrapped gateway."""
        return self._run(
            "authorise",
            lambda: self.inner.authorise(
                payment_id=payment_id,
                amount=amount,
                payment_token=payment_token,
                idempotency_key=idempotency_key,
            ),
            payment_id=payment_id,
            amount=amount,
            idempotency_key=idempotency_key,
        )

    def capture(
        self, *, gateway_reference: str, amount: Money, idempotency_key: str
    ) -> GatewayResponse:
        """Capture with the wrapped gateway."""
        return self._run(
            "capture",
            lambda: self.inner.capture(
                gateway_reference=gateway_reference, amount=amount, idempotency_key=idempotency_key
            ),
            gateway_reference=gateway_reference,
            amount=amount,
            idempotency_key=idempotency_key,
        )

    def void(self, *, gateway_reference: str, idempotency_key: str) -> GatewayResponse:
        """Void with the wrapped gateway."""
        return self._run(
            "void",
            lambda: self.inner.void(
                gateway_reference=gateway_reference, idempotency_key=idempotency_key
            ),
            gateway_reference=gateway_reference,
            idempotency_key=idempotency_key,
        )

    def refund(
        self, *, gateway_reference: str, amount: Money, idempotency_key: str
    ) -> GatewayResponse:
        """Refund with the wrapped gateway."""
        return self._run(
            "refund",
            lambda: self.inner.refund(
                gateway_reference=gateway_reference, amount=amount, idempotency_key=idempotency_key
            ),
            gateway_reference=gateway_reference,
            amount=amount,
            idempotency_key=idempotency_key,
        )

    def fetch_status(self, idempotency_key: str) -> GatewayResponse:
        """Ask the wrapped gateway for an earlier call's outcome."""
        return self._run(
            "fetch_status",
            lambda: self.inner.fetch_status(idempotency_key),
            idempotency_key=idempotency_key,
        )

    def parse_webhook(
        self, payload: bytes, headers: Mapping[str, str]
    ) -> tuple[GatewayNotice, ...]:
        """Let the wrapped gateway read a webhook."""
        return self._run("parse_webhook", lambda: self.inner.parse_webhook(payload, headers))

    def references(self) -> tuple[str, ...]:
        """Every gateway reference the wrapped gateway answered with, first seen first."""
        seen: dict[str, None] = {}
        for answer in self.answers:
            result = answer.result
            if isinstance(result, GatewayResponse) and result.gateway_reference:
                seen[result.gateway_reference] = None
        return tuple(seen)


class FaultyRelay(_Wrapper):
    """An :class:`~o2c.ports.outbox.EventRelay` whose publications may fail as ``plan`` says."""

    def __init__(self, inner: EventRelay, plan: FaultPlan, *, port: str = "relay") -> None:
        super().__init__(plan, port, inner.name)
        self.inner = inner
        self.name = inner.name

    def publish(self, event: RelayedEvent) -> None:
        """Publish through the wrapped relay."""
        self._run("publish", lambda: self.inner.publish(event), event=event)

    def published(self) -> tuple[RelayedEvent, ...]:
        """Every event the wrapped relay took, in order (repeats included)."""
        return tuple(
            cast(RelayedEvent, answer.arguments["event"])
            for answer in self.answers
            if answer.method == "publish"
        )


class FaultyLedger(_Wrapper):
    """A :class:`~o2c.ports.ledger.LedgerPort` whose calls may fail as ``plan`` says."""

    def __init__(self, inner: LedgerPort, plan: FaultPlan, *, port: str = "ledger") -> None:
        super().__init__(plan, port, inner.name)
        self.inner = inner
        self.name = inner.name

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        """Post through the wrapped ledger."""
        batch = tuple(entries)
        return self._run("post_batch", lambda: self.inner.post_batch(batch), entries=batch)

    def balance(self, account: str, currency: str, party: str | None = None) -> Money:
        """The wrapped ledger's balance."""
        return self._run(
            "balance",
            lambda: self.inner.balance(account, currency, party),
            account=account,
            currency=currency,
            party=party,
        )

    def trial_balance(self) -> TrialBalance:
        """The wrapped ledger's trial balance."""
        return self._run("trial_balance", self.inner.trial_balance)

    def posted(self) -> tuple[JournalEntry, ...]:
        """Every entry the wrapped ledger accepted in a batch (each id once, first kept)."""
        found: dict[str, JournalEntry] = {}
        for answer in self.answers:
            if answer.method != "post_batch":
                continue
            batch = cast(tuple[JournalEntry, ...], answer.arguments["entries"])
            for entry in batch:
                found.setdefault(entry.entry_id, entry)
        return tuple(found.values())


class FaultyNotifier(_Wrapper):
    """A :class:`~o2c.ports.notifications.Notifier` whose sends may fail as ``plan`` says."""

    def __init__(self, inner: Notifier, plan: FaultPlan, *, port: str = "notifier") -> None:
        super().__init__(plan, port, inner.name)
        self.inner = inner
        self.name = inner.name

    def send(self, notification: Notification) -> None:
        """Send through the wrapped notifier."""
        self._run("send", lambda: self.inner.send(notification), notification=notification)

    def delivered(self) -> tuple[Notification, ...]:
        """Every notification the wrapped notifier accepted, in order (repeats included)."""
        return tuple(
            cast(Notification, answer.arguments["notification"])
            for answer in self.answers
            if answer.method == "send"
        )


_OUTBOXES = ("event_outbox", "notification_outbox")
"""The outboxes of a unit of work whose committed messages a :class:`CommitLog` keeps."""


class CommitLog:
    """What units of work of a run really committed to their outboxes, in commit order.

    Shared by every unit of work of :func:`faulty_unit_of_work`: a message is kept once the
    commit that stored it took effect (also when its answer was then lost), so a test can compare
    what was delivered with what was committed rather than with what another run did.
    """

    def __init__(self) -> None:
        self._committed: dict[str, list[object]] = {name: [] for name in _OUTBOXES}

    def messages(self, outbox: str) -> tuple[object, ...]:
        """The messages committed to ``outbox`` (``"event_outbox"``…), first committed first."""
        return tuple(self._committed[outbox])

    def _keep(self, staged: Mapping[str, Sequence[object]]) -> None:
        for name, messages in staged.items():
            self._committed[name].extend(messages)


class _RecordingOutbox:
    """An outbox repository that also stages what is added, for the :class:`CommitLog`."""

    def __init__(self, inner: Any, staged: list[object]) -> None:
        self._inner = inner
        self._staged = staged

    def __getattr__(self, name: str) -> Any:
        if name == "_inner":  # not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(self._inner, name)

    def add(self, *messages: object) -> None:
        self._inner.add(*messages)
        self._staged.extend(messages)


class FaultyUnitOfWork:
    """A unit of work whose :meth:`commit` may fail as ``plan`` says; the rest passes through.

    Every repository, query and sequence of the wrapped unit of work is reached through it
    unchanged (including those a newer store adds), so only committing counts as a call. What
    its commit stores in the outboxes goes to ``log``, if given, once the commit took effect.
    """

    def __init__(
        self,
        inner: UnitOfWork,
        plan: FaultPlan,
        *,
        port: str = "unit_of_work",
        log: CommitLog | None = None,
    ) -> None:
        self.inner = inner
        self.plan = plan
        self.port = port
        self.log = log
        self._staged: dict[str, list[object]] = {name: [] for name in _OUTBOXES}

    def __getattr__(self, name: str) -> Any:
        # Only reached for what this class does not define: the repositories and queries.
        if name in ("inner", "log", "_staged"):  # not set yet (a copy being made)
            raise AttributeError(name)
        found = getattr(self.inner, name)
        if self.log is not None and name in _OUTBOXES:
            return _RecordingOutbox(found, self._staged[name])
        return found

    def __enter__(self) -> Self:
        self.inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._clear()
        self.inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        """Commit the wrapped unit of work, unless the plan breaks this call first."""

        def committed(number: int, result: None, lost: bool) -> None:
            if self.log is not None:
                self.log._keep(self._staged)
            self._clear()

        self.plan.call(self.port, "commit", self.inner.commit, answered=committed)

    def rollback(self) -> None:
        """Roll the wrapped unit of work back (never broken)."""
        self._clear()
        self.inner.rollback()

    def _clear(self) -> None:
        for staged in self._staged.values():
            staged.clear()


def faulty_unit_of_work(
    factory: Callable[[], UnitOfWork],
    plan: FaultPlan,
    *,
    port: str = "unit_of_work",
    log: CommitLog | None = None,
) -> Callable[[], UnitOfWork]:
    """A unit-of-work factory whose units of work may fail to commit as ``plan`` says.

    With :attr:`FaultKind.LOST_ANSWER` the changes are committed and the caller still gets an
    error, as when the connection drops after the database committed. With ``log``, what each
    commit stored in the outboxes is kept there (see :class:`CommitLog`).
    """

    def make() -> UnitOfWork:
        # The wrapper delegates the repositories by name (see FaultyUnitOfWork), which a static
        # checker cannot follow; at run time it satisfies the port (bootstrap checks it).
        return cast(UnitOfWork, FaultyUnitOfWork(factory(), plan, port=port, log=log))

    return make


EventPublisher = Callable[[Sequence[DomainEvent]], None]


def faulty_publisher(
    publish: EventPublisher, plan: FaultPlan, *, port: str = "publisher"
) -> EventPublisher:
    """An event publisher (``Adapters.publish``) whose calls may fail as ``plan`` says.

    A failure before the call means no listener heard the events; with
    :attr:`FaultKind.LOST_ANSWER` every listener heard them and the caller still gets an error.
    """

    def publisher(events: Sequence[DomainEvent]) -> None:
        batch = tuple(events)
        plan.call(port, "publish", lambda: publish(batch))

    return publisher


class EventListener(Protocol):
    """A plugin that hears committed domain events (``o2c_domain_event``)."""

    def o2c_domain_event(self, event: DomainEvent) -> None:
        """Handle one committed event."""
        ...


class FaultyListener:
    """A plugin that hands each domain event to ``inner``, failing as ``plan`` says.

    Register it instead of the listener (``o2c.bootstrap(plugins={"name": FaultyListener(...)})``).
    A failure before the call means the listener never saw that event; with
    :attr:`FaultKind.LOST_ANSWER` it handled it and the delivery still reports a failure.
    """

    def __init__(self, inner: EventListener, plan: FaultPlan, *, port: str = "plugin") -> None:
        self.inner = inner
        self.plan = plan
        self.port = port

    @hookimpl
    def o2c_domain_event(self, event: DomainEvent) -> None:
        """Deliver one event to the wrapped listener."""
        self.plan.call(self.port, "o2c_domain_event", lambda: self.inner.o2c_domain_event(event))
