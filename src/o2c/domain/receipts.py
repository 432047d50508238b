"""Receipts: incoming payments, who made them, and where each stands in cash application.

A :class:`Receipt` is one incoming payment (a bank statement line, a captured card payment, a
cheque): its amount, value date, who paid (:class:`Payer`), how (:class:`PaymentMethod`), the
remittance text and structured reference they gave, and the id of the line it came from. It also
keeps what cash application made of it: what was applied, what was refunded, and its
:class:`ReceiptState` under :data:`RECEIPT_LIFECYCLE`. Matching (:mod:`o2c.domain.matching`) reads
receipts; cash application (:mod:`o2c.domain.cash`) moves them.
"""

from __future__ import annotations

import enum
from datetime import date

import attrs

from o2c.domain.errors import CurrencyMismatch, InvalidAmount, InvalidInput
from o2c.domain.lifecycle import Lifecycle
from o2c.domain.money import Money, is_exact, zero

__all__ = [
    "RECEIPT_LIFECYCLE",
    "Payer",
    "PaymentMethod",
    "Receipt",
    "ReceiptState",
    "ReceiptTrigger",
]


# --- lifecycle ----------------------------------------------------------------------------------


class ReceiptState(enum.Enum):
    """Where a receipt stands in cash application."""

    UNAPPLIED = "unapplied"
    PARTIALLY_APPLIED = "partially_applied"
    APPLIED = "applied"
    ON_ACCOUNT = "on_account"
    REFUNDED = "refunded"
    REVERSED = "reversed"


class ReceiptTrigger(enum.Enum):
    """What moves a receipt."""

    APPLY_PART = "apply_part"
    """Allocations that leave some cash unapplied."""
    APPLY_ALL = "apply_all"
    """Allocations that use up the rest of the cash."""
    PLACE_ON_ACCOUNT = "place_on_account"
    REFUND_PART = "refund_part"
    """Pay back some of the unapplied cash; the rest stays."""
    REFUND_REST = "refund_rest"
    """Pay back all the unapplied cash."""
    REVERSE = "reverse"
    """The payment bounced or was recalled: undo what it paid."""


_S = ReceiptState
_T = ReceiptTrigger

RECEIPT_LIFECYCLE: Lifecycle[ReceiptState, ReceiptTrigger] = Lifecycle.of(
    "receipt",
    _S.UNAPPLIED,
    [
        ((_S.UNAPPLIED, _S.PARTIALLY_APPLIED, _S.ON_ACCOUNT), _T.APPLY_PART, _S.PARTIALLY_APPLIED),
        ((_S.UNAPPLIED, _S.PARTIALLY_APPLIED, _S.ON_ACCOUNT), _T.APPLY_ALL, _S.APPLIED),
        ((_S.UNAPPLIED, _S.PARTIALLY_APPLIED), _T.PLACE_ON_ACCOUNT, _S.ON_ACCOUNT),
        (_S.UNAPPLIED, _T.REFUND_PART, _S.UNAPPLIED),
        (_S.PARTIALLY_APPLIED, _T.REFUND_PART, _S.PARTIALLY_APPLIED),
        (_S.ON_ACCOUNT, _T.REFUND_PART, _S.ON_ACCOUNT),
        ((_S.UNAPPLIED, _S.ON_ACCOUNT), _T.REFUND_REST, _S.REFUNDED),
        (_S.PARTIALLY_APPLIED, _T.REFUND_REST, _S.APPLIED),
        (
            (_S.UNAPPLIED, _S.PARTIALLY_APPLIED, _S.APPLIED, _S.ON_ACCOUNT),
            _T.REVERSE,
            _S.REVERSED,
        ),
    ],
)
"""The receipt lifecycle. A partly applied receipt whose rest is refunded counts as applied."""


# --- receipts -----------------------------------------------------------------------------------


class PaymentMethod(enum.Enum):
    """How the money came."""

    TRANSFER = "transfer"
    DIRECT_DEBIT = "direct_debit"
    CARD = "card"
    CHEQUE = "cheque"
    WALLET = "wallet"
    CASH = "cash"


@attrs.frozen
class Payer:
    """Who paid, as far as the bank or gateway tells: a customer id if known, a name, an account."""

    customer_id: str | None = None
    name: str = ""
    account: str = ""
    """The payer's account, e.g. an IBAN."""


def _zero_like(receipt: Receipt) -> Money:
    return zero(receipt.amount.currency)


@attrs.frozen
class Receipt:
    """One incoming payment and what has become of it.

    ``applied`` is what allocations took, ``refunded`` what was paid back; the rest is
    :attr:`unapplied`. ``source_id`` names the statement line or gateway payment the receipt came
    from; cash application applies each source once.
    """

    receipt_id: str
    amount: Money
    value_date: date
    source_id: str
    payer: Payer = Payer()
    remittance: str = ""
    """The free text the payer sent along."""
    reference: str | None = None
    """A structured reference (an RF creditor reference, an invoice number, a payment intent id)."""
    method: PaymentMethod = PaymentMethod.TRANSFER
    state: ReceiptState = ReceiptState.UNAPPLIED
    applied: Money = attrs.field(default=attrs.Factory(_zero_like, takes_self=True))
    refunded: Money = attrs.field(default=attrs.Factory(_zero_like, takes_self=True))
    payment_id: str | None = None
    """The card payment whose money this receipt records; ``None`` for a bank receipt."""

    def __attrs_post_init__(self) -> None:
        if not self.receipt_id or not self.source_id:
            raise InvalidInput(
                field="receipt", value=self.receipt_id, reason="needs an id and a source id"
            )
        code = self.amount.currency.code
        if self.applied.currency.code != code or self.refunded.currency.code != code:
            bad = self.applied if self.applied.currency.code != code else self.refunded
            raise CurrencyMismatch(expected=code, actual=bad.currency.code)
        if self.amount.amount <= 0 or not is_exact(self.amount):
            raise InvalidAmount(
                value=str(self.amount), reason="a receipt must be positive and exact"
            )
        if (
            self.applied.amount < 0
            or self.refunded.amount < 0
            or self.applied.amount + self.refunded.amount > self.amount.amount
        ):
            raise InvalidAmount(
                value=f"{self.applied} applied, {self.refunded} refunded",
                reason=f"must be non-negative and add up to at most {self.amount}",
            )

    @property
    def through_gateway(self) -> bool:
        """Whether the money came through a payment gateway (card or wallet, or a card payment).

        Such money leaves only through the gateway (a refund or a chargeback), never as a bank
        bounce or a bank refund: the gateway clearing account must keep matching what it holds.
        """
        return self.payment_id is not None or self.method in (
            PaymentMethod.CARD,
            PaymentMethod.WALLET,
        )

    @property
    def currency(self) -> str:
        """The receipt's currency code."""
        return str(self.amount.currency.code)

    @property
    def unapplied(self) -> Money:
        """Cash neither applied nor refunded (zero once the receipt is reversed)."""
        if self.state is ReceiptState.REVERSED:
            return zero(self.amount.currency)
        return Money(
            self.amount.amount - self.applied.amount - self.refunded.amount, self.amount.currency
        )
