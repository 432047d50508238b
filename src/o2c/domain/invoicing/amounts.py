"""Document amounts: priced lines, tax lines and totals that reconcile to the minor unit.

Every line amount is ``quantity x net unit price`` rounded HALF_UP to the currency, where the net
unit price is ``unit price x (1 - discount % / 100) - unit discount``: the same rule
(:mod:`o2c.domain.pricing`) that prices order lines. Prices are tax-exclusive or tax-inclusive
(:class:`PriceBasis`, one flag per document) and tax is rounded per line or once per tax category
(:class:`TaxRounding`, per document by default). :func:`compute_amounts` is the one function that
turns lines into amounts, for invoices and credit notes alike. Its results always reconcile
exactly: every line's net + tax is its gross, the lines' nets and taxes add up to the tax lines,
the tax lines to the totals, and gross = net + tax. See :func:`compute_amounts` for the methods.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import Decimal

import attrs

from o2c.domain.errors import CurrencyMismatch, EmptyInvoice, InvalidAmount
from o2c.domain.invoicing.lines import InvoiceableLine
from o2c.domain.money import (
    CALC,
    Currency,
    Money,
    Rounding,
    allocate,
    as_currency,
    quantize,
    total,
    zero,
)
from o2c.domain.tax import TaxCategory

__all__ = [
    "PriceBasis",
    "TaxRounding",
    "TAX_ROUNDING",
    "InvoiceLine",
    "TaxLine",
    "Totals",
    "DocumentAmounts",
    "compute_amounts",
]

#: How tax is rounded to the currency.
TAX_ROUNDING = Rounding.HALF_UP

_HUNDRED = Decimal(100)


class PriceBasis(enum.Enum):
    """Whether a document's unit prices exclude or include tax."""

    TAX_EXCLUSIVE = "tax_exclusive"
    """Prices are net; tax is added on top (business customers)."""
    TAX_INCLUSIVE = "tax_inclusive"
    """Prices are gross; net and tax are extracted from them (shops selling to consumers)."""


class TaxRounding(enum.Enum):
    """Where tax is rounded to the currency."""

    PER_DOCUMENT = "per_document"
    """Once per tax category, on the category's summed amount (EN 16931's model; the default)."""
    PER_LINE = "per_line"
    """On every line; the category's tax is the sum of the rounded line taxes."""


@attrs.frozen
class InvoiceLine:
    """A priced line of an invoice or credit note.

    ``amount`` is the line amount in the document's price basis (net when prices exclude tax,
    gross when they include it). ``net`` and ``tax`` are the line's share of its tax category;
    with per-document rounding the category's tax is spread over its lines by largest remainder,
    so ``net + tax == gross`` holds on every line and the lines add up to the tax lines exactly.
    """

    item: InvoiceableLine
    amount: Money
    net: Money
    tax: Money

    @property
    def gross(self) -> Money:
        """Net plus tax."""
        return self.net + self.tax

    @property
    def quantity(self) -> Decimal:
        """The invoiced quantity."""
        return self.item.quantity

    @property
    def tax_category(self) -> TaxCategory:
        """The line's tax category."""
        return self.item.tax_category


@attrs.frozen
class TaxLine:
    """One tax category of a document: the taxable base, the rate and the tax amount."""

    category: TaxCategory
    base: Money
    tax: Money

    @property
    def rate(self) -> Decimal:
        """The category's rate in percent."""
        return self.category.rate

    @property
    def gross(self) -> Money:
        """Base plus tax."""
        return self.base + self.tax


@attrs.frozen
class Totals:
    """A document's totals; ``gross == net + tax`` always."""

    net: Money
    tax: Money
    gross: Money

    def __attrs_post_init__(self) -> None:
        if self.net + self.tax != self.gross:
            raise InvalidAmount(
                value=f"{self.net} + {self.tax} != {self.gross}", reason="totals do not reconcile"
            )


@attrs.frozen
class DocumentAmounts:
    """Lines, tax lines and totals of one document, checked to reconcile to the minor unit."""

    currency: str
    lines: tuple[InvoiceLine, ...]
    tax_lines: tuple[TaxLine, ...]
    totals: Totals

    def __attrs_post_init__(self) -> None:
        cur = self.currency
        for line in self.lines:
            if line.amount.currency.code != cur:
                raise CurrencyMismatch(expected=cur, actual=line.amount.currency.code)
        for tax_line in self.tax_lines:
            lines = [line for line in self.lines if line.tax_category == tax_line.category]
            if (
                total((line.net for line in lines), cur) != tax_line.base
                or total((line.tax for line in lines), cur) != tax_line.tax
            ):
                raise InvalidAmount(
                    value=tax_line.category.label, reason="lines do not add up to the tax line"
                )
        if len({t.category for t in self.tax_lines}) != len(self.tax_lines) or {
            line.tax_category for line in self.lines
        } != {t.category for t in self.tax_lines}:
            raise InvalidAmount(value=cur, reason="one tax line per tax category of the lines")
        if (
            total((t.base for t in self.tax_lines), cur) != self.totals.net
            or total((t.tax for t in self.tax_lines), cur) != self.totals.tax
        ):
            raise InvalidAmount(value=str(self.totals), reason="tax lines do not add up to totals")

    def tax_line(self, category: TaxCategory) -> TaxLine | None:
        """The tax line of ``category``, if the document has one."""
        for tax_line in self.tax_lines:
            if tax_line.category == category:
                return tax_line
        return None


def _tax_of(base: Decimal, rate: Decimal, currency: Currency) -> Money:
    return quantize(CALC.divide(CALC.multiply(base, rate), _HUNDRED), TAX_ROUNDING, currency)


def _tax_within(gross: Decimal, rate: Decimal, currency: Currency) -> Money:
    return quantize(
        CALC.divide(CALC.multiply(gross, rate), _HUNDRED + rate), TAX_ROUNDING, currency
    )


def spread_by_weight(amount: Money, weights: Sequence[Money]) -> tuple[Money, ...]:
    """``amount`` split over lines in proportion to their amounts (all zero when they are)."""
    if not any(w.amount for w in weights):
        return tuple(zero(amount.currency) for _ in weights)
    return allocate(amount, [w.amount for w in weights])


def compute_amounts(
    items: Sequence[InvoiceableLine],
    currency: str | Currency,
    prices: PriceBasis = PriceBasis.TAX_EXCLUSIVE,
    tax_rounding: TaxRounding = TaxRounding.PER_DOCUMENT,
) -> DocumentAmounts:
    """Price lines and compute tax lines and totals, reconciled to the minor unit.

    Each line amount is rounded HALF_UP first
    (:meth:`~o2c.domain.invoicing.lines.InvoiceableLine.amount`). Then, per tax category at rate
    ``r``:

    * tax-exclusive, per line: each line's tax is ``amount x r / 100`` rounded HALF_UP;
    * tax-exclusive, per document: the tax is ``(sum of amounts) x r / 100`` rounded HALF_UP
      once, then spread over the lines by largest remainder;
    * tax-inclusive, per line: each line's tax is ``gross x r / (100 + r)`` rounded HALF_UP and its
      net is ``gross - tax``;
    * tax-inclusive, per document: the category's gross is summed, its tax is
      ``gross x r / (100 + r)`` rounded HALF_UP, its net is ``gross - tax``, and the net is
      allocated back to the lines by largest remainder in proportion to their gross amounts (each
      line's tax is its gross less its net), so the lines add up exactly.

    Raises :class:`EmptyInvoice` for no lines and :class:`CurrencyMismatch` for a line priced in
    another currency.
    """
    cur = as_currency(currency)
    if not items:
        raise EmptyInvoice(document_id="")
    amounts: list[Money] = []
    for item in items:
        if item.currency != cur:
            raise CurrencyMismatch(expected=cur.code, actual=item.currency.code)
        amounts.append(item.amount())
    categories: list[TaxCategory] = []
    for item in items:
        if item.tax_category not in categories:
            categories.append(item.tax_category)
    nets: list[Money] = list(amounts)
    taxes: list[Money] = [zero(cur)] * len(items)
    tax_lines: list[TaxLine] = []
    inclusive = prices is PriceBasis.TAX_INCLUSIVE
    for category in categories:
        rate = category.rate
        members = [i for i, item in enumerate(items) if item.tax_category == category]
        if tax_rounding is TaxRounding.PER_LINE:
            for i in members:
                if inclusive:
                    taxes[i] = _tax_within(amounts[i].amount, rate, cur)
                    nets[i] = amounts[i] - taxes[i]
                else:
                    taxes[i] = _tax_of(amounts[i].amount, rate, cur)
        else:
            summed = total((amounts[i] for i in members), cur)
            if inclusive:
                category_tax = _tax_within(summed.amount, rate, cur)
                shares = spread_by_weight(summed - category_tax, [amounts[i] for i in members])
                for i, share in zip(members, shares, strict=True):
                    nets[i] = share
                    taxes[i] = amounts[i] - share
            else:
                category_tax = _tax_of(summed.amount, rate, cur)
                shares = spread_by_weight(category_tax, [amounts[i] for i in members])
                for i, share in zip(members, shares, strict=True):
                    taxes[i] = share
        tax_lines.append(
            TaxLine(
                category,
                total((nets[i] for i in members), cur),
                total((taxes[i] for i in members), cur),
            )
        )
    return assemble_amounts(
        cur.code,
        tuple(
            InvoiceLine(item, amount, net, tax)
            for item, amount, net, tax in zip(items, amounts, nets, taxes, strict=True)
        ),
        tuple(tax_lines),
    )


def assemble_amounts(
    currency: str, lines: tuple[InvoiceLine, ...], tax_lines: tuple[TaxLine, ...]
) -> DocumentAmounts:
    """Already priced lines and tax lines, with totals taken from the tax lines."""
    net = total((t.base for t in tax_lines), currency)
    tax = total((t.tax for t in tax_lines), currency)
    return DocumentAmounts(currency, lines, tax_lines, Totals(net, tax, net + tax))
