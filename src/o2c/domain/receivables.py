"""Open items: the accounts-receivable view of a document that a customer owes money on.

An :class:`OpenItem` is what cash application, dunning, the ledger's AR reconciliation and the AR
measures all work on: an invoice (or a dunning charge) with its instalments, each with its own due
date and open amount, the early-payment discounts it offers and the structured reference printed on
it. It is the single place that tracks how much of a document is still open; an invoice holds one
from the moment it is issued.

Money is applied to the oldest instalment first and reopened (a bounced receipt) newest first, so
the open amount of every instalment stays between zero and its amount.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from o2c.domain.errors import CurrencyMismatch, InvalidAmount, InvalidInput, OverAllocation
from o2c.domain.money import Money, decimals_of, from_minor_units, is_exact, minor_units, total

__all__ = ["DiscountOffer", "Instalment", "ItemKind", "OpenItem", "open_total"]


class ItemKind(enum.Enum):
    """What kind of document an open item stands for."""

    INVOICE = "invoice"
    CHARGE = "charge"
    """A debit note for a dunning fee or interest: it survives payment of the principal."""


@attrs.frozen
class Instalment:
    """One due date of a document with its amount and what is still open of it."""

    due_date: date
    amount: Money
    open: Money

    def __attrs_post_init__(self) -> None:
        if self.amount.currency != self.open.currency:
            raise CurrencyMismatch(
                expected=self.amount.currency.code, actual=self.open.currency.code
            )
        if not (is_exact(self.amount) and is_exact(self.open)):
            raise InvalidAmount(value=str(self.amount), reason="instalment amounts must be exact")
        if self.amount.amount <= 0 or not 0 <= self.open.amount <= self.amount.amount:
            raise InvalidAmount(
                value=f"{self.open} of {self.amount}",
                reason="an instalment needs a positive amount and 0 <= open <= amount",
            )

    @classmethod
    def unpaid(cls, due_date: date, amount: Money) -> Instalment:
        """A new instalment with everything still open."""
        return cls(due_date, amount, amount)

    def _with_open_minor(self, open_minor: int, places: int) -> Instalment:
        """This instalment with ``open_minor`` minor units open, without re-validating.

        Only for callers in this module that keep ``0 <= open_minor <=`` the amount: the amount,
        currency and due date were validated when this instalment was built, and an integer number
        of minor units is exact by construction. Set field by field by name, so it always equals
        what the validating constructor builds (a property test holds it to that).
        """
        new = object.__new__(Instalment)
        object.__setattr__(new, "due_date", self.due_date)
        object.__setattr__(new, "amount", self.amount)
        object.__setattr__(new, "open", from_minor_units(open_minor, places, self.open.currency))
        return new


@attrs.frozen
class DiscountOffer:
    """An early-payment discount: pay the document by ``deadline`` and ``discount`` comes off.

    ``deadline`` is the last day (inclusive) on which the payment may arrive.
    """

    deadline: date
    discount: Money
    percent: Decimal


@attrs.frozen
class OpenItem:
    """A receivable document seen from accounts receivable: who owes what, due when."""

    item_id: str
    """The document number, e.g. ``INV-2026-00042``."""
    customer_id: str
    document_date: date
    instalments: tuple[Instalment, ...]
    kind: ItemKind = ItemKind.INVOICE
    reference: str | None = None
    """The structured payment reference printed on the document (an RF creditor reference...)."""
    discounts: tuple[DiscountOffer, ...] = ()
    disputed: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.item_id or not self.customer_id:
            raise InvalidInput(
                field="open item", value=self.item_id, reason="needs an id and a customer"
            )
        if not self.instalments:
            raise InvalidInput(
                field="open item", value=self.item_id, reason="needs at least one instalment"
            )
        currency = self.instalments[0].amount.currency
        previous_due = self.document_date
        for part in self.instalments:
            if part.amount.currency != currency:
                raise CurrencyMismatch(expected=currency.code, actual=part.amount.currency.code)
            # apply() pays oldest first and due_date reads the first open part: order matters
            if part.due_date < previous_due:
                raise InvalidInput(
                    field="due date",
                    value=part.due_date.isoformat(),
                    reason="before the document date or the previous instalment's due date",
                )
            previous_due = part.due_date
        for offer in self.discounts:
            if offer.discount.currency != currency:
                raise CurrencyMismatch(expected=currency.code, actual=offer.discount.currency.code)

    @property
    def currency(self) -> str:
        """The ISO code of the document's currency."""
        return str(self.instalments[0].amount.currency.code)

    @property
    def original(self) -> Money:
        """The document's gross amount."""
        return total((p.amount for p in self.instalments), self.currency)

    @property
    def open(self) -> Money:
        """What is still owed on the document."""
        return total((p.open for p in self.instalments), self.currency)

    @property
    def is_settled(self) -> bool:
        """Whether nothing is open any more."""
        return all(p.open.amount == 0 for p in self.instalments)

    @property
    def is_untouched(self) -> bool:
        """Whether nothing has been paid or settled yet."""
        return all(p.open == p.amount for p in self.instalments)

    @property
    def due_date(self) -> date:
        """The due date of the oldest instalment still open (the last one once settled)."""
        for part in self.instalments:
            if part.open.amount > 0:
                return part.due_date
        return self.instalments[-1].due_date

    def overdue_amount(self, as_of: date) -> Money:
        """What is open on instalments whose due date is before ``as_of``."""
        return total((p.open for p in self.instalments if p.due_date < as_of), self.currency)

    def days_past_due(self, as_of: date) -> int:
        """Days since the oldest open instalment fell due; 0 when nothing is overdue."""
        if self.is_settled:
            return 0
        return max(0, (as_of - self.due_date).days)

    def is_overdue(self, as_of: date) -> bool:
        """Whether any open instalment's due date is before ``as_of``."""
        return self.days_past_due(as_of) > 0

    def discount_on(self, paid_on: date) -> DiscountOffer | None:
        """The best discount a payment of the whole open amount on ``paid_on`` earns, if any.

        Discounts are offered on the untouched document only: a part payment ends the offer, as
        in most terms ("2 % if the invoice is paid in full within 10 days").
        """
        if not self.is_untouched:
            return None
        best: DiscountOffer | None = None
        for offer in self.discounts:
            if paid_on <= offer.deadline and (best is None or offer.discount > best.discount):
                best = offer
        return best

    def apply(self, amount: Money) -> OpenItem:
        """Reduce the open amount by ``amount``, oldest instalment first."""
        remaining = self._check_amount(amount).amount
        if remaining > self.open.amount:
            raise OverAllocation(item_id=self.item_id, open=str(self.open), requested=str(amount))
        places = decimals_of(self.currency)
        return self._apply_minor(minor_units(remaining, places), places)

    def _apply_minor(self, units: int, places: int) -> OpenItem:
        """Reduce the open amount by ``units`` minor units (``places`` decimals), oldest first.

        The one implementation of applying money to an item, shared by :meth:`apply` and cash
        application's index. The caller guarantees ``0 < units <=`` the open amount. The item is
        built by its validating constructor; only the instalments take the fast path, being the
        one value that changes and the costlier one to check.
        """
        remaining = units
        parts: list[Instalment] = []
        for part in self.instalments:
            if remaining == 0:
                parts.append(part)
                continue
            part_open = minor_units(part.open.amount, places)
            take = min(remaining, part_open)
            remaining -= take
            parts.append(part._with_open_minor(part_open - take, places) if take else part)
        return OpenItem(
            item_id=self.item_id,
            customer_id=self.customer_id,
            document_date=self.document_date,
            instalments=tuple(parts),
            kind=self.kind,
            reference=self.reference,
            discounts=self.discounts,
            disputed=self.disputed,
        )

    def reopen(self, amount: Money) -> OpenItem:
        """Give back ``amount`` to the open amount, newest instalment first (a reversed payment)."""
        remaining = self._check_amount(amount).amount
        settled = self.original.amount - self.open.amount
        if remaining > settled:
            raise OverAllocation(item_id=self.item_id, open=str(self.open), requested=f"-{amount}")
        parts: list[Instalment] = []
        for part in reversed(self.instalments):
            give = min(remaining, part.amount.amount - part.open.amount)
            remaining -= give
            parts.append(
                part
                if give == 0
                else attrs.evolve(part, open=part.open + Money(give, part.open.currency))
            )
        return attrs.evolve(self, instalments=tuple(reversed(parts)))

    def _check_amount(self, amount: Money) -> Money:
        if amount.currency.code != self.currency:
            raise CurrencyMismatch(expected=self.currency, actual=amount.currency.code)
        if amount.amount <= 0 or not is_exact(amount):
            raise InvalidAmount(
                value=str(amount), reason="must be positive and exact in its currency"
            )
        return amount


def open_total(items: Iterable[OpenItem], currency: str) -> Money:
    """The sum of the open amounts of ``items``, in ``currency`` (zero when there are none)."""
    return total((item.open for item in items), currency)
