"""From domain events to journal entries: which facts of the cycle post, and how.

:class:`PostingRules` turns each business event of the cycle into a journal entry, one pure method
per event, over a chart of accounts. :func:`journal_entries` turns one domain event into the journal
entries that record it, using those rules. Events that move no money (orders, credit decisions,
dunning notices, disputes...) give no entries. The mapping is a read-only table
from event type to a pure function (:data:`POSTING_HANDLERS`); other event types post nothing.

Each money fact is posted from exactly one kind of event, so an application layer may hand *every*
event it collects to :func:`journal_entries` and nothing is counted twice:

* **Receipts post through cash application.** :class:`~o2c.domain.cash.ReceiptRecorded` records the
  money (bank, or gateway clearing for card and wallet receipts, to unapplied cash),
  :class:`~o2c.domain.cash.ReceiptApplied` moves it to the receivable of each item and posts the
  early-payment discount and the short-payment write-off the allocation settled besides cash,
  :class:`~o2c.domain.cash.ReceiptReversed` mirrors all of that, and
  :class:`~o2c.domain.cash.ReceiptRefunded` pays unapplied cash back.
* **The invoice's own settlement events that name a receipt post nothing**: a payment recorded, a
  discount granted for a receipt, a small difference written off (always the rest of a short
  payment). Their receipt posted them. A discount granted without a receipt posts, and so does a
  bad-debt write-off. A reopened invoice posts only the customer credit it reclaimed.
* **Gateway events post nothing.** A captured card payment becomes a receipt (method ``card``) and
  posts as one, through gateway clearing; a gateway refund or chargeback posts as the refund or the
  reversal of that receipt. Gateway payouts post from
  :class:`~o2c.domain.payouts.GatewayPayoutSettled` with :meth:`PostingRules.gateway_settled`.
* **Bank charges on a statement** (:class:`~o2c.domain.statements.BankFeeCharged`) post payment
  fees against the bank, never as a receipt.

Entry ids derive from the event's content (``INV-1:invoice_issued``,
``R-1/INV-1@0.00:receipt_applied``), so the same event always gives the same entries and posting
it twice posts it once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Any

import attrs

from o2c.domain.cash import (
    Allocation,
    ReceiptApplied,
    ReceiptRecorded,
    ReceiptRefunded,
    ReceiptReversed,
)
from o2c.domain.dunning import DunningFeeCharged, InterestCharged
from o2c.domain.errors import CurrencyMismatch, InvalidAmount, InvalidInput
from o2c.domain.events import DomainEvent
from o2c.domain.invoicing import (
    CreditNoteIssued,
    InvoiceDiscountGranted,
    InvoiceIssued,
    InvoiceReopened,
    InvoiceWrittenOff,
    TaxLine,
    WriteOffKind,
)
from o2c.domain.ledger import AccountRole, ChartOfAccounts, JournalEntry, Posting, Side
from o2c.domain.money import Money, from_minor, is_exact, to_minor, total, zero
from o2c.domain.payouts import GatewayPayoutSettled
from o2c.domain.receipts import PaymentMethod
from o2c.domain.statements import BankFeeCharged

__all__ = ["AmountLine", "POSTING_HANDLERS", "PostingRules", "journal_entries", "receipt_account"]

# --- posting rules ----------------------------------------------------------------------------


@attrs.frozen
class AmountLine:
    """An amount for a posting rule, optionally to its own account and with a memo.

    Revenue lines without ``account`` go to the chart's revenue account; tax lines to its tax
    payable account. ``memo`` keeps lines apart that share an account (tax per rate: ``S 19%``).
    A negative revenue line (a discount line) is posted on the other side.
    """

    amount: Money
    account: str | None = None
    memo: str | None = None


_PostingKey = tuple[str, str | None, str | None, str | None, str]


class _Draft:
    """Collects signed amounts per account, party, document, memo and currency, in order."""

    __slots__ = ("units",)

    def __init__(self) -> None:
        self.units: dict[_PostingKey, int] = {}

    def add(
        self,
        account: str,
        side: Side,
        amount: Money,
        *,
        party: str | None = None,
        document: str | None = None,
        memo: str | None = None,
    ) -> None:
        units = to_minor(amount)
        key = (account, party, document, memo, str(amount.currency.code))
        self.units[key] = self.units.get(key, 0) + (units if side is Side.DEBIT else -units)

    def postings(self) -> tuple[Posting, ...]:
        return tuple(
            Posting(
                account,
                Side.DEBIT if units > 0 else Side.CREDIT,
                from_minor(abs(units), currency),
                party,
                document,
                memo,
            )
            for (account, party, document, memo, currency), units in self.units.items()
            if units != 0
        )


def _positive(amount: Money, what: str) -> Money:
    if amount.amount <= 0 or not is_exact(amount):
        raise InvalidAmount(value=str(amount), reason=f"{what} must be positive and exact")
    return amount


@attrs.frozen
class PostingRules:
    """One pure method per business event, each returning the journal entry that records it.

    Entry ids are ``f"{source_id}:{kind}"`` (the kind is the method name), so the same event always
    gives the same entry and the ledger posts it once. Rules that need a role the chart does not
    map raise :class:`~o2c.domain.errors.UnmappedAccountRole`.
    """

    chart: ChartOfAccounts = attrs.field(factory=ChartOfAccounts.default)

    def _entry(
        self,
        source_id: str,
        kind: str,
        on: date,
        description: str,
        draft: _Draft,
        **metadata: str | None,
    ) -> JournalEntry:
        meta = {"kind": kind, **{k: v for k, v in metadata.items() if v is not None}}
        return JournalEntry(
            f"{source_id}:{kind}", on, description, draft.postings(), source_id, meta
        )

    def _code(self, role: AccountRole) -> str:
        return self.chart.code(role)

    def _document(
        self,
        *,
        draft: _Draft,
        side: Side,
        document_id: str,
        customer_id: str,
        revenue: Sequence[AmountLine],
        tax: Sequence[AmountLine],
        gross: Money | None,
        applies_to: str | None = None,
    ) -> None:
        """Receivable on ``side`` against revenue and tax on the other side."""
        if not revenue:
            raise InvalidInput(
                field="revenue", value=document_id, reason="a document needs revenue lines"
            )
        lines_total = total((line.amount for line in (*revenue, *tax)), revenue[0].amount.currency)
        draft.add(
            self._code(AccountRole.RECEIVABLE),
            side,
            lines_total if gross is None else gross,
            party=customer_id,
            document=applies_to or document_id,
        )
        for line in revenue:
            account = line.account or self._code(AccountRole.REVENUE)
            draft.add(account, side.opposite, line.amount, memo=line.memo)
        for line in tax:
            account = line.account or self._code(AccountRole.TAX_PAYABLE)
            draft.add(account, side.opposite, line.amount, memo=line.memo)

    def invoice_issued(
        self,
        invoice_id: str,
        customer_id: str,
        on: date,
        revenue: Sequence[AmountLine],
        tax: Sequence[AmountLine] = (),
        *,
        gross: Money | None = None,
    ) -> JournalEntry:
        """Receivable (gross) to revenue (net, per account) and tax payable (per rate).

        Pass ``gross`` (the invoice total) to have it checked against the lines: a disagreement
        raises :class:`~o2c.domain.errors.UnbalancedEntry`.
        """
        draft = _Draft()
        self._document(
            draft=draft,
            side=Side.DEBIT,
            document_id=invoice_id,
            customer_id=customer_id,
            revenue=revenue,
            tax=tax,
            gross=gross,
        )
        return self._entry(
            invoice_id, "invoice_issued", on, f"Invoice {invoice_id}", draft, customer=customer_id
        )

    def credit_note_issued(
        self,
        credit_note_id: str,
        customer_id: str,
        on: date,
        revenue: Sequence[AmountLine],
        tax: Sequence[AmountLine] = (),
        *,
        gross: Money | None = None,
        applies_to: str | None = None,
    ) -> JournalEntry:
        """The mirror of an invoice: revenue and tax payable to receivable.

        ``applies_to`` names the invoice the credit note offsets; the receivable posting carries it
        as its document so the invoice's open item reconciles.
        """
        draft = _Draft()
        self._document(
            draft=draft,
            side=Side.CREDIT,
            document_id=credit_note_id,
            customer_id=customer_id,
            revenue=revenue,
            tax=tax,
            gross=gross,
            applies_to=applies_to,
        )
        return self._entry(
            credit_note_id,
            "credit_note_issued",
            on,
            f"Credit note {credit_note_id}",
            draft,
            customer=customer_id,
            applies_to=applies_to,
        )

    def receipt_recorded(
        self,
        receipt_id: str,
        on: date,
        amount: Money,
        *,
        customer_id: str | None = None,
        via: AccountRole = AccountRole.BANK,
    ) -> JournalEntry:
        """Money in: bank (or gateway clearing, ``via``) to unapplied cash, for the payer if known.

        Pass ``customer_id`` when the payer is known; it becomes the party of unapplied cash.
        """
        draft = _Draft()
        draft.add(self._cash_account(via), Side.DEBIT, _positive(amount, "a receipt"))
        draft.add(self._code(AccountRole.UNAPPLIED_CASH), Side.CREDIT, amount, party=customer_id)
        return self._entry(
            receipt_id, "receipt_recorded", on, f"Receipt {receipt_id}", draft, customer=customer_id
        )

    def receipt_applied(
        self,
        receipt_id: str,
        invoice_id: str,
        customer_id: str,
        on: date,
        amount: Money,
        *,
        application_id: str | None = None,
    ) -> JournalEntry:
        """Unapplied cash to the invoice's receivable.

        The source id is ``application_id``, by default ``f"{receipt_id}/{invoice_id}"``; pass your
        own when one receipt is applied to one invoice more than once.
        """
        source = application_id or f"{receipt_id}/{invoice_id}"
        draft = _Draft()
        draft.add(
            self._code(AccountRole.UNAPPLIED_CASH),
            Side.DEBIT,
            _positive(amount, "an application"),
            party=customer_id,
        )
        draft.add(
            self._code(AccountRole.RECEIVABLE),
            Side.CREDIT,
            amount,
            party=customer_id,
            document=invoice_id,
        )
        return self._entry(
            source,
            "receipt_applied",
            on,
            f"Receipt {receipt_id} applied to {invoice_id}",
            draft,
            customer=customer_id,
            receipt=receipt_id,
            invoice=invoice_id,
        )

    def _reduce_receivable(
        self,
        *,
        kind: str,
        description: str,
        source_id: str,
        invoice_id: str,
        customer_id: str,
        on: date,
        amount: Money,
        expense: AccountRole,
        tax_adjustment: Sequence[AmountLine],
    ) -> JournalEntry:
        """``expense`` (net of any tax adjustment) and tax payable to the invoice's receivable."""
        _positive(amount, kind.replace("_", " "))
        tax_total = total((line.amount for line in tax_adjustment), amount.currency)
        net = amount - tax_total
        if net.amount < 0 or any(line.amount.amount < 0 for line in tax_adjustment):
            raise InvalidInput(
                field="tax adjustment",
                value=str(tax_total),
                reason=f"must be positive parts of the {amount} taken off",
            )
        draft = _Draft()
        if net.amount > 0:
            draft.add(self._code(expense), Side.DEBIT, net)
        for line in tax_adjustment:
            account = line.account or self._code(AccountRole.TAX_PAYABLE)
            draft.add(account, Side.DEBIT, line.amount, memo=line.memo)
        draft.add(
            self._code(AccountRole.RECEIVABLE),
            Side.CREDIT,
            amount,
            party=customer_id,
            document=invoice_id,
        )
        return self._entry(
            source_id, kind, on, description, draft, customer=customer_id, invoice=invoice_id
        )

    def discount_taken(
        self,
        invoice_id: str,
        customer_id: str,
        on: date,
        discount: Money,
        tax_adjustment: Sequence[AmountLine] = (),
        *,
        source_id: str | None = None,
    ) -> JournalEntry:
        """An early-payment discount: sales discounts (and the tax it corrects) to receivable.

        ``discount`` is the gross amount taken off the invoice; ``tax_adjustment`` are the parts of
        it that reduce tax payable (per rate), and sales discounts get the rest.
        """
        return self._reduce_receivable(
            kind="discount_taken",
            description=f"Early-payment discount on {invoice_id}",
            source_id=source_id or invoice_id,
            invoice_id=invoice_id,
            customer_id=customer_id,
            on=on,
            amount=discount,
            expense=AccountRole.SALES_DISCOUNTS,
            tax_adjustment=tax_adjustment,
        )

    def short_payment_written_off(
        self,
        invoice_id: str,
        customer_id: str,
        on: date,
        amount: Money,
        *,
        source_id: str | None = None,
    ) -> JournalEntry:
        """A short payment within tolerance: write-off (small differences) to receivable."""
        return self._reduce_receivable(
            kind="short_payment_written_off",
            description=f"Short payment on {invoice_id} written off",
            source_id=source_id or invoice_id,
            invoice_id=invoice_id,
            customer_id=customer_id,
            on=on,
            amount=amount,
            expense=AccountRole.WRITE_OFF,
            tax_adjustment=(),
        )

    def bad_debt_written_off(
        self,
        invoice_id: str,
        customer_id: str,
        on: date,
        amount: Money,
        tax_adjustment: Sequence[AmountLine] = (),
        *,
        source_id: str | None = None,
    ) -> JournalEntry:
        """A bad debt: bad-debt expense (or allowance) to receivable.

        ``tax_adjustment`` are the parts of ``amount`` whose tax is reclaimed from the tax office,
        where the law allows it.
        """
        return self._reduce_receivable(
            kind="bad_debt_written_off",
            description=f"Bad debt {invoice_id} written off",
            source_id=source_id or invoice_id,
            invoice_id=invoice_id,
            customer_id=customer_id,
            on=on,
            amount=amount,
            expense=AccountRole.BAD_DEBT,
            tax_adjustment=tax_adjustment,
        )

    def _charge(
        self, *, kind: str, charge_id: str, customer_id: str, on: date, amount: Money, income: str
    ) -> JournalEntry:
        draft = _Draft()
        draft.add(
            self._code(AccountRole.RECEIVABLE),
            Side.DEBIT,
            _positive(amount, "a charge"),
            party=customer_id,
            document=charge_id,
        )
        draft.add(income, Side.CREDIT, amount)
        description = f"{kind.split('_', maxsplit=1)[0].capitalize()} charge {charge_id}"
        return self._entry(charge_id, kind, on, description, draft, customer=customer_id)

    def fee_charged(
        self, charge_id: str, customer_id: str, on: date, amount: Money
    ) -> JournalEntry:
        """A dunning fee: receivable (the charge document) to fee income."""
        return self._charge(
            kind="fee_charged",
            charge_id=charge_id,
            customer_id=customer_id,
            on=on,
            amount=amount,
            income=self._code(AccountRole.FEE_INCOME),
        )

    def interest_charged(
        self, charge_id: str, customer_id: str, on: date, amount: Money
    ) -> JournalEntry:
        """Late-payment interest: receivable (the charge document) to interest income."""
        return self._charge(
            kind="interest_charged",
            charge_id=charge_id,
            customer_id=customer_id,
            on=on,
            amount=amount,
            income=self._code(AccountRole.INTEREST_INCOME),
        )

    def bank_fee_charged(
        self, line_id: str, on: date, amount: Money, description: str = ""
    ) -> JournalEntry:
        """Charges the bank took (a statement line): payment fees to bank."""
        draft = _Draft()
        draft.add(self._code(AccountRole.PAYMENT_FEES), Side.DEBIT, _positive(amount, "a fee"))
        draft.add(self._code(AccountRole.BANK), Side.CREDIT, amount)
        text = f"Bank charges {description}".strip()
        return self._entry(line_id, "bank_fee_charged", on, text, draft)

    def credit_refunded(
        self,
        refund_id: str,
        customer_id: str,
        on: date,
        amount: Money,
        *,
        held_in: AccountRole = AccountRole.UNAPPLIED_CASH,
        via: AccountRole = AccountRole.BANK,
    ) -> JournalEntry:
        """Money back to a customer: unapplied cash (or customer credit, ``held_in``) to bank."""
        if held_in not in (AccountRole.UNAPPLIED_CASH, AccountRole.CUSTOMER_CREDIT):
            raise InvalidInput(
                field="held in",
                value=held_in.value,
                reason="a refund comes out of unapplied cash or customer credit",
            )
        draft = _Draft()
        draft.add(self._code(held_in), Side.DEBIT, _positive(amount, "a refund"), party=customer_id)
        draft.add(self._cash_account(via), Side.CREDIT, amount)
        return self._entry(
            refund_id, "credit_refunded", on, f"Refund {refund_id}", draft, customer=customer_id
        )

    def receipt_reversed(
        self,
        receipt_id: str,
        on: date,
        amount: Money,
        applications: Sequence[tuple[str, Money]] = (),
        *,
        customer_id: str | None = None,
        via: AccountRole = AccountRole.BANK,
    ) -> JournalEntry:
        """A bounced or charged-back receipt: the mirror of its recording and its applications.

        ``applications`` are ``(invoice id, amount)`` pairs: those invoices' receivables reopen;
        what was never applied leaves unapplied cash. The money leaves bank (or gateway clearing
        for a card chargeback, ``via``).
        """
        _positive(amount, "a reversal")
        applied = total((part for _, part in applications), amount.currency)
        unapplied = amount - applied
        if unapplied.amount < 0:
            raise InvalidInput(
                field="applications",
                value=str(applied),
                reason=f"more than the {amount} received",
            )
        draft = _Draft()
        for invoice_id, part in applications:
            draft.add(
                self._code(AccountRole.RECEIVABLE),
                Side.DEBIT,
                _positive(part, "an application"),
                party=customer_id,
                document=invoice_id,
            )
        if unapplied.amount > 0:
            draft.add(
                self._code(AccountRole.UNAPPLIED_CASH), Side.DEBIT, unapplied, party=customer_id
            )
        draft.add(self._cash_account(via), Side.CREDIT, amount)
        return self._entry(
            receipt_id,
            "receipt_reversed",
            on,
            f"Receipt {receipt_id} reversed",
            draft,
            customer=customer_id,
        )

    def gateway_settled(
        self, settlement_id: str, on: date, gross: Money, fees: Money | None = None
    ) -> JournalEntry:
        """A gateway payout: bank (net of fees) and payment fees to gateway clearing (gross)."""
        _positive(gross, "a settlement")
        fee = zero(gross.currency) if fees is None else fees
        if fee.currency != gross.currency:
            raise CurrencyMismatch(expected=gross.currency.code, actual=fee.currency.code)
        if fee.amount < 0 or fee >= gross:
            raise InvalidInput(
                field="fees", value=str(fee), reason=f"must be at least zero and below {gross}"
            )
        draft = _Draft()
        draft.add(self._code(AccountRole.BANK), Side.DEBIT, gross - fee)
        if fee.amount > 0:
            draft.add(self._code(AccountRole.PAYMENT_FEES), Side.DEBIT, fee)
        draft.add(self._code(AccountRole.GATEWAY_CLEARING), Side.CREDIT, gross)
        return self._entry(
            settlement_id, "gateway_settled", on, f"Gateway settlement {settlement_id}", draft
        )

    def fx_difference(
        self,
        source_id: str,
        customer_id: str,
        on: date,
        booked: Money,
        settled: Money,
        *,
        invoice_id: str | None = None,
    ) -> JournalEntry | None:
        """The realised FX gain or loss when a foreign-currency receivable is settled.

        Both amounts are in the functional currency: ``booked`` is what the receivable was booked
        at (the invoice's rate), ``settled`` what the receipt applied to it was worth (the
        receipt's rate). The receivable is corrected by the difference against FX gain (settled
        more) or FX loss (settled less). No difference, no entry: returns ``None``.
        """
        if booked.currency != settled.currency:
            raise CurrencyMismatch(expected=booked.currency.code, actual=settled.currency.code)
        difference = settled - booked
        if difference.amount == 0:
            return None
        receivable = self._code(AccountRole.RECEIVABLE)
        draft = _Draft()
        if difference.amount > 0:
            draft.add(receivable, Side.DEBIT, difference, party=customer_id, document=invoice_id)
            draft.add(self._code(AccountRole.FX_GAIN), Side.CREDIT, difference)
        else:
            draft.add(self._code(AccountRole.FX_LOSS), Side.DEBIT, -difference)
            draft.add(receivable, Side.CREDIT, -difference, party=customer_id, document=invoice_id)
        return self._entry(
            source_id,
            "fx_difference",
            on,
            f"Realised FX difference on {source_id}",
            draft,
            customer=customer_id,
            invoice=invoice_id,
        )

    def _cash_account(self, via: AccountRole) -> str:
        if via not in (AccountRole.BANK, AccountRole.GATEWAY_CLEARING):
            raise InvalidInput(
                field="via", value=via.value, reason="money moves through bank or gateway clearing"
            )
        return self._code(via)


# --- from events to entries ---------------------------------------------------------------------

Entries = tuple[JournalEntry, ...]

_GATEWAY_METHODS = frozenset({PaymentMethod.CARD, PaymentMethod.WALLET})


def receipt_account(method: PaymentMethod) -> AccountRole:
    """Where a receipt's money arrives: gateway clearing for card and wallet, else the bank."""
    return AccountRole.GATEWAY_CLEARING if method in _GATEWAY_METHODS else AccountRole.BANK


def _plain(amount: Money) -> str:
    return f"{amount.amount:f}"


def _lines(tax_lines: tuple[TaxLine, ...]) -> tuple[tuple[AmountLine, ...], tuple[AmountLine, ...]]:
    """Revenue (the base) and tax per tax category, each line marked with the category."""
    revenue = tuple(AmountLine(t.base, memo=t.category.label) for t in tax_lines)
    tax = tuple(AmountLine(t.tax, memo=t.category.label) for t in tax_lines if t.tax.amount)
    return revenue, tax


def _transfer(
    rules: PostingRules,
    *,
    entry_id: str,
    source: str,
    on_date: date,
    description: str,
    debit: tuple[AccountRole, str | None, str | None],
    credit: tuple[AccountRole, str | None, str | None],
    amount: Money,
    kind: str,
) -> JournalEntry:
    """An entry that moves ``amount`` between two roles, for facts no posting rule covers."""
    chart = rules.chart
    (debit_role, debit_party, debit_document) = debit
    (credit_role, credit_party, credit_document) = credit
    return JournalEntry(
        entry_id,
        on_date,
        description,
        (
            Posting(chart.code(debit_role), Side.DEBIT, amount, debit_party, debit_document),
            Posting(chart.code(credit_role), Side.CREDIT, amount, credit_party, credit_document),
        ),
        source,
        {"kind": kind},
    )


def _mirror(entry: JournalEntry, entry_id: str, description: str) -> JournalEntry:
    """``entry`` with every posting on the other side: it undoes ``entry`` exactly."""
    postings = tuple(attrs.evolve(p, side=p.side.opposite) for p in entry.postings)
    kind = entry.meta("kind") or "entry"
    metadata = {**dict(entry.metadata), "kind": f"{kind}_reversed", "reverses": entry.entry_id}
    return JournalEntry(entry_id, entry.date, description, postings, entry.source, metadata)


def _without_party(entry: JournalEntry) -> JournalEntry:
    """``entry`` with the placeholder party of an unknown payer removed."""
    postings = tuple(attrs.evolve(p, party=None) if p.party == "" else p for p in entry.postings)
    metadata = tuple((k, v) for k, v in entry.metadata if not (k == "customer" and v == ""))
    return attrs.evolve(entry, postings=postings, metadata=metadata)


# --- documents ----------------------------------------------------------------------------------


def _invoice_issued(event: InvoiceIssued, rules: PostingRules) -> Entries:
    revenue, tax = _lines(event.tax_lines)
    entry = rules.invoice_issued(
        event.invoice_number, event.customer_id, event.on, revenue, tax, gross=event.gross
    )
    return (entry,)


def _credit_note_issued(event: CreditNoteIssued, rules: PostingRules) -> Entries:
    revenue, tax = _lines(event.tax_lines)
    note = event.credit_note_number
    entry = rules.credit_note_issued(
        note,
        event.customer_id,
        event.on,
        revenue,
        tax,
        gross=event.gross,
        applies_to=event.invoice_number,
    )
    if event.customer_credit.amount <= 0:
        return (entry,)
    # What the note credits beyond the open amount is owed to the customer, not receivable.
    credit = _transfer(
        rules,
        entry_id=f"{note}:customer_credit_granted",
        source=note,
        on_date=event.on,
        description=f"Credit note {note}: customer credit",
        debit=(AccountRole.RECEIVABLE, event.customer_id, event.invoice_number),
        credit=(AccountRole.CUSTOMER_CREDIT, event.customer_id, None),
        amount=event.customer_credit,
        kind="customer_credit_granted",
    )
    return entry, credit


def _discount_granted(event: InvoiceDiscountGranted, rules: PostingRules) -> Entries:
    if event.receipt_id is not None:
        return ()  # the receipt's allocation posts it (ReceiptApplied)
    customer = _customer(event.customer_id, event.invoice_number)
    source = f"{event.invoice_number}@{_plain(event.open)}"
    return (
        rules.discount_taken(
            event.invoice_number, customer, event.on, event.amount, source_id=source
        ),
    )


def _written_off(event: InvoiceWrittenOff, rules: PostingRules) -> Entries:
    if event.kind is WriteOffKind.SMALL_DIFFERENCE:
        return ()  # the rest of a short payment: the receipt's allocation posts it
    customer = _customer(event.customer_id, event.invoice_number)
    source = f"{event.invoice_number}@{event.on.isoformat()}/{_plain(event.open)}"
    return (
        rules.bad_debt_written_off(
            event.invoice_number, customer, event.on, event.amount, source_id=source
        ),
    )


def _reopened(event: InvoiceReopened, rules: PostingRules) -> Entries:
    reclaimed = event.customer_credit_reclaimed
    if reclaimed.amount <= 0:
        return ()  # the receipt's reversal posts the reopening
    customer = _customer(event.customer_id, event.invoice_number)
    # The receipt's reversal reopened the whole receivable; credit handed out covers this part.
    return (
        _transfer(
            rules,
            entry_id=f"{event.receipt_id}/{event.invoice_number}:customer_credit_reclaimed",
            source=event.invoice_number,
            on_date=event.on,
            description=f"Customer credit of {event.invoice_number} reclaimed",
            debit=(AccountRole.CUSTOMER_CREDIT, customer, None),
            credit=(AccountRole.RECEIVABLE, customer, event.invoice_number),
            amount=reclaimed,
            kind="customer_credit_reclaimed",
        ),
    )


def _customer(customer_id: str | None, document: str) -> str:
    if not customer_id:
        raise InvalidInput(
            field="customer", value=document, reason="the event names no customer to post for"
        )
    return customer_id


# --- cash ---------------------------------------------------------------------------------------


def _receipt_recorded(event: ReceiptRecorded, rules: PostingRules) -> Entries:
    return (
        rules.receipt_recorded(
            event.receipt_id,
            event.on,
            event.amount,
            customer_id=event.customer_id,
            via=receipt_account(event.method),
        ),
    )


def _allocation_entries(
    allocation: Allocation, rules: PostingRules, on: date, source: str
) -> Entries:
    """Cash to the receivable, then the discount and the write-off the allocation settled."""
    item = allocation.item_id
    customer = _customer(allocation.customer_id, item)
    entries: list[JournalEntry] = []
    if allocation.applied.amount > 0:
        entries.append(
            rules.receipt_applied(
                allocation.receipt_id, item, customer, on, allocation.applied, application_id=source
            )
        )
    if allocation.discount.amount > 0:
        entries.append(
            rules.discount_taken(item, customer, on, allocation.discount, source_id=source)
        )
    if allocation.write_off.amount > 0:
        entries.append(
            rules.short_payment_written_off(
                item, customer, on, allocation.write_off, source_id=source
            )
        )
    return tuple(entries)


def _receipt_applied(event: ReceiptApplied, rules: PostingRules) -> Entries:
    # What is left unapplied after the event tells applications of one receipt apart: it only
    # ever goes down, so two applications of a receipt to one item never share an id.
    left = _plain(event.unapplied)
    entries: list[JournalEntry] = []
    for allocation in event.allocations:
        source = f"{event.receipt_id}/{allocation.item_id}@{left}"
        entries.extend(_allocation_entries(allocation, rules, event.on, source))
    return tuple(entries)


def _receipt_reversed(event: ReceiptReversed, rules: PostingRules) -> Entries:
    receipt = event.receipt_id
    entries = [
        # The recording undone: unapplied cash back to the bank (or gateway clearing).
        rules.receipt_reversed(
            receipt,
            event.on,
            event.amount,
            customer_id=event.customer_id,
            via=receipt_account(event.method),
        )
    ]
    for position, allocation in enumerate(event.reversed_allocations):
        source = f"{receipt}/{allocation.item_id}#{position}"
        for original in _allocation_entries(allocation, rules, event.on, source):
            entry_id = f"{source}:{original.meta('kind')}_reversed"
            description = f"Reversal: {original.description}"
            entries.append(_mirror(original, entry_id, description))
    return tuple(entries)


def _receipt_refunded(event: ReceiptRefunded, rules: PostingRules) -> Entries:
    so_far = event.refunded_total if event.refunded_total is not None else event.amount
    refund_id = f"{event.receipt_id}/refund@{_plain(so_far)}"
    entry = rules.credit_refunded(
        refund_id,
        event.customer_id or "",
        event.on,
        event.amount,
        via=receipt_account(event.method),
    )
    return (entry if event.customer_id else _without_party(entry),)


# --- dunning ------------------------------------------------------------------------------------


def _fee_charged(event: DunningFeeCharged, rules: PostingRules) -> Entries:
    return (rules.fee_charged(event.charge_id, event.customer_id, event.on, event.amount),)


def _interest_charged(event: InterestCharged, rules: PostingRules) -> Entries:
    return (rules.interest_charged(event.charge_id, event.customer_id, event.on, event.amount),)


def _bank_fee_charged(event: BankFeeCharged, rules: PostingRules) -> Entries:
    return (rules.bank_fee_charged(event.line_id, event.on, event.amount, event.description),)


# --- gateway payouts ----------------------------------------------------------------------------


def _payout_settled(event: GatewayPayoutSettled, rules: PostingRules) -> Entries:
    entry = rules.gateway_settled(event.payout_id, event.on, event.gross, event.fees)
    if not event.gateway:
        return (entry,)
    return (attrs.evolve(entry, metadata={**dict(entry.metadata), "gateway": event.gateway}),)


# --- the table ----------------------------------------------------------------------------------

Handler = Callable[[Any, PostingRules], Entries]

POSTING_HANDLERS: Mapping[type[DomainEvent], Handler] = MappingProxyType(
    {
        InvoiceIssued: _invoice_issued,
        CreditNoteIssued: _credit_note_issued,
        InvoiceDiscountGranted: _discount_granted,
        InvoiceWrittenOff: _written_off,
        InvoiceReopened: _reopened,
        ReceiptRecorded: _receipt_recorded,
        ReceiptApplied: _receipt_applied,
        ReceiptReversed: _receipt_reversed,
        ReceiptRefunded: _receipt_refunded,
        DunningFeeCharged: _fee_charged,
        InterestCharged: _interest_charged,
        BankFeeCharged: _bank_fee_charged,
        GatewayPayoutSettled: _payout_settled,
    }
)
"""The event types that may post, each with the function that builds its entries."""


def journal_entries(event: DomainEvent, rules: PostingRules) -> tuple[JournalEntry, ...]:
    """The journal entries that record ``event`` under ``rules``; ``()`` if it moves no money.

    Deterministic: the same event gives the same entries, with ids derived from the event, so
    posting them twice posts them once. Raises :class:`~o2c.domain.errors.UnmappedAccountRole`
    when the chart lacks a role an entry needs, and :class:`~o2c.domain.errors.InvalidInput` for a
    receivable event that names no customer.
    """
    handler = POSTING_HANDLERS.get(type(event))
    return () if handler is None else handler(event, rules)
