"""The exception queue as a worklist: receipts cash application could not place on its own.

When the matching ladder cannot place a receipt confidently, or places only part of it, the
receipt waits for a person as a :class:`QueuedReceipt`: what is left of it, who paid and with which
reference, and the ranked :class:`~o2c.domain.matching.Suggestion` values the ladder found, each
with its explanation. A person then decides (:class:`DecisionKind`): accept a suggestion, allocate
by hand, put the cash on a customer's account, or refund it. Each decision is a
:class:`QueueDecision` naming who decided and why; the entry keeps them all, in order, so what
happened to a receipt can always be read back. An entry is open while cash is left to place and no
decision closed it (:attr:`QueuedReceipt.is_open`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import attrs

from o2c.domain.cash import ExceptionEntry, ReceiptPlacedOnAccount
from o2c.domain.errors import CurrencyMismatch, InvalidInput
from o2c.domain.events import Changed
from o2c.domain.matching import Suggestion
from o2c.domain.money import Money
from o2c.domain.receipts import RECEIPT_LIFECYCLE, Payer, Receipt, ReceiptState, ReceiptTrigger

__all__ = [
    "DecisionKind",
    "QueueDecision",
    "QueueReason",
    "QueuedReceipt",
    "place_on_account",
]


class QueueReason(enum.Enum):
    """Why a receipt waits for a person."""

    UNMATCHED = "unmatched"
    """Nothing matched it confidently, and its customer is not known (or unmatched cash stays off
    account by configuration)."""
    PARTLY_MATCHED = "partly_matched"
    """A rule placed part of it; the rest is left."""


class DecisionKind(enum.Enum):
    """What a person decided about a queued receipt."""

    ACCEPTED = "accepted"
    """One of the ranked suggestions was taken."""
    ALLOCATED = "allocated"
    """Cash was applied by hand to an item of the person's choosing."""
    ON_ACCOUNT = "on_account"
    """The cash was kept as a customer's credit."""
    REFUNDED = "refunded"
    """The cash was paid back."""


def _required(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise InvalidInput(field=attribute.name, value=value, reason="must be given")


@attrs.frozen
class QueueDecision:
    """One decision about a queued receipt: what, by whom, why and when."""

    kind: DecisionKind
    by: str = attrs.field(validator=_required)
    """Who decided (a user name)."""
    why: str = attrs.field(validator=_required)
    """The reason they gave."""
    at: datetime
    amount: Money
    """The cash the decision placed (applied, kept on account or refunded)."""
    item_id: str | None = None
    """The item cash went to (accepted or allocated)."""
    customer_id: str | None = None
    """The customer whose account kept the cash (on account)."""


@attrs.frozen
class QueuedReceipt:
    """A receipt in the exception queue, with its ranked suggestions and every decision made.

    ``unapplied`` is the cash still to place; it comes down with each decision. The entry is
    keyed by ``receipt_id``.
    """

    receipt_id: str
    reason: QueueReason
    queued_on: date
    value_date: date
    """When the money arrived: the queue ages by it."""
    amount: Money
    """The whole receipt."""
    unapplied: Money
    customer_id: str | None
    """The customer the payer is known to be, if any."""
    payer: Payer
    reference: str | None
    remittance: str
    suggestions: tuple[Suggestion, ...]
    """Ranked, best first, each with its score and explanation."""
    note: str = ""
    """What cash application did before queueing it (the part it placed, and why)."""
    decisions: tuple[QueueDecision, ...] = ()
    closed: bool = False
    """Set once cash application has nothing left to decide (the last cash placed, or the receipt
    reversed)."""

    def __attrs_post_init__(self) -> None:
        code = self.amount.currency.code
        if self.unapplied.currency.code != code:
            raise CurrencyMismatch(expected=code, actual=self.unapplied.currency.code)
        if not 0 <= self.unapplied.amount <= self.amount.amount:
            raise InvalidInput(
                field="unapplied", value=str(self.unapplied), reason=f"must be within {self.amount}"
            )

    @classmethod
    def of(
        cls,
        receipt: Receipt,
        entry: ExceptionEntry,
        reason: QueueReason,
        on: date,
        note: str = "",
    ) -> QueuedReceipt:
        """The queue entry of a receipt cash application left (wholly or partly) unplaced."""
        return cls(
            receipt_id=receipt.receipt_id,
            reason=reason,
            queued_on=on,
            value_date=receipt.value_date,
            amount=receipt.amount,
            unapplied=receipt.unapplied,
            customer_id=entry.customer_id,
            payer=receipt.payer,
            reference=receipt.reference,
            remittance=receipt.remittance,
            suggestions=entry.suggestions,
            note=note,
        )

    @property
    def currency(self) -> str:
        """The receipt's currency code."""
        return str(self.amount.currency.code)

    @property
    def is_open(self) -> bool:
        """Whether the receipt still waits for a person: cash left and not closed."""
        return not self.closed and self.unapplied.amount > 0

    def age(self, as_of: date) -> int:
        """Days since the money arrived."""
        return (as_of - self.value_date).days

    def suggestion(self, item_id: str) -> Suggestion | None:
        """The suggestion for ``item_id``, or ``None`` if the ladder did not suggest it."""
        return next((s for s in self.suggestions if s.item_id == item_id), None)

    def decided(self, decision: QueueDecision, receipt: Receipt) -> QueuedReceipt:
        """The entry after ``decision``, with the receipt as the decision left it."""
        if decision.amount.currency != self.amount.currency:
            raise CurrencyMismatch(expected=self.currency, actual=decision.amount.currency.code)
        left = receipt.unapplied
        # Cash on account is placed for good; after a refund or an allocation, whatever cash is
        # left still waits.
        closing = decision.kind is DecisionKind.ON_ACCOUNT
        return attrs.evolve(
            self,
            unapplied=left,
            decisions=(*self.decisions, decision),
            closed=self.closed or closing or left.amount == 0,
        )

    def followed(self, receipt: Receipt) -> QueuedReceipt:
        """The entry after the receipt changed outside the queue (applied, refunded, reversed):
        what is left follows the receipt."""
        left = receipt.unapplied
        if left == self.unapplied:
            return self
        return attrs.evolve(self, unapplied=left, closed=self.closed or left.amount == 0)


def place_on_account(
    receipt: Receipt, customer_id: str, on: date, suggestions: tuple[Suggestion, ...] = ()
) -> Changed[Receipt]:
    """Keep a receipt's unapplied cash as ``customer_id``'s credit: a person's decision.

    Raises :class:`~o2c.domain.errors.IllegalTransition` for a receipt that cannot go on account
    (applied, refunded, reversed or already there).
    """
    if not customer_id.strip():
        raise InvalidInput(field="customer", value=customer_id, reason="must be given")
    state = RECEIPT_LIFECYCLE.next_state(
        receipt.state, ReceiptTrigger.PLACE_ON_ACCOUNT, entity_id=receipt.receipt_id
    )
    assert state is ReceiptState.ON_ACCOUNT
    event = ReceiptPlacedOnAccount(
        receipt.receipt_id, customer_id, on, receipt.unapplied, suggestions
    )
    return Changed(attrs.evolve(receipt, state=state), (event,))
