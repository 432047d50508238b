"""Orders from placement to delivery: credit, stock, shipping and tracking.

Placing an order decides credit on the customer's whole exposure (open receivables, orders
accepted but not invoiced, this order) with the configured policy. An approved order reserves
stock line by line; a shortfall is reported to the customer at once and, per
:class:`~o2c.services.context.OutOfStockPolicy`, back-ordered or cancelled before anything is
invoiced. Orders sent to review wait for a person; orders on hold wait for the customer to pay
(the customer is told so). Cash-in-advance customers skip credit, are invoiced on order and ship
only once the prepayment is in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from functools import partial

import attrs

from o2c.domain.calls import CallPhase, CallStatus, ExternalCall
from o2c.domain.credit import CreditContext, CreditDecision, decide
from o2c.domain.events import Changed
from o2c.domain.order_credit import apply_credit_decision, invoicing_policy_for, prepayment_awaited
from o2c.domain.orders import (
    LineQuantity,
    Order,
    OrderLine,
    QuantityLike,
    to_quantity,
)
from o2c.ports.carriers import Parcel, Shipment, ShipmentRequest, TrackingStatus
from o2c.ports.errors import NotFound
from o2c.ports.persistence import UnitOfWork
from o2c.services import _common
from o2c.services._runtime import Runtime, Work
from o2c.services.calls import CallProtocol, Calls, Intent, call_id
from o2c.services.context import Adapters, OutOfStockPolicy, Settings
from o2c.services.errors import (
    CreditBlocked,
    InsufficientStock,
    MissingAddress,
    NoCarrierService,
    OrderExists,
    ShipmentAwaitsPayment,
    UnknownShipment,
)
from o2c.services.results import (
    DeliveryResult,
    OrderPlacement,
    OrderUpdate,
    ShipmentResult,
    Shortfall,
)

__all__ = ["OrderService", "reservation_id", "reservation_of"]


def reservation_id(order_id: str, line_id: str) -> str:
    """The first inventory reservation of an order line (stable, so reserving again is a no-op).

    A reservation that was undone (its command did not commit) is never asked for again: the
    line's next reservation is ``order/line#2``, and so on. :func:`reservation_of` names the one
    that holds the line's stock.
    """
    return f"{order_id}/{line_id}"


def reservation_of(uow: UnitOfWork, order_id: str, line_id: str) -> str:
    """The reservation holding the stock of an order line: the last one that succeeded."""
    return _reservations(uow.calls.of_subject(order_id), order_id, (line_id,))[line_id]


def _reservations(
    calls: Sequence[ExternalCall], order_id: str, line_ids: Iterable[str]
) -> dict[str, str]:
    """The reservation holding each line's stock, from the calls made for the order."""
    held: dict[str, str] = {}
    for call in calls:
        if (
            call.adapter == "inventory"
            and call.operation == "reserve"
            and call.status is CallStatus.SUCCEEDED
        ):
            held[call.arguments.get("line_id", "")] = call.idempotency_key
    return {line_id: held.get(line_id, reservation_id(order_id, line_id)) for line_id in line_ids}


class OrderService:
    """Places, reviews, ships and tracks orders."""

    def __init__(self, runtime: Runtime, calls: CallProtocol | None = None) -> None:
        self._runtime = runtime
        self._calls = calls if calls is not None else CallProtocol(runtime)

    # -- placing -------------------------------------------------------------------------------

    def place_order(
        self,
        order_id: str,
        customer_id: str,
        lines: Sequence[OrderLine],
        *,
        idempotency_key: str,
        quote_id: str | None = None,
    ) -> OrderPlacement:
        """Place an order: decide credit, then reserve stock if it goes ahead.

        Raises :class:`UnknownCustomer` and :class:`OrderExists`; domain errors (an empty order,
        mixed currencies...) pass through. A held or reviewed order is saved, not refused: the
        result says where it stands.
        """

        def body(work: Work, calls: Calls) -> OrderPlacement:
            uow = work.uow
            customer = _common.customer(uow, customer_id)
            if uow.orders.find(order_id) is not None:
                raise OrderExists(order_id)
            prepayment = customer.terms.requires_prepayment
            policy = invoicing_policy_for(customer.terms, self._settings.invoicing_policy)
            order, events = Order.create(
                order_id,
                customer_id,
                lines,
                on=work.today,
                invoicing_policy=policy,
                quote_id=quote_id,
            )
            work.record(events)
            order = self._step(work, order.place(on=work.today))
            account = _common.credit_account(uow, customer)
            context = CreditContext.build(
                account,
                order_amount=order.gross_total,
                as_of=work.today,
                open_items=uow.open_items.open_of(customer_id, account.currency),
                accepted_not_invoiced=_common.accepted_not_invoiced(
                    uow, customer_id, account.currency
                ),
                prepayment_required=prepayment,
                order_id=order_id,
            )
            decision, events = decide(context, self._settings.credit_policy)
            work.record(events)
            reasons = tuple(reason.code for reason in decision.reasons)
            order, shortfalls = self._react_to_credit(
                work, calls, order, decision, still=lambda w: w.uow.orders.find(order_id) is None
            )
            # Written after the reservations: recording their intents starts the unit afresh.
            if uow.credit_accounts.find(customer_id) is None:
                uow.credit_accounts.save(customer_id, account)
            uow.orders.add(order.order_id, order)
            return OrderPlacement(
                order_id,
                order.status,
                decision.outcome,
                reasons,
                shortfalls,
                decision.shipment_waits_for_payment,
            )

        request = (order_id, customer_id, tuple(lines), quote_id)
        return self._calls.run(
            "place_order", idempotency_key, request, OrderPlacement, body, subject=order_id
        )

    def approve_order(self, order_id: str, *, idempotency_key: str) -> OrderUpdate:
        """A person approves an order waiting for credit review (or on hold); stock is reserved."""

        def body(work: Work, calls: Calls) -> OrderUpdate:
            stored = _common.order(work.uow, order_id)
            order = self._step(work, stored.approve(on=work.today))
            order, shortfalls = self._reserve(work, calls, order, still=_unchanged(stored))
            work.uow.orders.save(order.order_id, order)
            return OrderUpdate(order_id, order.status, shortfalls)

        return self._calls.run(
            "approve_order", idempotency_key, order_id, OrderUpdate, body, subject=order_id
        )

    def reject_order(self, order_id: str, *, reason: str, idempotency_key: str) -> OrderUpdate:
        """A person turns down an order waiting for credit: it is cancelled, the customer told."""

        def body(work: Work, calls: Calls) -> OrderUpdate:
            order = _common.order(work.uow, order_id)
            order = self._step(work, order.cancel(on=work.today, reason=reason))
            self._release(work, calls, order)
            work.notify(
                f"{order_id}:credit_denied",
                order.customer_id,
                "order.credit_denied",
                order_id=order_id,
                reason=reason,
            )
            work.uow.orders.save(order.order_id, order)
            return OrderUpdate(order_id, order.status)

        request = (order_id, reason)
        return self._calls.run(
            "reject_order", idempotency_key, request, OrderUpdate, body, subject=order_id
        )

    def recheck_credit(self, order_id: str, *, idempotency_key: str) -> OrderUpdate:
        """Decide credit again for an order on hold or in review (say, after the customer paid).

        The order reacts as on placement (:data:`~o2c.domain.order_credit.CREDIT_REACTIONS`): an
        approval releases it and reserves its stock, a review hands it to a person, a hold puts
        it on hold (an order already held stays held, the customer is not told twice) and a
        denial cancels it and tells the customer why.
        """

        def body(work: Work, calls: Calls) -> OrderUpdate:
            uow = work.uow
            order = stored = _common.order(uow, order_id)
            customer = _common.customer(uow, order.customer_id)
            account = _common.credit_account(uow, customer)
            context = CreditContext.build(
                account,
                order_amount=order.gross_total,
                as_of=work.today,
                open_items=uow.open_items.open_of(customer.customer_id, account.currency),
                accepted_not_invoiced=_common.accepted_not_invoiced(
                    uow, customer.customer_id, account.currency
                ),
                prepayment_required=customer.terms.requires_prepayment,
                order_id=order_id,
            )
            decision, events = decide(context, self._settings.credit_policy)
            work.record(events)
            order, shortfalls = self._react_to_credit(
                work, calls, order, decision, still=_unchanged(stored)
            )
            uow.orders.save(order.order_id, order)
            return OrderUpdate(order_id, order.status, shortfalls)

        return self._calls.run(
            "recheck_credit", idempotency_key, order_id, OrderUpdate, body, subject=order_id
        )

    def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> OrderUpdate:
        """Cancel an order before anything shipped; its reservations are released."""

        def body(work: Work, calls: Calls) -> OrderUpdate:
            order = _common.order(work.uow, order_id)
            order = self._step(work, order.cancel(on=work.today, reason=reason))
            self._release(work, calls, order)
            work.uow.orders.save(order.order_id, order)
            return OrderUpdate(order_id, order.status)

        request = (order_id, reason)
        return self._calls.run(
            "cancel_order", idempotency_key, request, OrderUpdate, body, subject=order_id
        )

    # -- shipping ------------------------------------------------------------------------------

    def ship_order(
        self,
        order_id: str,
        parcels: Sequence[Parcel],
        quantities: Mapping[str, QuantityLike] | None = None,
        *,
        service: str | None = None,
        idempotency_key: str,
    ) -> ShipmentResult:
        """Ship quantities per line (default: everything open that is not back-ordered).

        The carrier quotes the shipment and books ``service`` (default: the cheapest); the order
        records the fulfilment under the shipment id and, once that is committed, the reserved
        stock leaves inventory. Raises :class:`CreditBlocked` for an order waiting for credit,
        :class:`ShipmentAwaitsPayment` for an unpaid cash-in-advance order,
        :class:`MissingAddress`, :class:`NoCarrierService` and :class:`InsufficientStock`, all
        before anything is booked. If the shipment cannot be recorded after the booking, the
        booking is cancelled again; the command can then simply be run again (a new shipment id).
        """

        def body(work: Work, calls: Calls) -> ShipmentResult:
            uow = work.uow
            stored = _common.order(uow, order_id)
            if stored.waits_for_credit:
                raise CreditBlocked(order_id, stored.status.value)
            customer = _common.customer(uow, stored.customer_id)
            if customer.terms.requires_prepayment:
                self._require_prepayment(work, stored)
            if customer.address is None:
                raise MissingAddress(customer.customer_id)
            wanted = (
                {line_id: to_quantity(q) for line_id, q in quantities.items()}
                if quantities is not None
                else stored.shippable_quantities()
            )
            made = uow.calls.of_subject(order_id)
            # Stock of earlier shipments still to leave inventory leaves first, so what the
            # reservations hold is what is left to ship.
            self._calls.complete(
                [c for c in made if c.is_unsettled and c.phase is CallPhase.AFTER_COMMIT]
            )
            shipment_id = self._new_shipment_id(uow, order_id, made)
            # Everything that can refuse the shipment is checked before the carrier is booked:
            # the domain first, then what inventory holds, then what the carrier offers.
            order = self._step(work, stored.fulfil(wanted, on=work.today, shipment_id=shipment_id))
            reservations = _reservations(made, order_id, wanted)
            self._check_held(order_id, wanted, reservations)
            request = ShipmentRequest(
                shipment_id,
                order_id,
                self._settings.ship_from,
                customer.address,
                tuple(parcels),
                work.today,
            )
            chosen = self._choose_service(request, service)
            (booking_call,) = calls.begin(
                [Intent("carrier", "book", shipment_id, order_id, {"service": chosen})],
                still=_unchanged(stored),
            )
            carrier = self._adapters.carrier
            booking = calls.call(booking_call, lambda: carrier.book(request, chosen))
            lines = tuple(LineQuantity(line_id, q) for line_id, q in wanted.items())
            uow.shipments.add(
                shipment_id, Shipment(shipment_id, order_id, lines, booking, work.today)
            )
            uow.orders.save(order.order_id, order)
            # Stock leaves inventory once the shipment is recorded: no port can put it back.
            for line_id, quantity in wanted.items():
                calls.after_commit(
                    Intent(
                        "inventory",
                        "commit",
                        f"{shipment_id}/{line_id}",
                        order_id,
                        {"reservation_id": reservations[line_id], "quantity": str(quantity)},
                    )
                )
            return ShipmentResult(
                shipment_id,
                order_id,
                booking.carrier,
                booking.service,
                booking.tracking_number,
                booking.price,
                order.status,
            )

        request = (order_id, tuple(parcels), dict(quantities or {}), service)
        return self._calls.run(
            "ship_order", idempotency_key, request, ShipmentResult, body, subject=order_id
        )

    def track_shipment(self, shipment_id: str, *, idempotency_key: str) -> DeliveryResult:
        """Ask the carrier where a shipment is; a delivered one is recorded on its order lines."""

        def body(work: Work) -> DeliveryResult:
            uow = work.uow
            shipment = uow.shipments.find(shipment_id)
            if shipment is None:
                raise UnknownShipment(shipment_id)
            event = self._adapters.carrier.track(shipment.booking.tracking_number)
            if event.status is not TrackingStatus.DELIVERED or shipment.delivered_on is not None:
                return DeliveryResult(shipment_id, event.status, shipment.delivered_on is not None)
            on = event.at.date()
            order = _common.order(uow, shipment.order_id)
            delivered = {line.line_id: line.quantity for line in shipment.lines}
            order = self._step(
                work, order.record_delivery(delivered, on=on, shipment_id=shipment_id)
            )
            uow.orders.save(order.order_id, order)
            uow.shipments.save(shipment_id, attrs.evolve(shipment, delivered_on=on))
            return DeliveryResult(shipment_id, event.status, True)

        return self._runtime.execute(
            "track_shipment", idempotency_key, shipment_id, DeliveryResult, body
        )

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _settings(self) -> Settings:
        return self._runtime.settings

    @property
    def _adapters(self) -> Adapters:
        return self._runtime.adapters

    @staticmethod
    def _step(work: Work, changed: Changed[Order]) -> Order:
        order, events = changed
        work.record(events)
        return order

    def _react_to_credit(
        self,
        work: Work,
        calls: Calls,
        order: Order,
        decision: CreditDecision,
        *,
        still: Callable[[Work], bool],
    ) -> tuple[Order, tuple[Shortfall, ...]]:
        """Move the order as the credit decision says; reserve its stock once approved."""
        response = apply_credit_decision(order, decision, on=work.today)
        work.record(response.events)
        order = response.order
        notice = response.notice
        if notice is not None:
            work.notify(
                f"{order.order_id}:{notice.key}",
                order.customer_id,
                notice.template,
                order_id=order.order_id,
                reason=notice.reason,
            )
        if not response.approved:
            return order, ()
        return self._reserve(work, calls, order, still=still)

    def _reserve(
        self, work: Work, calls: Calls, order: Order, *, still: Callable[[Work], bool]
    ) -> tuple[Order, tuple[Shortfall, ...]]:
        """Reserve every open line; report and handle what stock cannot cover.

        Every product is looked up first (an unknown one refuses the order before anything is
        reserved); the reservations are recorded as intents, then made.
        """
        inventory = self._adapters.inventory
        open_lines = [line for line in order.lines if line.shippable_quantity > 0]
        for line in open_lines:
            inventory.stock(line.product_id)
        taken = {
            call.idempotency_key
            for call in work.uow.calls.of_subject(order.order_id)
            if call.adapter == "inventory" and call.operation == "reserve"
        }
        intents = []
        for line in open_lines:
            key = reservation_id(order.order_id, line.line_id)
            generation = 1
            while key in taken:
                generation += 1
                key = f"{reservation_id(order.order_id, line.line_id)}#{generation}"
            arguments = {
                "line_id": line.line_id,
                "product_id": line.product_id,
                "quantity": str(line.shippable_quantity),
            }
            intents.append(Intent("inventory", "reserve", key, order.order_id, arguments))
        records = calls.begin(intents, still=still)
        shortfalls: list[Shortfall] = []
        policy = self._settings.out_of_stock
        for line, record in zip(open_lines, records, strict=True):
            wanted = line.shippable_quantity
            reservation = calls.call(
                record,
                partial(
                    inventory.reserve,
                    record.idempotency_key,
                    order_id=order.order_id,
                    line_id=line.line_id,
                    product_id=line.product_id,
                    quantity=wanted,
                ),
            )
            short = reservation.back_ordered
            if short <= 0:
                continue
            if policy is OutOfStockPolicy.CANCEL:
                order = self._step(work, order.cancel_line(line.line_id, short, on=work.today))
            else:
                order = self._step(work, order.back_order(line.line_id, short, on=work.today))
            shortfalls.append(Shortfall(line.line_id, line.product_id, short, policy))
            work.notify(
                f"{order.order_id}/{line.line_id}:out_of_stock",
                order.customer_id,
                "order.line_out_of_stock",
                order_id=order.order_id,
                line_id=line.line_id,
                product_id=line.product_id,
                missing=str(short),
                action=policy.value,
            )
        return order, tuple(shortfalls)

    def _check_held(
        self, order_id: str, wanted: Mapping[str, Decimal], reservations: Mapping[str, str]
    ) -> None:
        """Refuse a shipment of more than the lines' reservations hold, before anything moves."""
        inventory = self._adapters.inventory
        for line_id, quantity in wanted.items():
            try:
                held = inventory.held(reservations[line_id])
            except NotFound as missing:
                raise InsufficientStock(order_id, line_id, missing.message) from missing
            if held < quantity:
                raise InsufficientStock(
                    order_id, line_id, f"{quantity} to ship but only {held} is reserved"
                )

    @staticmethod
    def _new_shipment_id(uow: UnitOfWork, order_id: str, made: Sequence[ExternalCall]) -> str:
        """The next shipment id of the order that no booking was ever asked for.

        A booking undone when its command failed keeps its id, so the carrier is never handed
        a cancelled booking back.
        """
        asked = {
            call.call_id for call in made if call.adapter == "carrier" and call.operation == "book"
        }
        number = len(uow.shipments.of_order(order_id)) + 1
        while call_id("carrier", "book", f"{order_id}-SH{number}") in asked:
            number += 1
        return f"{order_id}-SH{number}"

    def _choose_service(self, request: ShipmentRequest, service: str | None) -> str:
        """The cheapest service the carrier quotes, or the one asked for if it is quoted."""
        quotes = self._adapters.carrier.quote(request)
        if not quotes:
            raise NoCarrierService(request.shipment_id)
        if service is None:
            return min(quotes, key=lambda quote: quote.price.amount).service
        if any(quote.service == service for quote in quotes):
            return service
        raise NoCarrierService(request.shipment_id, service)

    def _release(self, work: Work, calls: Calls, order: Order) -> None:
        """Release the order's reservations once the cancellation is committed."""
        line_ids = [line.line_id for line in order.lines]
        made = work.uow.calls.of_subject(order.order_id)
        for key in _reservations(made, order.order_id, line_ids).values():
            calls.after_commit(Intent("inventory", "release", key, order.order_id))

    def _require_prepayment(self, work: Work, order: Order) -> None:
        """A cash-in-advance order ships once what its invoices ask in advance is settled."""
        invoices = work.uow.invoices.of_order(order.order_id)
        awaited = prepayment_awaited(order, invoices)
        if awaited is not None:
            raise ShipmentAwaitsPayment(order.order_id, str(awaited))


def _unchanged(stored: Order) -> Callable[[Work], bool]:
    """Whether the order is still as the command read it (checked after intents are recorded)."""
    return lambda work: work.uow.orders.find(stored.order_id) == stored
