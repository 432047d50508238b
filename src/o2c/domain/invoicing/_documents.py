"""What invoices and credit notes share: reading their amounts, and naming them in errors."""

from __future__ import annotations

from o2c.domain.invoicing.amounts import DocumentAmounts, InvoiceLine, TaxLine, Totals
from o2c.domain.money import Money


def number_of(text: str | None) -> str:
    """A document's number, or how a draft without one is named in errors."""
    return text or "(draft)"


class PricedDocument:
    """What invoices and credit notes read alike from their document amounts."""

    __slots__ = ()
    amounts: DocumentAmounts

    @property
    def lines(self) -> tuple[InvoiceLine, ...]:
        """The priced lines."""
        return self.amounts.lines

    @property
    def tax_lines(self) -> tuple[TaxLine, ...]:
        """One tax line per tax category."""
        return self.amounts.tax_lines

    @property
    def totals(self) -> Totals:
        """Net, tax and gross."""
        return self.amounts.totals

    @property
    def gross(self) -> Money:
        """The gross total."""
        return self.amounts.totals.gross
