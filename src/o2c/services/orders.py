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

import contextlib
from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs

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
from o2c.ports.carriers import Booking, Parcel, Shipment, ShipmentRequest, TrackingStatus
from o2c.ports.errors import AdapterError, AdapterRejected, NotFound
from o2c.services import _common
from o2c.services._runtime import Runtime, Work
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

__all__ = ["OrderService", "reservation_id"]


def reservation_id(order_id: str, line_id: str) -> str:
    """The inventory reservation of an order line (stable, so reserving again is a no-op)."""
    return f"{order_id}/{line_id}"


class OrderService:
    """Places, reviews, ships and tracks orders."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

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

        def body(work: Work) -> OrderPlacement:
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
            if uow.credit_accounts.find(customer_id) is None:
                uow.credit_accounts.save(customer_id, account)
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
            order, shortfalls = self._react_to_credit(work, order, decision)
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
        return self._runtime.execute("place_order", idempotency_key, request, OrderPlacement, body)

    def approve_order(self, order_id: str, *, idempotency_key: str) -> OrderUpdate:
        """A person approves an order waiting for credit review (or on hold); stock is reserved."""

        def body(work: Work) -> OrderUpdate:
            order = _common.order(work.uow, order_id)
            order = self._step(work, order.approve(on=work.today))
            order, shortfalls = self._reserve(work, order)
            work.uow.orders.save(order.order_id, order)
            return OrderUpdate(order_id, order.status, shortfalls)

        return self._runtime.execute("approve_order", idempotency_key, order_id, OrderUpdate, body)

    def reject_order(self, order_id: str, *, reason: str, idempotency_key: str) -> OrderUpdate:
        """A person turns down an order waiting for credit: it is cancelled, the customer told."""

        def body(work: Work) -> OrderUpdate:
            order = _common.order(work.uow, order_id)
            order = self._step(work, order.cancel(on=work.today, reason=reason))
            self._release(order)
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
        return self._runtime.execute("reject_order", idempotency_key, request, OrderUpdate, body)

    def recheck_credit(self, order_id: str, *, idempotency_key: str) -> OrderUpdate:
        """Decide credit again for an order on hold or in review (say, after the customer paid).

        The order reacts as on placement (:data:`~o2c.domain.order_credit.CREDIT_REACTIONS`): an
        approval releases it and reserves its stock, a review hands it to a person, a hold puts
        it on hold (an order already held stays held, the customer is not told twice) and a
        denial cancels it and tells the customer why.
        """

        def body(work: Work) -> OrderUpdate:
            uow = work.uow
            order = _common.order(uow, order_id)
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
            order, shortfalls = self._react_to_credit(work, order, decision)
            uow.orders.save(order.order_id, order)
            return OrderUpdate(order_id, order.status, shortfalls)

        return self._runtime.execute("recheck_credit", idempotency_key, order_id, OrderUpdate, body)

    def cancel_order(self, order_id: str, *, reason: str, idempotency_key: str) -> OrderUpdate:
        """Cancel an order before anything shipped; its reservations are released."""

        def body(work: Work) -> OrderUpdate:
            order = _common.order(work.uow, order_id)
            order = self._step(work, order.cancel(on=work.today, reason=reason))
            self._release(order)
            work.uow.orders.save(order.order_id, order)
            return OrderUpdate(order_id, order.status)

        request = (order_id, reason)
        return self._runtime.execute("cancel_order", idempotency_key, request, OrderUpdate, body)

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

        The carrier quotes the shipment and books ``service`` (default: the cheapest); the
        reserved stock is committed and the order records the fulfilment under the shipment id.
        Raises :class:`CreditBlocked` for an order waiting for credit,
        :class:`ShipmentAwaitsPayment` for an unpaid cash-in-advance order,
        :class:`MissingAddress`, :class:`NoCarrierService` and :class:`InsufficientStock`. If
        committing stock fails after the booking, the booking is cancelled again.
        """

        def body(work: Work) -> ShipmentResult:
            uow = work.uow
            order = _common.order(uow, order_id)
            if order.waits_for_credit:
                raise CreditBlocked(order_id, order.status.value)
            customer = _common.customer(uow, order.customer_id)
            if customer.terms.requires_prepayment:
                self._require_prepayment(work, order)
            if customer.address is None:
                raise MissingAddress(customer.customer_id)
            wanted = (
                {line_id: to_quantity(q) for line_id, q in quantities.items()}
                if quantities is not None
                else order.shippable_quantities()
            )
            shipment_id = f"{order_id}-SH{len(uow.shipments.of_order(order_id)) + 1}"
            # Everything that can refuse the shipment is checked before the carrier is booked
            # and before any stock leaves: the domain first, then what inventory holds.
            order = self._step(work, order.fulfil(wanted, on=work.today, shipment_id=shipment_id))
            self._check_held(order_id, wanted)
            request = ShipmentRequest(
                shipment_id,
                order_id,
                self._settings.ship_from,
                customer.address,
                tuple(parcels),
                work.today,
            )
            booking = self._book(request, service)
            lines = tuple(LineQuantity(line_id, q) for line_id, q in wanted.items())
            uow.shipments.add(
                shipment_id, Shipment(shipment_id, order_id, lines, booking, work.today)
            )
            uow.orders.save(order.order_id, order)
            # Stock is committed last: it is the one step no port can undo.
            self._commit_stock(order_id, wanted, booking.tracking_number)
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
        return self._runtime.execute("ship_order", idempotency_key, request, ShipmentResult, body)

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
        self, work: Work, order: Order, decision: CreditDecision
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
        return self._reserve(work, order)

    def _reserve(self, work: Work, order: Order) -> tuple[Order, tuple[Shortfall, ...]]:
        """Reserve every open line; report and handle what stock cannot cover."""
        shortfalls: list[Shortfall] = []
        policy = self._settings.out_of_stock
        for line in order.lines:
            wanted = line.shippable_quantity
            if wanted <= 0:
                continue
            reservation = self._adapters.inventory.reserve(
                reservation_id(order.order_id, line.line_id),
                order_id=order.order_id,
                line_id=line.line_id,
                product_id=line.product_id,
                quantity=wanted,
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

    def _check_held(self, order_id: str, wanted: Mapping[str, Decimal]) -> None:
        """Refuse a shipment of more than the lines' reservations hold, before anything moves."""
        inventory = self._adapters.inventory
        for line_id, quantity in wanted.items():
            try:
                held = inventory.held(reservation_id(order_id, line_id))
            except NotFound as missing:
                raise InsufficientStock(order_id, line_id, missing.message) from missing
            if held < quantity:
                raise InsufficientStock(
                    order_id, line_id, f"{quantity} to ship but only {held} is reserved"
                )

    def _book(self, request: ShipmentRequest, service: str | None) -> Booking:
        """Book the cheapest service the carrier quotes, or the one asked for."""
        carrier = self._adapters.carrier
        quotes = carrier.quote(request)
        if not quotes:
            raise NoCarrierService(request.shipment_id)
        if service is None:
            chosen = min(quotes, key=lambda quote: quote.price.amount).service
        elif any(quote.service == service for quote in quotes):
            chosen = service
        else:
            raise NoCarrierService(request.shipment_id, service)
        return carrier.book(request, chosen)

    def _commit_stock(
        self, order_id: str, wanted: Mapping[str, Decimal], tracking_number: str
    ) -> None:
        """Take the shipped goods out of stock; if inventory refuses, cancel the booking.

        The reservations were checked just before, so a refusal here means stock was taken
        meanwhile by someone else; the lines committed before it cannot be taken back through
        the port, which is why this runs after every other step of the shipment.
        """
        inventory = self._adapters.inventory
        try:
            for line_id, quantity in wanted.items():
                try:
                    inventory.commit(reservation_id(order_id, line_id), quantity)
                except AdapterRejected as refused:
                    raise InsufficientStock(order_id, line_id, refused.message) from refused
        except Exception:
            # if the cancel fails too, the booking stays: a retry books the same shipment id
            with contextlib.suppress(AdapterError):
                self._adapters.carrier.cancel(tracking_number)
            raise

    def _release(self, order: Order) -> None:
        for line in order.lines:
            self._adapters.inventory.release(reservation_id(order.order_id, line.line_id))

    def _require_prepayment(self, work: Work, order: Order) -> None:
        """A cash-in-advance order ships once what its invoices ask in advance is settled."""
        invoices = work.uow.invoices.of_order(order.order_id)
        awaited = prepayment_awaited(order, invoices)
        if awaited is not None:
            raise ShipmentAwaitsPayment(order.order_id, str(awaited))
