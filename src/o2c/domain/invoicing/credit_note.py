"""Credit notes: what corrects an issued invoice, never crediting more than is left on it.

A credit note's gross and its per-category base and tax are checked against the invoice minus
earlier credit notes (:class:`~o2c.domain.errors.OverCredit`), and a credit by lines never
returns more than was invoiced of a line. Applying a credit note
(:meth:`~o2c.domain.invoicing.invoice.Invoice.apply_credit_note`) takes off what is open; whatever
it credits beyond that (the invoice was already paid) is customer credit, reported on the
:class:`~o2c.domain.invoicing.lifecycle.CreditNoteIssued` event for the caller to hold on account
or refund.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from o2c.domain.errors import (
    CurrencyMismatch,
    EmptyInvoice,
    InvalidAmount,
    InvalidInput,
    OverCredit,
)
from o2c.domain.invoicing._documents import PricedDocument, number_of
from o2c.domain.invoicing.amounts import (
    DocumentAmounts,
    InvoiceLine,
    PriceBasis,
    TaxLine,
    TaxRounding,
    assemble_amounts,
    compute_amounts,
    spread_by_weight,
)
from o2c.domain.invoicing.lifecycle import InvoiceTrigger
from o2c.domain.invoicing.lines import InvoiceableLine, check_quantity
from o2c.domain.money import Money, is_exact, zero
from o2c.domain.tax import TaxCategory

if TYPE_CHECKING:
    # Only for annotations: the invoice module imports the credit checks below at run time.
    from o2c.domain.invoicing.invoice import Invoice

__all__ = ["CreditNoteKind", "CreditNote"]

_ZERO = Decimal(0)


class CreditNoteKind(enum.Enum):
    """What a credit note credits."""

    FULL = "full"
    """Everything still left to credit on the invoice."""
    LINES = "lines"
    """Quantities of selected invoice lines."""
    AMOUNT = "amount"
    """A gross amount (a price reduction), spread over the tax categories."""


def add_tax_lines(earlier: tuple[TaxLine, ...], more: tuple[TaxLine, ...]) -> tuple[TaxLine, ...]:
    merged = list(earlier)
    for tax_line in more:
        for i, known in enumerate(merged):
            if known.category == tax_line.category:
                merged[i] = TaxLine(
                    known.category, known.base + tax_line.base, known.tax + tax_line.tax
                )
                break
        else:
            merged.append(tax_line)
    return tuple(merged)


def _credited_in(invoice: Invoice, category: TaxCategory) -> TaxLine:
    for tax_line in invoice.credited_tax_lines:
        if tax_line.category == category:
            return tax_line
    return TaxLine(category, zero(invoice.currency), zero(invoice.currency))


def _within_what_is_left(invoice: Invoice, amounts: DocumentAmounts) -> DocumentAmounts:
    """The amounts of a credit by amount, each category's tax moved to fit what is left.

    Tax extracted from a category's share of the gross can differ by a minor unit from the tax
    still uncredited there (the invoice and earlier notes rounded their own figures): a share of
    0.24 at 7 % extracts 0.02 of tax where only 0.01 is left. The gross of each category stays
    as spread; its tax is kept between what leaves the base within what is left and the tax left,
    so the credit never exceeds the invoice in base or tax, and crediting the rest comes out
    exact.
    """
    # A credit by amount has one line per tax category.
    line_of = {line.item.tax_category: line for line in amounts.lines}
    lines: list[InvoiceLine] = []
    tax_lines: list[TaxLine] = []
    changed = False
    for tax_line in amounts.tax_lines:
        line = line_of[tax_line.category]
        invoiced = invoice.amounts.tax_line(tax_line.category)
        credited = _credited_in(invoice, tax_line.category)
        if invoiced is None:
            return amounts  # check_creditable refuses it with the reason
        base_left, tax_left = invoiced.base - credited.base, invoiced.tax - credited.tax
        gross = tax_line.base + tax_line.tax
        floor = max(gross - base_left, zero(invoice.currency))
        tax = min(max(tax_line.tax, floor), tax_left)
        if tax != tax_line.tax:
            changed = True
        base = gross - tax
        lines.append(InvoiceLine(line.item, line.amount, base, tax))
        tax_lines.append(TaxLine(tax_line.category, base, tax))
    if not changed:
        return amounts
    return assemble_amounts(invoice.currency, tuple(lines), tuple(tax_lines))


def check_creditable(
    invoice: Invoice, amounts: DocumentAmounts, quantities: tuple[Decimal, ...]
) -> None:
    """Raise :class:`OverCredit` unless the invoice has this much left to credit."""
    number = number_of(invoice.number)
    gross = amounts.totals.gross
    if gross > invoice.creditable:
        raise OverCredit(
            invoice_number=number, creditable=str(invoice.creditable), requested=str(gross)
        )
    for tax_line in amounts.tax_lines:
        invoiced = invoice.amounts.tax_line(tax_line.category)
        credited = _credited_in(invoice, tax_line.category)
        if (
            invoiced is None
            or credited.base + tax_line.base > invoiced.base
            or credited.tax + tax_line.tax > invoiced.tax
        ):
            left = (
                "nothing"
                if invoiced is None
                else f"{invoiced.base - credited.base} net, {invoiced.tax - credited.tax} tax"
            )
            raise OverCredit(
                invoice_number=number,
                creditable=f"{left} in {tax_line.category.label}",
                requested=f"{tax_line.base} net, {tax_line.tax} tax",
            )
    if len(quantities) != len(invoice.lines):
        raise InvalidInput(
            field="credited quantities",
            value=str(len(quantities)),
            reason=f"{number} has {len(invoice.lines)} lines",
        )
    for number_of_line, (line, done, asked) in enumerate(
        zip(invoice.lines, invoice.credited_quantities, quantities, strict=True), start=1
    ):
        if asked < 0 or done + asked > line.quantity:
            raise OverCredit(
                invoice_number=number,
                creditable=f"{line.quantity - done} of line {number_of_line}",
                requested=str(asked),
            )


@attrs.frozen
class CreditNote(PricedDocument):
    """A credit note against an issued invoice: its own number, date, lines, tax lines, totals.

    Build with :meth:`full`, :meth:`for_lines` or :meth:`for_amount`, which check it against what
    is left to credit; apply it with
    :meth:`~o2c.domain.invoicing.invoice.Invoice.apply_credit_note`, which checks again (another
    credit note may have been applied in between).
    """

    number: str
    invoice_number: str
    customer_id: str
    currency: str
    issue_date: date
    reason: str
    kind: CreditNoteKind
    amounts: DocumentAmounts
    credited_quantities: tuple[Decimal, ...]
    """Per invoice line, the quantity this note returns (zeros for a credit by amount)."""
    prices: PriceBasis = PriceBasis.TAX_EXCLUSIVE
    tax_rounding: TaxRounding = TaxRounding.PER_DOCUMENT

    @classmethod
    def full(cls, invoice: Invoice, number: str, on: date, reason: str) -> CreditNote:
        """Credit everything still left to credit on ``invoice``.

        Without earlier credit notes it repeats the invoice's lines and amounts exactly. After
        earlier ones it credits, per tax category, the invoice's base and tax less what they
        credited, one line per category, so the invoice ends up credited to the minor unit.
        """
        _check_credit_target(invoice, number, on)
        rest = tuple(
            line.quantity - done
            for line, done in zip(invoice.lines, invoice.credited_quantities, strict=True)
        )
        if invoice.creditable.amount <= 0:
            raise OverCredit(
                invoice_number=number_of(invoice.number),
                creditable=str(invoice.creditable),
                requested="the rest",
            )
        if not invoice.credit_notes:
            amounts = invoice.amounts
        else:
            lines: list[InvoiceLine] = []
            tax_lines: list[TaxLine] = []
            inclusive = invoice.prices is PriceBasis.TAX_INCLUSIVE
            for invoiced in invoice.tax_lines:
                credited = _credited_in(invoice, invoiced.category)
                base, tax = invoiced.base - credited.base, invoiced.tax - credited.tax
                if base.amount == 0 and tax.amount == 0:
                    continue
                amount = base + tax if inclusive else base
                item = InvoiceableLine(
                    order_id="",
                    order_line_id="",
                    product_id="",
                    description=f"rest of invoice {invoice.number} ({invoiced.category.label})",
                    quantity=Decimal(1),
                    unit_price=amount,
                    tax_category=invoiced.category,
                )
                lines.append(InvoiceLine(item, amount, base, tax))
                tax_lines.append(TaxLine(invoiced.category, base, tax))
            amounts = assemble_amounts(invoice.currency, tuple(lines), tuple(tax_lines))
        return cls._checked(
            invoice, number, on, reason, kind=CreditNoteKind.FULL, amounts=amounts, quantities=rest
        )

    @classmethod
    def for_lines(
        cls,
        invoice: Invoice,
        number: str,
        on: date,
        reason: str,
        quantities: Mapping[int, Decimal],
    ) -> CreditNote:
        """Credit ``quantities`` of invoice lines, keyed by line number (1-based).

        The lines are priced again at the invoice's prices, discounts and rounding. A selection
        that returns everything still uncredited is the :meth:`full` credit note, so rounding
        can never leave a minor unit behind or credit one too many.
        """
        _check_credit_target(invoice, number, on)
        if not quantities:
            raise EmptyInvoice(document_id=number)
        asked = [_ZERO] * len(invoice.lines)
        for line_number, quantity in quantities.items():
            index = invoice._line_index(line_number)
            check_quantity(None, None, quantity)
            asked[index] = quantity
        rest = [
            line.quantity - done
            for line, done in zip(invoice.lines, invoice.credited_quantities, strict=True)
        ]
        if asked == rest:
            return cls.full(invoice, number, on, reason)
        items = [
            attrs.evolve(line.item, quantity=quantity)
            for line, quantity in zip(invoice.lines, asked, strict=True)
            if quantity > 0
        ]
        for index, quantity in enumerate(asked):
            if quantity > rest[index]:
                raise OverCredit(
                    invoice_number=number_of(invoice.number),
                    creditable=f"{rest[index]} of line {index + 1}",
                    requested=str(quantity),
                )
        amounts = compute_amounts(items, invoice.currency, invoice.prices, invoice.tax_rounding)
        return cls._checked(
            invoice,
            number,
            on,
            reason,
            kind=CreditNoteKind.LINES,
            amounts=amounts,
            quantities=tuple(asked),
        )

    @classmethod
    def for_amount(
        cls, invoice: Invoice, number: str, on: date, reason: str, amount: Money
    ) -> CreditNote:
        """Credit a gross ``amount`` (a price reduction) without returning any quantity.

        The amount is spread over the tax categories in proportion to what is left to credit in
        each (largest remainder), and each category's tax is extracted from its share as for
        tax-inclusive prices rounded per document. Crediting exactly what is left is the
        :meth:`full` credit note.
        """
        _check_credit_target(invoice, number, on)
        if amount.currency.code != invoice.currency:
            raise CurrencyMismatch(expected=invoice.currency, actual=amount.currency.code)
        if amount.amount <= 0 or not is_exact(amount):
            raise InvalidAmount(value=str(amount), reason="must be positive and exact")
        if amount > invoice.creditable:
            raise OverCredit(
                invoice_number=number_of(invoice.number),
                creditable=str(invoice.creditable),
                requested=str(amount),
            )
        if amount == invoice.creditable:
            return cls.full(invoice, number, on, reason)
        left = [
            (invoiced.category, invoiced.gross - _credited_in(invoice, invoiced.category).gross)
            for invoiced in invoice.tax_lines
        ]
        shares = spread_by_weight(amount, [rest for _, rest in left])
        items = [
            InvoiceableLine(
                order_id="",
                order_line_id="",
                product_id="",
                description=reason,
                quantity=Decimal(1),
                unit_price=share,
                tax_category=category,
            )
            for (category, _), share in zip(left, shares, strict=True)
            if share.amount > 0
        ]
        amounts = _within_what_is_left(
            invoice,
            compute_amounts(
                items, invoice.currency, PriceBasis.TAX_INCLUSIVE, TaxRounding.PER_DOCUMENT
            ),
        )
        return cls._checked(
            invoice,
            number,
            on,
            reason,
            kind=CreditNoteKind.AMOUNT,
            amounts=amounts,
            quantities=tuple(_ZERO for _ in invoice.lines),
            prices=PriceBasis.TAX_INCLUSIVE,
            tax_rounding=TaxRounding.PER_DOCUMENT,
        )

    @classmethod
    def _checked(
        cls,
        invoice: Invoice,
        number: str,
        on: date,
        reason: str,
        *,
        kind: CreditNoteKind,
        amounts: DocumentAmounts,
        quantities: tuple[Decimal, ...],
        prices: PriceBasis | None = None,
        tax_rounding: TaxRounding | None = None,
    ) -> CreditNote:
        check_creditable(invoice, amounts, quantities)
        assert invoice.number is not None  # checked by _check_credit_target
        return cls(
            number=number,
            invoice_number=invoice.number,
            customer_id=invoice.customer_id,
            currency=invoice.currency,
            issue_date=on,
            reason=reason,
            kind=kind,
            amounts=amounts,
            credited_quantities=quantities,
            prices=prices or invoice.prices,
            tax_rounding=tax_rounding or invoice.tax_rounding,
        )


def _check_credit_target(invoice: Invoice, number: str, on: date) -> None:
    invoice._guard(InvoiceTrigger.CREDIT_IN_PART, InvoiceTrigger.CREDIT)
    if not number:
        raise InvalidInput(field="credit note number", value=number, reason="must not be empty")
    invoice._check_date(on, "credit note date")
