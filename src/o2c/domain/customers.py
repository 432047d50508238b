"""Customers: who orders, who is invoiced, and how their payments are recognised.

A :class:`Customer` is master data that the cycle reads: its currency, its default payment terms,
the bank accounts it pays from (so cash application can tell who paid) and where notices go. Its
credit standing lives in :mod:`o2c.domain.credit`, its open items in the invoices.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from o2c.domain.errors import InvalidInput
from o2c.domain.money import as_currency
from o2c.domain.references import normalise_account
from o2c.domain.terms import PaymentTerms

__all__ = ["Address", "Customer"]


def _required(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise InvalidInput(field=attribute.name, value=value, reason="must not be empty")


def _accounts(accounts: Iterable[str]) -> frozenset[str]:
    return frozenset(normalise_account(account) for account in accounts)


def _currency(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    as_currency(value)


@attrs.frozen
class Address:
    """A postal address; ``country`` is the ISO 3166-1 alpha-2 code."""

    street: str
    city: str
    postcode: str
    country: str = attrs.field(validator=attrs.validators.matches_re(r"^[A-Z]{2}$"))


@attrs.frozen
class Customer:
    """A customer of the business, as the order-to-cash cycle needs to know it."""

    customer_id: str = attrs.field(validator=_required)
    name: str = attrs.field(validator=_required)
    currency: str = attrs.field(validator=_currency)
    """The currency the customer is invoiced in."""
    terms: PaymentTerms = attrs.field(factory=lambda: PaymentTerms.parse("NET 30"))
    email: str | None = None
    address: Address | None = None
    tax_id: str | None = None
    """The customer's VAT or tax registration number, printed on invoices."""
    payer_accounts: frozenset[str] = attrs.field(default=frozenset(), converter=_accounts)
    """Bank accounts (IBANs...) the customer pays from, kept in
    :func:`~o2c.domain.references.normalise_account` form (no spaces, upper case)."""

    def pays_from(self, account: str) -> bool:
        """Whether ``account`` (with or without spaces, any case) is one of the customer's."""
        return normalise_account(account) in self.payer_accounts
