"""Hypothesis strategies for o2c's values: money, order lines, terms, receipts, items, entries.

Every strategy yields values the domain accepts (exact amounts, balanced entries, terms that
parse), so a property can go straight to the behaviour under test. Currencies come from the whole
ISO 4217 list o2c knows, with the usual suspects drawn more often: zero-decimal ``JPY``,
three-decimal ``KWD`` and ``BHD`` next to ``EUR``.

    from hypothesis import given
    from o2c.testing import strategies as o2c_st

    @given(o2c_st.journal_entries())
    def test_my_ledger_balances(entry): ...
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import moneyed
from hypothesis import strategies as st

from o2c.domain.calendar import Adjustment
from o2c.domain.errors import DomainError
from o2c.domain.ledger import ChartOfAccounts, JournalEntry, Posting, Side
from o2c.domain.money import Money, Rounding, as_currency, decimals_of, from_minor, unit_price
from o2c.domain.orders import OrderLine
from o2c.domain.receipts import Payer, PaymentMethod, Receipt
from o2c.domain.receivables import DiscountOffer, Instalment, OpenItem
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import (
    CashInAdvance,
    CashOnDelivery,
    DayOfMonth,
    DiscountTier,
    DueRule,
    EndOfMonth,
    Fixed,
    InstalmentTerm,
    NetDays,
    PaymentTerms,
    Percent,
    Remainder,
)

__all__ = [
    "ALL_CURRENCIES",
    "COMMON_CURRENCIES",
    "CUSTOMERS",
    "amounts",
    "currencies",
    "journal_batches",
    "journal_entries",
    "open_items",
    "order_lines",
    "payment_terms",
    "receipts",
    "terms_notations",
]


def _usable(code: str) -> bool:
    try:
        as_currency(code)
        decimals_of(code)
    except DomainError:
        return False
    return True


ALL_CURRENCIES: tuple[str, ...] = tuple(sorted(c for c in moneyed.CURRENCIES if _usable(c)))
"""Every ISO 4217 code o2c accepts as money."""

COMMON_CURRENCIES: tuple[str, ...] = ("EUR", "USD", "GBP", "CHF", "JPY", "KWD", "BHD")
"""Drawn more often: the two-decimal majors and the zero- and three-decimal edge cases."""

DAY_ZERO = date(2020, 1, 1)

# Built once: building a strategy (a regular expression above all) costs more than drawing from it.
_REFERENCES = st.one_of(st.none(), st.from_regex(r"RF[0-9]{2}[A-Z0-9]{4,10}", fullmatch=True))
_DOCUMENTS = st.one_of(st.none(), st.from_regex(r"INV-[0-9]{1,4}", fullmatch=True))
_ENTRY_IDS = st.from_regex(r"[A-Z]{2,4}-[0-9]{1,6}", fullmatch=True)
_MEMOS = st.one_of(st.none(), st.text(max_size=10))
_METADATA = st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=3)
_DESCRIPTIONS = st.text(max_size=30)
_SOURCES = st.text(max_size=12)
_UNITS = st.integers(1, 10**9)
_PARTS = st.integers(1, 3)
_WEIGHTS = st.integers(1, 100)
_DAYS = st.integers(0, 3000)

_CurrencyArg = str | st.SearchStrategy[str] | None


def currencies() -> st.SearchStrategy[str]:
    """ISO codes, the common ones (``JPY``, ``KWD`` included) more often than the rest."""
    return st.one_of(st.sampled_from(COMMON_CURRENCIES), st.sampled_from(ALL_CURRENCIES))


_ANY_CURRENCY = currencies()


def _currency(currency: _CurrencyArg) -> st.SearchStrategy[str]:
    if currency is None:
        return _ANY_CURRENCY
    if isinstance(currency, str):
        return st.just(currency)
    return currency


def amounts(
    currency: _CurrencyArg = None, *, min_units: int = 1, max_units: int = 10**12
) -> st.SearchStrategy[Money]:
    """Exact amounts between ``min_units`` and ``max_units`` minor units of the currency.

    ``currency`` is a code, a strategy of codes, or ``None`` for :func:`currencies`.
    """
    return st.builds(from_minor, st.integers(min_units, max_units), _currency(currency))


# --- order lines ----------------------------------------------------------------------------------

_TAX_CATEGORIES = (
    TaxCategory.standard("19"),
    TaxCategory.standard("7"),
    TaxCategory.standard("20"),
    TaxCategory.zero_rated(),
    TaxCategory.exempt("export"),
)


@st.composite
def order_lines(
    draw: st.DrawFn, currency: _CurrencyArg = None, *, min_size: int = 1, max_size: int = 5
) -> tuple[OrderLine, ...]:
    """Lines of one order in one currency: quantities with up to three decimals, unit prices with
    the extra precision unit prices may carry, tax categories and percentage discounts.
    """
    code = draw(_currency(currency))
    places = decimals_of(code) + 4
    count = draw(st.integers(min_size, max_size))
    lines = []
    for number in range(1, count + 1):
        quantity = Decimal(draw(st.integers(1, 10**7))).scaleb(-draw(st.integers(0, 3)))
        price = Decimal(draw(st.integers(0, 10**10))).scaleb(-places)
        lines.append(
            OrderLine(
                str(number),
                f"P-{draw(st.integers(1, 50)):03d}",
                draw(st.sampled_from(("widget", "gadget", "service hour", ""))),
                quantity=quantity,
                unit_price=unit_price(price, code),
                tax=draw(st.sampled_from(_TAX_CATEGORIES)),
                discount_percent=draw(st.integers(0, 100)),
            )
        )
    return tuple(lines)


# --- payment terms --------------------------------------------------------------------------------

_RULES: st.SearchStrategy[DueRule] = st.one_of(
    st.builds(NetDays, st.integers(0, 365)),
    st.builds(EndOfMonth, st.integers(0, 90)),
    st.builds(DayOfMonth, st.integers(1, 31), st.integers(1, 3)),
    st.just(CashInAdvance()),
    st.just(CashOnDelivery()),
)


@st.composite
def _instalment(draw: st.DrawFn, share: Percent | Fixed | Remainder) -> InstalmentTerm:
    rule = draw(_RULES)
    deadlines = sorted(draw(st.sets(st.integers(0, rule.min_days), max_size=3)))
    # basis points, a later deadline never giving more
    points = sorted(
        draw(st.lists(st.integers(1, 1500), min_size=len(deadlines), max_size=len(deadlines))),
        reverse=True,
    )
    tiers = tuple(
        DiscountTier(Decimal(p).scaleb(-2), days) for p, days in zip(points, deadlines, strict=True)
    )
    return InstalmentTerm(share, rule, tiers)


@st.composite
def payment_terms(draw: st.DrawFn, total: Money | None = None) -> PaymentTerms:
    """Valid structured terms: one instalment, percent splits, or percent and fixed shares.

    Fixed shares appear only when ``total`` is given, and then fit within it, so
    ``terms.schedule(total, day)`` always succeeds.
    """
    shape = draw(st.sampled_from(("single", "percent", "mixed")))
    shares: list[Percent | Fixed | Remainder]
    if shape == "single":
        shares = [Remainder()]
    elif shape == "percent":
        weights = draw(st.lists(st.integers(1, 40), min_size=1, max_size=4))
        shares = [Percent(Fraction(100 * w, sum(weights))) for w in weights]
    else:
        weights = draw(st.lists(st.integers(1, 40), max_size=3))
        rest = draw(st.integers(1, 40))
        whole = sum(weights) + rest
        shares = [Percent(Fraction(100 * w, whole)) for w in weights]
        if total is not None:
            units = int(total.amount.scaleb(decimals_of(total.currency.code)))
            budget = units * rest // whole  # what the percent shares surely leave
            for _ in range(draw(st.integers(0, 2))):
                if budget < 1:
                    break
                part = draw(st.integers(1, budget))
                budget -= part
                shares.append(Fixed(from_minor(part, total.currency)))
        shares.insert(draw(st.integers(0, len(shares))), Remainder())
    parts = tuple(draw(_instalment(share)) for share in shares)
    return PaymentTerms(
        parts,
        draw(st.sampled_from(Adjustment)),
        draw(st.sampled_from((Rounding.DOWN, Rounding.HALF_UP, Rounding.HALF_EVEN))),
    )


_NOTATIONS = (
    "NET 30",
    "N30",
    "net30",
    "2/10 NET 30",
    "2/10, 1/20 NET 45",
    "DUE ON RECEIPT",
    "IMMEDIATE",
    "CIA",
    "CWO",
    "COD",
    "EOM",
    "NET 30 EOM",
    "15 MFI",
    "DAY 10 M+2",
    "30/60/90",
    "40% NET 30; REST NET 60",
    "500.00 EUR CIA; REST NET 30",
)


@st.composite
def terms_notations(draw: st.DrawFn) -> str:
    """Text the terms parser reads: common notations and the canonical code of random terms,
    in any letter case and with loose spacing.
    """
    text = draw(st.one_of(st.sampled_from(_NOTATIONS), payment_terms().map(lambda t: t.code)))
    if draw(st.booleans()):
        text = text.lower()
    if draw(st.booleans()):
        text = f"  {text.replace(' ', '   ')} "
    return text


# --- receipts and open items ----------------------------------------------------------------------

CUSTOMERS: tuple[str, ...] = ("C-1", "C-2", "C-3")
"""The customer ids the strategies draw from unless told otherwise."""


@st.composite
def receipts(
    draw: st.DrawFn,
    currency: _CurrencyArg = None,
    *,
    customers: Sequence[str] = CUSTOMERS,
    receipt_id: str | None = None,
) -> Receipt:
    """An unapplied receipt: a positive exact amount, a payer that may or may not be known, free
    remittance text and maybe a structured reference.
    """
    number = draw(st.integers(1, 10**6))
    customer = draw(st.one_of(st.none(), st.sampled_from(customers)))
    return Receipt(
        receipt_id or f"R-{number}",
        draw(amounts(currency, max_units=10**9)),
        DAY_ZERO + timedelta(days=draw(st.integers(0, 900))),
        f"STMT-{draw(st.integers(1, 99))}/{number}",
        Payer(customer, draw(st.sampled_from(("", "ACME GmbH", "J. Doe")))),
        remittance=draw(st.text(max_size=30)),
        reference=draw(_REFERENCES),
        method=draw(st.sampled_from(PaymentMethod)),
    )


@st.composite
def open_items(
    draw: st.DrawFn,
    currency: _CurrencyArg = None,
    *,
    customers: Sequence[str] = CUSTOMERS,
    item_id: str | None = None,
) -> OpenItem:
    """An invoice as receivables see it: one to three instalments in due-date order, maybe an
    early-payment discount, maybe partly paid already.
    """
    code = draw(_currency(currency))
    document_date = DAY_ZERO + timedelta(days=draw(st.integers(0, 900)))
    offsets = sorted(draw(st.lists(st.integers(0, 120), min_size=1, max_size=3)))
    parts = tuple(
        Instalment.unpaid(
            document_date + timedelta(days=offset), draw(amounts(code, max_units=10**9))
        )
        for offset in offsets
    )
    discounts: tuple[DiscountOffer, ...] = ()
    gross = sum(int(p.amount.amount.scaleb(decimals_of(code))) for p in parts)
    percent = draw(st.sampled_from((0, 1, 2, 3)))
    off = gross * percent // 100
    if off > 0:
        deadline = document_date + timedelta(days=draw(st.integers(0, offsets[0])))
        discounts = (DiscountOffer(deadline, from_minor(off, code), Decimal(percent)),)
    item = OpenItem(
        item_id or f"INV-{draw(st.integers(1, 10**6)):06d}",
        draw(st.sampled_from(customers)),
        document_date,
        parts,
        reference=draw(_REFERENCES),
        discounts=discounts,
    )
    paid = gross * draw(st.integers(0, 100)) // 100
    return item.apply(from_minor(paid, code)) if paid else item


# --- journal entries ------------------------------------------------------------------------------


def _split(draw: st.DrawFn, units: int, parts: int) -> list[int]:
    """``units`` in up to ``parts`` positive pieces that add up exactly."""
    weights = [draw(_WEIGHTS) for _ in range(parts)]
    whole = sum(weights)
    cuts, running = set(), 0
    for weight in weights[:-1]:
        running += weight
        cuts.add(units * running // whole)
    edges = [0, *sorted(cuts - {0, units}), units]
    return [b - a for a, b in itertools.pairwise(edges)]


@st.composite
def journal_entries(
    draw: st.DrawFn,
    chart: ChartOfAccounts | None = None,
    *,
    currency: _CurrencyArg = None,
    entry_ids: st.SearchStrategy[str] | None = None,
    parties: Sequence[str] = CUSTOMERS,
) -> JournalEntry:
    """A balanced entry over accounts of ``chart`` (default chart when omitted).

    Each currency of the entry (one, sometimes two) balances on its own; postings may name a
    party and a document, and the free text fields hold any unicode.
    """
    accounts = st.sampled_from(sorted((chart or ChartOfAccounts.default()).names))
    who = st.one_of(st.none(), st.sampled_from(parties))
    codes = _currency(currency)
    first = draw(codes)
    second = draw(codes) if draw(st.booleans()) else first
    postings: list[Posting] = []
    for code in dict.fromkeys((first, second)):
        units = draw(_UNITS)
        for side in (Side.DEBIT, Side.CREDIT):
            for piece in _split(draw, units, draw(_PARTS)):
                party = draw(who)
                postings.append(
                    Posting(
                        draw(accounts),
                        side,
                        from_minor(piece, code),
                        party=party,
                        document=draw(_DOCUMENTS) if party else None,
                        memo=draw(_MEMOS),
                    )
                )
    if draw(st.booleans()):
        postings.reverse()
    return JournalEntry(
        draw(entry_ids if entry_ids is not None else _ENTRY_IDS),
        DAY_ZERO + timedelta(days=draw(_DAYS)),
        draw(_DESCRIPTIONS),
        tuple(postings),
        source=draw(_SOURCES),
        metadata=draw(_METADATA),
    )


def journal_batches(
    chart: ChartOfAccounts | None = None,
    *,
    currency: _CurrencyArg = None,
    max_size: int = 5,
) -> st.SearchStrategy[list[JournalEntry]]:
    """Batches of entries with distinct ids, as a ledger port receives them."""
    return st.lists(
        journal_entries(chart, currency=currency),
        min_size=1,
        max_size=max_size,
        unique_by=lambda entry: entry.entry_id,
    )
