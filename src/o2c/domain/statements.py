"""Bank statements as values, and what each of their lines means for cash application.

A :class:`BankStatement` is what a bank reports for one account over a period (an end-of-day
camt.053 or MT940, an intraday camt.052 or MT942, a camt.054 notification, a BAI2 account
section, a CSV export): its balances and its :class:`StatementEntry` lines. Each line is read
for what it is (:func:`plan_statement`):

* an incoming payment becomes one :class:`~o2c.domain.receipts.Receipt`, or one per
  transaction of a batch booking that carries the details of each transaction;
* a debit that returns or reverses an earlier incoming payment becomes a receipt reversal;
* a bank charge becomes a bank fee (:class:`BankFeeCharged`), never a receipt;
* an outgoing payment is recognised and reported, never taken for a receipt;
* a line that is not booked yet (pending, information only) is reported and waits.

Every line has a stable identity (:attr:`PlannedLine.line_id`) built from the account, the
bank's reference, the date, the direction and the amount, so the same line seen again (the same
file twice, overlapping statements, an intraday report followed by the day's statement) is
recognised and applied once. :func:`check_balances` refuses a statement whose opening balance
and lines do not add up to its closing balance.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import date
from decimal import Decimal

import attrs

from o2c.domain.errors import DomainError, InvalidInput
from o2c.domain.events import DomainEvent
from o2c.domain.money import Money, is_exact
from o2c.domain.receipts import Payer, PaymentMethod, Receipt

__all__ = [
    "BankFeeCharged",
    "BankStatement",
    "BankTransactionCode",
    "Direction",
    "EntryStatus",
    "LineKind",
    "PlannedLine",
    "StatementEntry",
    "StatementKind",
    "StatementRefused",
    "StatementUnbalanced",
    "Transaction",
    "UnreadableStatement",
    "check_balances",
    "plan_statement",
]


# --- errors ---------------------------------------------------------------------------------


@attrs.frozen
class StatementRefused(DomainError):
    """A bank statement file or statement was refused as a whole: nothing of it is applied."""

    source: str
    """The file (or stream) the statement came from."""

    def describe(self) -> str:
        return f"statement {self.source} refused"


@attrs.frozen
class UnreadableStatement(StatementRefused):
    """A file that cannot be read as the statement it claims to be (hostile, broken, wrong)."""

    where: str
    """The entry or place in the file (``"entry 3"``, ``"line 12"``, ``"file"``)."""
    reason: str

    def describe(self) -> str:
        return f"statement {self.source} refused at {self.where}: {self.reason}"


@attrs.frozen
class StatementUnbalanced(StatementRefused):
    """Opening balance plus the booked lines is not the closing balance."""

    statement_id: str
    opening: Money
    lines: Money
    """The booked lines, credits positive and debits negative."""
    closing: Money

    @property
    def difference(self) -> Money:
        """What the closing balance has that opening balance and lines do not explain."""
        return self.closing - (self.opening + self.lines)

    def describe(self) -> str:
        return (
            f"statement {self.source} refused: statement {self.statement_id} does not reconcile "
            f"(opening {self.opening} + lines {self.lines} != closing {self.closing}; "
            f"difference {self.difference})"
        )


# --- values ---------------------------------------------------------------------------------


class StatementKind(enum.Enum):
    """What the bank reports."""

    STATEMENT = "statement"
    """End of day: camt.053, MT940, BAI2, CSV exports."""
    INTRADAY = "intraday"
    """During the day: camt.052, MT942. Its booked lines reappear in the day's statement."""
    NOTIFICATION = "notification"
    """Single movements with their details: camt.054."""


class Direction(enum.Enum):
    """Which way the money moved on the account."""

    CREDIT = "credit"
    DEBIT = "debit"


class EntryStatus(enum.Enum):
    """Whether the bank has booked a line."""

    BOOKED = "booked"
    PENDING = "pending"
    INFO = "info"


_CHARGE_SUBFAMILIES = frozenset({"CHRG", "FEES", "COMM", "COME", "COMI", "COMT"})
_RETURN_SUBFAMILIES = frozenset({"RRTN", "RPCR", "UPCQ", "ARET", "AREV"})


@attrs.frozen
class BankTransactionCode:
    """The bank's code for a kind of transaction: ISO domain, family and sub-family, and/or a
    proprietary code (a SWIFT transaction type, a BAI2 type code, a bank's own)."""

    domain: str = ""
    family: str = ""
    subfamily: str = ""
    proprietary: str = ""

    @property
    def is_charge(self) -> bool:
        """Whether the code says bank charges, fees or commission."""
        return self.subfamily in _CHARGE_SUBFAMILIES or self.family == "CHRG"

    @property
    def is_return(self) -> bool:
        """Whether the code says a returned or reversed payment."""
        return self.subfamily in _RETURN_SUBFAMILIES


@attrs.frozen
class Transaction:
    """One transaction within a line: the payer, the remittance and the references it carries.

    A single payment is a line with one transaction; a batch booking has several, each with its
    own ``amount``.
    """

    amount: Money | None = None
    """Its own amount; ``None`` when it is the whole line's."""
    payer_name: str = ""
    payer_account: str = ""
    reference: str = ""
    """A structured creditor reference (RF, or a national one)."""
    remittance: str = ""
    """Free remittance text."""
    end_to_end_id: str = ""
    """The payer's end-to-end id, carried unchanged by every bank."""
    bank_reference: str = ""
    return_reason: str = ""
    """Why a payment came back (an ISO reason code such as ``AC04``, or the bank's text)."""


@attrs.frozen
class StatementEntry:
    """One line of a statement (an ISO 20022 ``Ntry``, a SWIFT ``:61:``, a BAI2 ``16``)."""

    position: int
    """Its place in the file, from 1: error messages and identities name it."""
    amount: Money
    """Always positive; :attr:`direction` says which way."""
    direction: Direction
    booking_date: date | None
    value_date: date | None
    status: EntryStatus = EntryStatus.BOOKED
    reversal: bool = False
    """The bank marked it as the reversal of an earlier line."""
    bank_reference: str = ""
    """The account servicer's reference for the line."""
    entry_reference: str = ""
    code: BankTransactionCode = BankTransactionCode()
    transactions: tuple[Transaction, ...] = ()
    batch_count: int | None = None
    """How many payments the bank booked together in this line, when it says."""

    def __attrs_post_init__(self) -> None:
        if self.amount.amount < 0:
            raise InvalidInput(field="amount", value=str(self.amount), reason="must be >= 0")
        if self.booking_date is None and self.value_date is None:
            raise InvalidInput(field="entry", value=str(self.position), reason="has no date")

    @property
    def date(self) -> date:
        """The value date, else the booking date."""
        day = self.value_date or self.booking_date
        assert day is not None  # checked on construction
        return day

    @property
    def signed(self) -> Money:
        """The amount, negative for a debit."""
        return self.amount if self.direction is Direction.CREDIT else -self.amount

    @property
    def first(self) -> Transaction:
        """The first transaction, or an empty one."""
        return self.transactions[0] if self.transactions else Transaction()


@attrs.frozen
class BankStatement:
    """What a bank reported for one account: balances and lines."""

    source: str
    """The file (or stream) it came from."""
    statement_id: str
    account: str
    """The account the statement is for (an IBAN, or the bank's account number)."""
    currency: str
    kind: StatementKind
    entries: tuple[StatementEntry, ...]
    opening: Money | None = None
    """The opening booked balance (negative when overdrawn), if the bank gave one."""
    closing: Money | None = None
    message_id: str = ""

    @property
    def credits(self) -> tuple[StatementEntry, ...]:
        """The credit lines."""
        return tuple(e for e in self.entries if e.direction is Direction.CREDIT)


# --- balances -------------------------------------------------------------------------------


def check_balances(statement: BankStatement) -> None:
    """Refuse a statement whose opening balance and booked lines miss its closing balance.

    A statement without both balances (an intraday report, a notification) is not checked.
    Raises :class:`StatementUnbalanced` with the difference.
    """
    opening, closing = statement.opening, statement.closing
    if opening is None or closing is None:
        return
    if closing.currency != opening.currency:
        # Booked balances are in the account's currency; one in another currency is not a
        # conversion to make but a statement that cannot be checked.
        raise UnreadableStatement(
            statement.source,
            f"statement {statement.statement_id}",
            f"opening balance {opening} and closing balance {closing} are in different "
            f"currencies ({opening.currency.code}, {closing.currency.code}); a statement's "
            f"booked balances are both in its account's currency"
            + (f" ({statement.currency})" if statement.currency else ""),
        )
    total = Decimal(0)
    for entry in statement.entries:
        if entry.status is EntryStatus.BOOKED:
            if entry.amount.currency != opening.currency:
                raise UnreadableStatement(
                    statement.source,
                    f"entry {entry.position}",
                    f"amount in {entry.amount.currency.code} on a {opening.currency.code} account",
                )
            total += entry.signed.amount
    lines = Money(total, opening.currency)
    if opening + lines != closing:
        raise StatementUnbalanced(statement.source, statement.statement_id, opening, lines, closing)


# --- what each line is ----------------------------------------------------------------------


class LineKind(enum.Enum):
    """What o2c makes of a statement line."""

    RECEIPT = "receipt"
    """An incoming payment: one receipt, or one per transaction of a batch."""
    RETURN = "return"
    """A debit returning or reversing an earlier incoming payment: reverse that receipt."""
    FEE = "fee"
    """Bank charges: a bank-fee posting."""
    OUTGOING = "outgoing"
    """An outgoing payment: reported, not o2c's to apply."""
    RETURNED_OUTGOING = "returned_outgoing"
    """A credit reversing an earlier debit (an outgoing payment came back): reported."""
    NOT_BOOKED = "not_booked"
    """Pending or information only: reported, applied once the bank books it."""


@attrs.frozen
class PlannedLine:
    """One statement line, its identity and what o2c makes of it."""

    line_id: str
    """Stable across files: the same bank line always has the same id."""
    kind: LineKind
    entry: StatementEntry
    receipts: tuple[Receipt, ...] = ()
    """For :attr:`LineKind.RECEIPT`: the receipts, one per transaction of a split batch."""


@attrs.frozen
class BankFeeCharged(DomainEvent):
    """The bank took charges from the account (posted as a bank fee)."""

    line_id: str
    account: str
    amount: Money
    on: date
    description: str = ""


def _identity(statement: BankStatement, entry: StatementEntry) -> str:
    first = entry.first
    reference = entry.bank_reference or entry.entry_reference
    if not reference and first.end_to_end_id and first.end_to_end_id != "NOTPROVIDED":
        reference = "e2e:" + first.end_to_end_id
    if not reference:
        # No reference from the bank: what the line says stands in for one.
        said = "\x1f".join(
            (first.payer_name, first.payer_account, first.reference, first.remittance)
        )
        reference = "h:" + hashlib.sha256(said.encode()).hexdigest()[:16]
    direction = "C" if entry.direction is Direction.CREDIT else "D"
    account = statement.account.replace(" ", "").upper()
    amount = f"{direction}{entry.amount.amount}{entry.amount.currency.code}"
    return f"{account}|{entry.date.isoformat()}|{amount}|{reference}"


def _receipt_id(line_id: str, part: int | None) -> str:
    digest = hashlib.sha256(line_id.encode()).hexdigest()[:20]
    return f"BANK-{digest}" if part is None else f"BANK-{digest}-{part}"


def _receipt(line_id: str, entry: StatementEntry, tx: Transaction, part: int | None) -> Receipt:
    amount = tx.amount if tx.amount is not None and part is not None else entry.amount
    return Receipt(
        receipt_id=_receipt_id(line_id, part),
        amount=amount,
        value_date=entry.date,
        source_id=line_id if part is None else f"{line_id}/{part}",
        payer=Payer(name=tx.payer_name, account=tx.payer_account),
        remittance=tx.remittance,
        reference=tx.reference or None,
        method=PaymentMethod.TRANSFER,
    )


def _splits(entry: StatementEntry) -> bool:
    """Whether a batch line is split: every transaction has its own amount and they add up."""
    if len(entry.transactions) < 2:
        return False
    amounts = [t.amount for t in entry.transactions]
    if any(a is None or a.currency != entry.amount.currency for a in amounts):
        return False
    return sum(a.amount for a in amounts if a is not None) == entry.amount.amount


def _kind(entry: StatementEntry) -> LineKind:
    if entry.status is not EntryStatus.BOOKED:
        return LineKind.NOT_BOOKED
    returned = entry.reversal or entry.code.is_return or bool(entry.first.return_reason)
    if entry.direction is Direction.DEBIT:
        if entry.code.is_charge:
            return LineKind.FEE
        return LineKind.RETURN if returned else LineKind.OUTGOING
    if entry.reversal:
        return LineKind.RETURNED_OUTGOING
    return LineKind.RECEIPT


def plan_statement(statement: BankStatement) -> tuple[PlannedLine, ...]:
    """What o2c makes of every line of the statement, each with its stable line id.

    Receipts: a batch line whose transactions each carry an amount adding up to the line is
    split into one receipt per transaction; any other line is one receipt with the first
    transaction's payer and remittance. Amounts must be exact in their currency.
    """
    seen: dict[str, int] = {}
    planned: list[PlannedLine] = []
    for entry in statement.entries:
        if not is_exact(entry.amount):
            raise UnreadableStatement(
                statement.source,
                f"entry {entry.position}",
                f"{entry.amount} has more decimals than {entry.amount.currency.code} allows",
            )
        # Two lines alike in everything (two equal payments from one payer on one day) are
        # told apart by their order among such lines.
        base = _identity(statement, entry)
        occurrence = seen.get(base, 0)
        seen[base] = occurrence + 1
        line_id = base if occurrence == 0 else f"{base}#{occurrence}"
        kind = _kind(entry)
        receipts: tuple[Receipt, ...] = ()
        if kind is LineKind.RECEIPT:
            if _splits(entry):
                receipts = tuple(
                    _receipt(line_id, entry, tx, n)
                    for n, tx in enumerate(entry.transactions, start=1)
                )
            else:
                receipts = (_receipt(line_id, entry, entry.first, None),)
        planned.append(PlannedLine(line_id, kind, entry, receipts))
    return tuple(planned)
