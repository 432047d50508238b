"""Quotes: priced offers that a customer accepts, rejects or lets expire.

A :class:`Quote` has the same lines as an order (:class:`~o2c.domain.orders.OrderLine`) and a
validity date. It moves through :data:`QUOTE_LIFECYCLE`: it is drafted, sent, then accepted,
rejected or expired; an accepted quote is converted into an order exactly once.

Expiry is decided from dates passed in, never from a clock: a quote is valid up to and including
``valid_until``. :meth:`Quote.expire` is refused on or before that day, and :meth:`Quote.accept`
is refused after it, even if nobody has expired the quote yet.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date

import attrs

from o2c.domain.errors import InvalidInput, QuoteNoLongerValid, QuoteStillValid
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.lifecycle import Lifecycle
from o2c.domain.money import Currency
from o2c.domain.orders import (
    InvoicingPolicy,
    Order,
    OrderLine,
    OrderTotals,
    check_lines,
    estimate_totals,
)

__all__ = [
    "QUOTE_LIFECYCLE",
    "Quote",
    "QuoteAccepted",
    "QuoteConverted",
    "QuoteCreated",
    "QuoteExpired",
    "QuoteRejected",
    "QuoteSent",
    "QuoteStatus",
    "QuoteTrigger",
]


class QuoteStatus(enum.Enum):
    """Where a quote stands."""

    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CONVERTED = "converted"


class QuoteTrigger(enum.Enum):
    """What moves a quote."""

    SEND = "send"
    ACCEPT = "accept"
    REJECT = "reject"
    EXPIRE = "expire"
    CONVERT = "convert"


_S = QuoteStatus
_T = QuoteTrigger

#: The quote lifecycle.
QUOTE_LIFECYCLE: Lifecycle[QuoteStatus, QuoteTrigger] = Lifecycle.of(
    "quote",
    _S.DRAFT,
    [
        (_S.DRAFT, _T.SEND, _S.SENT),
        (_S.SENT, _T.ACCEPT, _S.ACCEPTED),
        (_S.SENT, _T.REJECT, _S.REJECTED),
        ((_S.DRAFT, _S.SENT), _T.EXPIRE, _S.EXPIRED),
        (_S.ACCEPTED, _T.CONVERT, _S.CONVERTED),
    ],
)


@attrs.frozen
class QuoteCreated(DomainEvent):
    """A quote was drafted."""

    quote_id: str
    customer_id: str
    on: date


@attrs.frozen
class QuoteSent(DomainEvent):
    """The quote went to the customer."""

    quote_id: str
    valid_until: date
    on: date


@attrs.frozen
class QuoteAccepted(DomainEvent):
    """The customer accepted the quote within its validity."""

    quote_id: str
    on: date


@attrs.frozen
class QuoteRejected(DomainEvent):
    """The customer declined the quote."""

    quote_id: str
    reason: str
    on: date


@attrs.frozen
class QuoteExpired(DomainEvent):
    """The quote's validity ran out before the customer accepted it."""

    quote_id: str
    valid_until: date
    on: date


@attrs.frozen
class QuoteConverted(DomainEvent):
    """The accepted quote became the order ``order_id``."""

    quote_id: str
    order_id: str
    on: date


@attrs.frozen
class Quote:
    """A priced offer to a customer, valid up to and including ``valid_until``."""

    quote_id: str
    customer_id: str
    created_on: date
    valid_until: date
    lines: tuple[OrderLine, ...]
    status: QuoteStatus = QuoteStatus.DRAFT
    order_id: str | None = None
    """The order the quote was converted into."""

    def __attrs_post_init__(self) -> None:
        if not self.quote_id or not self.customer_id:
            raise InvalidInput(
                field="quote", value=self.quote_id, reason="needs a quote id and a customer id"
            )
        if self.valid_until < self.created_on:
            raise InvalidInput(
                field="valid until",
                value=self.valid_until.isoformat(),
                reason=f"before the quote's date {self.created_on.isoformat()}",
            )
        check_lines(self.quote_id, self.lines)
        for line in self.lines:
            if line.has_progress:
                raise InvalidInput(
                    field="quote line", value=line.line_id, reason="a quote line has no progress"
                )

    @classmethod
    def create(
        cls,
        quote_id: str,
        customer_id: str,
        lines: Iterable[OrderLine],
        *,
        valid_until: date,
        on: date,
    ) -> Changed[Quote]:
        """A draft quote. Refuses no lines, duplicate line ids and mixed currencies."""
        quote = cls(quote_id, customer_id, on, valid_until, tuple(lines))
        return Changed(quote, (QuoteCreated(quote_id, customer_id, on),))

    @property
    def currency(self) -> Currency:
        """The currency of every line."""
        return self.lines[0].currency

    @property
    def totals(self) -> OrderTotals:
        """Net, estimated tax and gross, computed as for an order."""
        return estimate_totals(self.lines, self.currency)

    def is_valid_on(self, day: date) -> bool:
        """Whether the offer still stands on ``day`` (validity includes ``valid_until``)."""
        return self.created_on <= day <= self.valid_until

    def send(self, *, on: date) -> Changed[Quote]:
        """Send the quote to the customer."""
        status = self._next(_T.SEND, on)
        event = QuoteSent(self.quote_id, self.valid_until, on)
        return Changed(attrs.evolve(self, status=status), (event,))

    def accept(self, *, on: date) -> Changed[Quote]:
        """The customer accepts; refused with :class:`QuoteNoLongerValid` after ``valid_until``."""
        status = self._next(_T.ACCEPT, on)
        if on > self.valid_until:
            raise QuoteNoLongerValid(
                quote_id=self.quote_id,
                valid_until=self.valid_until.isoformat(),
                on=on.isoformat(),
            )
        return Changed(attrs.evolve(self, status=status), (QuoteAccepted(self.quote_id, on),))

    def reject(self, *, on: date, reason: str = "") -> Changed[Quote]:
        """The customer declines."""
        status = self._next(_T.REJECT, on)
        event = QuoteRejected(self.quote_id, reason, on)
        return Changed(attrs.evolve(self, status=status), (event,))

    def expire(self, *, on: date) -> Changed[Quote]:
        """Mark the quote expired; refused with :class:`QuoteStillValid` until after its date."""
        status = self._next(_T.EXPIRE, on)
        if on <= self.valid_until:
            raise QuoteStillValid(
                quote_id=self.quote_id,
                valid_until=self.valid_until.isoformat(),
                on=on.isoformat(),
            )
        event = QuoteExpired(self.quote_id, self.valid_until, on)
        return Changed(attrs.evolve(self, status=status), (event,))

    def to_order(
        self,
        order_id: str,
        *,
        on: date,
        place: bool = False,
        invoicing_policy: InvoicingPolicy = InvoicingPolicy.ON_SHIPMENT,
    ) -> Changed[tuple[Quote, Order]]:
        """Convert the accepted quote into a draft order, or a placed one with ``place=True``.

        Returns the converted quote and the new order, with the events of both.
        """
        status = self._next(_T.CONVERT, on)
        order, order_events = Order.create(
            order_id,
            self.customer_id,
            self.lines,
            on=on,
            invoicing_policy=invoicing_policy,
            quote_id=self.quote_id,
        )
        events: tuple[DomainEvent, ...] = (QuoteConverted(self.quote_id, order_id, on),)
        events += order_events
        if place:
            order, placed_events = order.place(on=on)
            events += placed_events
        quote = attrs.evolve(self, status=status, order_id=order_id)
        return Changed((quote, order), events)

    def _next(self, trigger: QuoteTrigger, on: date) -> QuoteStatus:
        status = QUOTE_LIFECYCLE.next_state(self.status, trigger, entity_id=self.quote_id)
        if on < self.created_on:
            raise InvalidInput(
                field="date",
                value=on.isoformat(),
                reason=f"before the quote was created on {self.created_on.isoformat()}",
            )
        return status
