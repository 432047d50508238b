"""Gateway payouts: what a payment gateway paid out to the bank, and what it kept.

A gateway collects card and wallet payments into the gateway clearing account (the receipts post
there) and pays them out in batches, less its fees. A :class:`PayoutReport` is one line of the
gateway's payout report; :meth:`PayoutReport.settled` gives the :class:`GatewayPayoutSettled`
event, which posts bank (net) and payment fees against gateway clearing (gross) through
:meth:`~o2c.domain.posting.PostingRules.gateway_settled`. The entry id derives from the payout id,
so a report read twice posts once.
"""

from __future__ import annotations

from datetime import date

import attrs

from o2c.domain.errors import CurrencyMismatch, InvalidInput
from o2c.domain.events import DomainEvent
from o2c.domain.money import Money, is_exact

__all__ = ["GatewayPayoutSettled", "PayoutReport"]


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise InvalidInput(field=attribute.name, value=value, reason="must not be empty")


@attrs.frozen
class PayoutReport:
    """One payout of a gateway: ``gross`` collected, ``fees`` kept, the rest paid to the bank.

    Refused at construction: a gross amount that is not positive and exact, fees in another
    currency (:class:`~o2c.domain.errors.CurrencyMismatch`), negative fees or fees not below the
    gross amount.
    """

    payout_id: str = attrs.field(validator=_non_empty)
    """The gateway's id of the payout (what the bank statement shows)."""
    paid_on: date
    """The day the payout reached the bank."""
    gross: Money
    fees: Money
    gateway: str = ""
    """The gateway's name, for the journal's metadata."""
    payments: tuple[str, ...] = attrs.field(converter=tuple, default=())
    """The gateway references of the payments the payout settles, when the report lists them."""

    def __attrs_post_init__(self) -> None:
        if self.gross.amount <= 0 or not is_exact(self.gross):
            raise InvalidInput(
                field="gross", value=str(self.gross), reason="must be positive and exact"
            )
        if self.fees.currency != self.gross.currency:
            raise CurrencyMismatch(
                expected=self.gross.currency.code, actual=self.fees.currency.code
            )
        if self.fees.amount < 0 or self.fees >= self.gross or not is_exact(self.fees):
            raise InvalidInput(
                field="fees",
                value=str(self.fees),
                reason=f"must be exact, at least zero and below the gross {self.gross}",
            )

    @property
    def net(self) -> Money:
        """What reached the bank."""
        return self.gross - self.fees

    def settled(self) -> GatewayPayoutSettled:
        """The event that posts this payout."""
        return GatewayPayoutSettled(
            self.payout_id, self.paid_on, self.gross, self.fees, self.gateway
        )


@attrs.frozen
class GatewayPayoutSettled(DomainEvent):
    """A gateway paid ``gross`` less ``fees`` to the bank, clearing gateway clearing."""

    payout_id: str
    on: date
    gross: Money
    fees: Money
    gateway: str = ""
