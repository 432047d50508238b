"""Application errors: a command was refused for a reason that is not a domain rule.

Every error here derives from :class:`ApplicationError`, a frozen exception with fields and a
message a person can act on, and, like every error o2c raises, from
:class:`~o2c.domain.errors.O2CError`. Domain errors (:class:`~o2c.domain.errors.DomainError`)
pass through the services unchanged, and adapter errors that the services cannot explain better
pass through as the ports' :class:`~o2c.ports.errors.AdapterError` family. Whatever is raised,
the command's unit of work rolls back: nothing it did is saved.
"""

from __future__ import annotations

import attrs

from o2c.domain.errors import O2CError
from o2c.domain.redaction import masked_text

__all__ = [
    "ApplicationError",
    "CreditBlocked",
    "CustomerExists",
    "GatewayDeclined",
    "GatewayOutcomePending",
    "GatewayReceipt",
    "IdempotencyKeyReused",
    "InsufficientStock",
    "InvalidSettings",
    "MissingAddress",
    "MissingIdempotencyKey",
    "NoCarrierService",
    "NotASuggestion",
    "NotQueued",
    "NothingToApply",
    "OrderExists",
    "ShipmentAwaitsPayment",
    "UnknownCustomer",
    "UnknownInvoice",
    "UnknownOrder",
    "UnknownPayment",
    "UnknownReceipt",
    "UnknownShipment",
]


@attrs.frozen
class ApplicationError(O2CError):
    """Base of every error the application services raise themselves."""

    def describe(self) -> str:
        """A sentence saying what was refused and why."""
        return type(self).__name__

    def __str__(self) -> str:
        return self.describe()


@attrs.frozen
class UnknownCustomer(ApplicationError):
    """No customer is registered under this id."""

    customer_id: str

    def describe(self) -> str:
        return f"no customer is registered as {self.customer_id!r}"


@attrs.frozen
class CustomerExists(ApplicationError):
    """A customer with this id is registered already."""

    customer_id: str

    def describe(self) -> str:
        return f"customer {self.customer_id!r} is registered already"


@attrs.frozen
class UnknownOrder(ApplicationError):
    """No order has this id."""

    order_id: str

    def describe(self) -> str:
        return f"there is no order {self.order_id!r}"


@attrs.frozen
class OrderExists(ApplicationError):
    """An order with this id was placed already (under another idempotency key)."""

    order_id: str

    def describe(self) -> str:
        return f"order {self.order_id!r} exists already"


@attrs.frozen
class UnknownInvoice(ApplicationError):
    """No issued invoice has this number."""

    invoice_number: str

    def describe(self) -> str:
        return f"there is no invoice {self.invoice_number!r}"


@attrs.frozen
class UnknownPayment(ApplicationError):
    """No card payment has this id (or gateway reference)."""

    payment_id: str

    def describe(self) -> str:
        return f"there is no card payment {self.payment_id!r}"


@attrs.frozen
class UnknownReceipt(ApplicationError):
    """No receipt has this id."""

    receipt_id: str

    def describe(self) -> str:
        return f"there is no receipt {self.receipt_id!r}"


@attrs.frozen
class UnknownShipment(ApplicationError):
    """No shipment has this id."""

    shipment_id: str

    def describe(self) -> str:
        return f"there is no shipment {self.shipment_id!r}"


@attrs.frozen
class CreditBlocked(ApplicationError):
    """The order waits for credit (a review or a hold) and may not go ahead yet."""

    order_id: str
    status: str
    reasons: tuple[str, ...] = ()

    def describe(self) -> str:
        why = f": {'; '.join(self.reasons)}" if self.reasons else ""
        return f"order {self.order_id} is blocked by credit ({self.status}){why}"


@attrs.frozen
class ShipmentAwaitsPayment(ApplicationError):
    """A cash-in-advance order ships only once its prepayment is received."""

    order_id: str
    outstanding: str

    def describe(self) -> str:
        return (
            f"order {self.order_id} is on cash-in-advance terms: {self.outstanding} must be "
            "paid before it ships"
        )


@attrs.frozen
class MissingAddress(ApplicationError):
    """The customer has no address to ship to."""

    customer_id: str

    def describe(self) -> str:
        return f"customer {self.customer_id} has no delivery address"


@attrs.frozen
class NoCarrierService(ApplicationError):
    """The carrier offers no service (or not the one asked for) for the shipment."""

    shipment_id: str
    service: str | None = None

    def describe(self) -> str:
        if self.service is None:
            return f"the carrier offers no service for shipment {self.shipment_id}"
        return f"the carrier does not offer {self.service!r} for shipment {self.shipment_id}"


@attrs.frozen
class InsufficientStock(ApplicationError):
    """Inventory could not release the goods for a shipment (less is reserved than shipped)."""

    order_id: str
    line_id: str
    message: str

    def describe(self) -> str:
        return f"order {self.order_id} line {self.line_id} cannot ship: {self.message}"


@attrs.frozen
class GatewayDeclined(ApplicationError):
    """The payment gateway declined the request; nothing was recorded."""

    payment_id: str
    operation: str
    decline_code: str | None = None
    message: str = attrs.field(default="", converter=masked_text)
    """The gateway's words, with any card number in them masked to its last four digits."""

    def describe(self) -> str:
        code = f" ({self.decline_code})" if self.decline_code else ""
        detail = f": {self.message}" if self.message else ""
        return (
            f"the gateway declined the {self.operation} of payment {self.payment_id}{code}{detail}"
        )


@attrs.frozen
class GatewayOutcomePending(ApplicationError):
    """The gateway did not say how a capture, void or refund ended: retry the same command.

    The retry sends the same gateway idempotency key, so the money moves at most once.
    """

    payment_id: str
    operation: str

    def describe(self) -> str:
        return (
            f"the outcome of the {self.operation} of payment {self.payment_id} is not known yet; "
            "retry the command with the same idempotency key"
        )


@attrs.frozen
class GatewayReceipt(ApplicationError):
    """Card or wallet money the gateway holds cannot leave as a bank bounce or a bank refund.

    The gateway still holds that money: it leaves only through the gateway (a card refund, or a
    chargeback the gateway reports), so that the gateway clearing account keeps matching it.
    """

    receipt_id: str
    operation: str
    payment_id: str | None = None

    def describe(self) -> str:
        paid_by = f" of payment {self.payment_id}" if self.payment_id else ""
        how = (
            f"refund payment {self.payment_id} through the card service"
            if self.payment_id
            else "refund it through the gateway"
        )
        return (
            f"receipt {self.receipt_id} is card money{paid_by} that the gateway holds; "
            f"it cannot take a {self.operation}: {how}, or let the gateway report a chargeback"
        )


@attrs.frozen
class NothingToApply(ApplicationError):
    """A receipt or payment has nothing left that the request could use."""

    document_id: str
    reason: str

    def describe(self) -> str:
        return f"{self.document_id}: {self.reason}"


@attrs.frozen
class IdempotencyKeyReused(ApplicationError):
    """An idempotency key that ran one command was sent again with a different request."""

    key: str
    command: str

    def describe(self) -> str:
        return (
            f"idempotency key {self.key!r} was used for a different {self.command} request; "
            "use a new key for a new request"
        )


@attrs.frozen
class MissingIdempotencyKey(ApplicationError, ValueError):
    """A command sent without an idempotency key (or with an empty, blank or non-text one).

    Also a :class:`ValueError`, which is what this refusal was before it had a name of its own.
    """

    command: str

    def describe(self) -> str:
        return (
            f"every command needs an idempotency key of non-blank text; {self.command} was sent "
            "without one"
        )


@attrs.frozen
class InvalidSettings(ApplicationError, ValueError):
    """A business setting the services cannot work with (a number format without a number).

    Also a :class:`ValueError`, which is what a refused attrs field raises elsewhere.
    """

    field: str
    reason: str

    def describe(self) -> str:
        return f"invalid setting {self.field}: {self.reason}"


@attrs.frozen
class CallUndone(ApplicationError):
    """A command retried after the call it made to another system was undone (compensated).

    The command did not commit and its effect outside was reversed, so repeating the same request
    would be handed the reversed answer back; send it as a new request (a new idempotency key).
    """

    call_id: str
    command: str

    def describe(self) -> str:
        return (
            f"{self.command} made call {self.call_id}, which was undone because the command never "
            "committed; run it again under a new idempotency key"
        )


@attrs.frozen
class NotQueued(ApplicationError):
    """The receipt is not waiting in the exception queue (never queued, or worked off)."""

    receipt_id: str
    reason: str = "it is not in the exception queue"

    def describe(self) -> str:
        return f"receipt {self.receipt_id!r}: {self.reason}"


@attrs.frozen
class NotASuggestion(ApplicationError):
    """A person accepted an item the matching ladder did not suggest for the receipt."""

    receipt_id: str
    item_id: str
    suggested: tuple[str, ...]

    def describe(self) -> str:
        offered = ", ".join(self.suggested) or "nothing"
        return (
            f"{self.item_id!r} is not a suggestion for receipt {self.receipt_id!r} "
            f"(suggested: {offered}); allocate it by hand instead"
        )
