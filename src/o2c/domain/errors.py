"""Every error the o2c domain raises, in one module, and the root of every error o2c raises.

:class:`O2CError` is the base of everything o2c raises on purpose; it lives here because the domain
is the innermost layer, so every other layer can import it. Beneath it are five families: domain
errors (this module), application errors (:mod:`o2c.services.errors`), adapter and plugin errors
(:mod:`o2c.ports.errors`) and configuration errors (:mod:`o2c.config`).

All the errors of this module derive from :class:`DomainError`. They are frozen attrs exceptions
whose fields say what went wrong in machine-readable form; ``str(error)`` reads as a sentence for a
person. A domain error means the input was refused and nothing changed: domain operations return
new values, so the state the caller holds is untouched.

New errors are appended at the end of the module, grouped under a comment naming their area.
"""

from __future__ import annotations

import attrs


class O2CError(Exception):
    """The base of everything o2c raises on purpose: catch it to catch any refusal of o2c.

    It has no fields and no behaviour of its own; each family beneath it brings its own.
    """


@attrs.frozen
class DomainError(O2CError):
    """Base of every error the domain raises: input refused, state unchanged."""

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """A sentence for a person; subclasses say what was refused and why."""
        return self.__class__.__name__


@attrs.frozen
class InvalidInput(DomainError):
    """A value that breaks a rule of the domain (a generic refusal with a field and a reason)."""

    field: str
    value: str
    reason: str

    def describe(self) -> str:
        return f"invalid {self.field} {self.value!r}: {self.reason}"


# --- money ------------------------------------------------------------------------------------


@attrs.frozen
class InvalidAmount(DomainError):
    """An amount that is not a finite exact number (a float, NaN, text that is no number)."""

    value: str
    reason: str

    def describe(self) -> str:
        return f"invalid amount {self.value}: {self.reason}"


@attrs.frozen
class UnknownCurrency(DomainError):
    """A currency code that is not in ISO 4217."""

    code: str

    def describe(self) -> str:
        return f"unknown currency {self.code!r}"


@attrs.frozen
class CurrencyMismatch(DomainError, TypeError):
    """Two amounts of different currencies met where one currency is required.

    Also a :class:`TypeError`, which is what arithmetic across currencies raised before o2c
    checked currencies itself, so code that catches ``TypeError`` keeps working.
    """

    expected: str
    actual: str

    def describe(self) -> str:
        return f"currency mismatch: expected {self.expected}, got {self.actual}"


@attrs.frozen
class ExcessPrecision(DomainError):
    """An amount with more decimals than allowed (the currency's minor unit, or a unit price's)."""

    amount: str
    currency: str
    allowed_decimals: int

    def describe(self) -> str:
        return f"{self.amount} {self.currency} has more than {self.allowed_decimals} decimal places"


# --- lifecycles -------------------------------------------------------------------------------


@attrs.frozen
class IllegalTransition(DomainError):
    """A trigger that the entity's lifecycle does not allow in its current state."""

    entity: str
    entity_id: str | None
    state: str
    trigger: str
    allowed: tuple[str, ...]

    def describe(self) -> str:
        who = f"{self.entity} {self.entity_id}" if self.entity_id else self.entity
        allowed = ", ".join(self.allowed) if self.allowed else "nothing (final state)"
        return f"{who} cannot {self.trigger!r} while {self.state!r}; allowed: {allowed}"


# --- receivables ------------------------------------------------------------------------------


@attrs.frozen
class OverAllocation(DomainError):
    """More money allocated to an open item than it has open (or reopened beyond its original)."""

    item_id: str
    open: str
    requested: str

    def describe(self) -> str:
        return f"cannot allocate {self.requested} to {self.item_id}: only {self.open} can take it"


# --- orders and quotes ------------------------------------------------------------------------


@attrs.frozen
class InvalidQuantity(InvalidInput):
    """A quantity that is not a positive, finite Decimal (zero, negative, a float, too precise)."""


@attrs.frozen
class EmptyOrder(DomainError):
    """An order or quote without a single line."""

    document_id: str

    def describe(self) -> str:
        return f"{self.document_id} has no lines; it needs at least one"


@attrs.frozen
class DuplicateLine(DomainError):
    """Two lines of one order or quote with the same line id."""

    document_id: str
    line_id: str

    def describe(self) -> str:
        return f"{self.document_id} already has a line {self.line_id!r}"


@attrs.frozen
class UnknownLine(DomainError):
    """A line id that the order or quote does not have."""

    document_id: str
    line_id: str

    def describe(self) -> str:
        return f"{self.document_id} has no line {self.line_id!r}"


@attrs.frozen
class AmendmentNotAllowed(DomainError):
    """An amendment of an order whose fulfilment or invoicing has already started."""

    order_id: str
    reason: str

    def describe(self) -> str:
        return f"order {self.order_id} can no longer be amended: {self.reason}"


@attrs.frozen
class OrderQuantityExceeded(DomainError):
    """More of an order line requested than the line has available for that step."""

    order_id: str
    line_id: str
    requested: str
    available: str

    def action(self) -> str:
        """The refused step as a verb (subclasses name theirs)."""
        return "use"

    def describe(self) -> str:
        return (
            f"cannot {self.action()} {self.requested} of line {self.line_id!r} of order "
            f"{self.order_id}: only {self.available} can be"
        )


@attrs.frozen
class OverFulfilment(OrderQuantityExceeded):
    """A shipment of more than the line still has open."""

    def action(self) -> str:
        return "fulfil"


@attrs.frozen
class OverInvoicing(OrderQuantityExceeded):
    """An invoice for more than the line's invoicing policy allows."""

    def action(self) -> str:
        return "invoice"


@attrs.frozen
class OverReturn(OrderQuantityExceeded):
    """A return of more than was shipped and not yet returned."""

    def action(self) -> str:
        return "return"


@attrs.frozen
class OverCancellation(OrderQuantityExceeded):
    """A cancellation of more than is open and not yet invoiced."""

    def action(self) -> str:
        return "cancel"


@attrs.frozen
class OverBackOrder(OrderQuantityExceeded):
    """A back-order of more than is open and not yet back-ordered."""

    def action(self) -> str:
        return "back-order"


@attrs.frozen
class QuoteNoLongerValid(DomainError):
    """An attempt to accept a quote after its validity date."""

    quote_id: str
    valid_until: str
    on: str

    def describe(self) -> str:
        return f"quote {self.quote_id} was valid until {self.valid_until}; it is {self.on}"


@attrs.frozen
class QuoteStillValid(DomainError):
    """An attempt to expire a quote on or before its validity date."""

    quote_id: str
    valid_until: str
    on: str

    def describe(self) -> str:
        return f"quote {self.quote_id} is valid until {self.valid_until}; not expired on {self.on}"


# --- payments ---------------------------------------------------------------------------------


@attrs.frozen
class IdempotencyConflict(DomainError):
    """An idempotency key used again for a different request (another kind, amount or reference)."""

    entity: str
    entity_id: str
    key: str
    recorded: str
    attempted: str

    def describe(self) -> str:
        return (
            f"{self.entity} {self.entity_id}: idempotency key {self.key!r} was used for "
            f"{self.recorded}, not {self.attempted}"
        )


@attrs.frozen
class OverCapture(DomainError):
    """A capture that would take more than the authorised amount, counting earlier captures."""

    payment_id: str
    authorised: str
    captured: str
    requested: str

    def describe(self) -> str:
        return (
            f"payment {self.payment_id}: cannot capture {self.requested}; "
            f"{self.captured} of {self.authorised} authorised is already captured"
        )


@attrs.frozen
class OverRefund(DomainError):
    """A refund (or chargeback) of more than was captured and not yet given back."""

    payment_id: str
    refundable: str
    requested: str

    def describe(self) -> str:
        return (
            f"payment {self.payment_id}: cannot give back {self.requested}; "
            f"only {self.refundable} is captured and not yet refunded"
        )


@attrs.frozen
class PaymentOutcomeUnknown(DomainError):
    """An operation on a payment whose last gateway call has no known outcome yet."""

    payment_id: str
    pending: str
    attempted: str

    def describe(self) -> str:
        return (
            f"payment {self.payment_id}: cannot {self.attempted} while the outcome of "
            f"{self.pending} is unknown; resolve it from the gateway's status first"
        )


@attrs.frozen
class MultipleCapturesUnsupported(DomainError):
    """A further capture on a payment whose gateway allows one capture per authorisation."""

    payment_id: str

    def describe(self) -> str:
        return f"payment {self.payment_id}: the gateway allows a single capture per authorisation"


@attrs.frozen
class AuthorisationExpired(DomainError):
    """A capture after the authorisation expired (or a claimed expiry before its time)."""

    payment_id: str
    expires_at: str
    at: str

    def describe(self) -> str:
        return (
            f"payment {self.payment_id}: authorisation expires at {self.expires_at}, not {self.at}"
        )


# --- ledger -----------------------------------------------------------------------------------


@attrs.frozen
class UnbalancedEntry(DomainError):
    """A journal entry whose debits and credits differ in one currency."""

    entry_id: str
    currency: str
    debits: str
    credits: str

    def describe(self) -> str:
        return (
            f"journal entry {self.entry_id} does not balance in {self.currency}: "
            f"debits {self.debits}, credits {self.credits}"
        )


@attrs.frozen
class UnmappedAccountRole(DomainError):
    """A posting rule needs an account role that the chart of accounts does not map."""

    role: str

    def describe(self) -> str:
        return f"the chart of accounts maps no account to the role {self.role!r}"


@attrs.frozen
class UnknownAccount(DomainError):
    """A posting to an account code that is not in the ledger's chart of accounts."""

    account: str
    entry_id: str

    def describe(self) -> str:
        return f"journal entry {self.entry_id} posts to unknown account {self.account!r}"


@attrs.frozen
class DuplicateEntry(DomainError):
    """A journal entry id already posted with different content."""

    entry_id: str

    def describe(self) -> str:
        return f"journal entry {self.entry_id} is already posted with different content"


# --- payment terms ----------------------------------------------------------------------------


@attrs.frozen
class InvalidTerms(InvalidInput):
    """Payment terms that contradict themselves, or that cannot be applied to a given total."""


@attrs.frozen
class TermsParseError(DomainError):
    """A payment-terms notation that cannot be read."""

    text: str
    expected: str

    def describe(self) -> str:
        return f"cannot read payment terms {self.text!r}: expected {self.expected}"


# --- dunning ----------------------------------------------------------------------------------


@attrs.frozen
class InvalidPaymentPlan(DomainError):
    """A payment plan that does not replace an item's schedule exactly (dates, currency, total)."""

    item_id: str
    reason: str

    def describe(self) -> str:
        return f"invalid payment plan for {self.item_id}: {self.reason}"


# --- cash application -------------------------------------------------------------------------


@attrs.frozen
class DuplicateReceipt(DomainError):
    """A receipt whose statement line or payment (its source) was applied before."""

    receipt_id: str
    source_id: str

    def describe(self) -> str:
        return f"receipt {self.receipt_id}: source {self.source_id!r} was already applied"


@attrs.frozen
class UnappliedCashExceeded(DomainError):
    """A refund or manual application of more than a receipt has unapplied."""

    receipt_id: str
    unapplied: str
    requested: str

    def describe(self) -> str:
        return (
            f"receipt {self.receipt_id}: cannot use {self.requested}; "
            f"only {self.unapplied} is unapplied"
        )


# --- invoicing --------------------------------------------------------------------------------


@attrs.frozen
class EmptyInvoice(DomainError):
    """An invoice or credit note without a single line."""

    document_id: str

    def describe(self) -> str:
        return f"{self.document_id or 'the document'} has no lines; it needs at least one"


@attrs.frozen
class InvoiceImmutable(DomainError):
    """An edit of an invoice that has been issued: fix it with a credit note instead."""

    invoice_number: str
    attempted: str

    def describe(self) -> str:
        return (
            f"invoice {self.invoice_number} is issued and cannot change (tried to "
            f"{self.attempted}); issue a credit note and a revised invoice"
        )


@attrs.frozen
class OverCredit(DomainError):
    """A credit note for more than is left to credit on its invoice."""

    invoice_number: str
    creditable: str
    requested: str

    def describe(self) -> str:
        return (
            f"cannot credit {self.requested} on invoice {self.invoice_number}: "
            f"only {self.creditable} is left to credit"
        )


@attrs.frozen
class DiscountNotEarned(DomainError):
    """An early-payment discount that the invoice does not offer on that date (or not that much)."""

    invoice_number: str
    on: str
    requested: str
    offered: str

    def describe(self) -> str:
        return (
            f"invoice {self.invoice_number} offers {self.offered} discount on {self.on}, "
            f"not {self.requested}"
        )


@attrs.frozen
class WriteOffAboveTolerance(DomainError):
    """A small-difference write-off larger than the tolerance allows."""

    invoice_number: str
    amount: str
    tolerance: str

    def describe(self) -> str:
        return (
            f"cannot write off {self.amount} on invoice {self.invoice_number} as a small "
            f"difference: the tolerance is {self.tolerance}"
        )


# --- orders: delivery -------------------------------------------------------------------------


@attrs.frozen
class OverDelivery(OrderQuantityExceeded):
    """A delivery of more than the line has shipped and neither delivered nor returned."""

    def action(self) -> str:
        return "deliver"
