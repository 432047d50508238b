"""Payment terms as data: when an invoice falls due, in which parts, and what paying early earns.

:class:`PaymentTerms` is a frozen value made of one or more :class:`InstalmentTerm`, each with

* a **share** of the invoice total: :class:`Percent` of the total, a :class:`Fixed` amount, or the
  :class:`Remainder` (what the other shares leave; at most one, wherever it is listed);
* a **due rule**: :class:`NetDays` (``NET 30``), :class:`EndOfMonth` (``EOM``, ``NET 30 EOM``: N
  days after the end of the invoice month), :class:`DayOfMonth` (``15 MFI``: the 15th of the month
  following the invoice, moved back to the month's last day when the month is shorter),
  :class:`CashInAdvance` (``CIA``: due on the invoice date, and shipment waits for the money) or
  :class:`CashOnDelivery` (``COD``: due on the delivery date);
* early-payment **discount tiers** (``2/10``: 2 % off when paid within 10 days of the invoice date).

Terms also carry a business-day :class:`~o2c.domain.calendar.Adjustment` (``FOLLOWING`` unless said
otherwise) and the rounding mode of discount amounts (``DOWN`` unless said otherwise).

:meth:`PaymentTerms.schedule` applies terms to an invoice total and date and returns a
:class:`PaymentSchedule` whose instalment amounts add up to the total exactly, to the minor unit of
its currency. :meth:`PaymentTerms.parse` reads the usual notations (``NET 30``, ``2/10 NET 30``,
``30/60/90``, ``15 MFI``, ``CIA``...) and :attr:`PaymentTerms.code` writes them back.

How the total is split
    Percent shares are taken of the whole total. The total is allocated by largest remainder
    (:func:`o2c.domain.money.allocate`) over the percent shares plus one last part for everything
    else, so the percent amounts add up exactly; minor units left over by rounding go to the parts
    with the largest fractional remainders, the earlier instalment first on a tie (so 100.00 EUR on
    ``30/60/90`` gives 33.34, 33.33, 33.33). Fixed amounts come out of that last part, and the
    remainder instalment takes what is left of it.

Business days
    With a calendar, due dates and discount deadlines are both moved by the terms' adjustment.
    Moving both by the same monotone rule keeps every deadline on or before its due date; with the
    default ``FOLLOWING`` it also gives the customer the benefit of a weekend. An adjustment never
    moves a date before the invoice date: where ``PRECEDING`` (or a modified rule) would, the date
    rolls forward instead.
"""

from __future__ import annotations

import decimal
import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from types import MappingProxyType
from typing import TypeAlias

import attrs

from o2c.domain.calendar import Adjustment, BusinessCalendar
from o2c.domain.errors import (
    CurrencyMismatch,
    DomainError,
    InvalidAmount,
    InvalidInput,
    InvalidTerms,
    TermsParseError,
)
from o2c.domain.money import (
    CALC,
    EXACT,
    Money,
    Rounding,
    allocate,
    money,
    percent_of,
    require_exact,
    total,
)
from o2c.domain.receivables import DiscountOffer, Instalment, OpenItem

__all__ = [
    "MAX_TERM_DAYS",
    "CashInAdvance",
    "CashOnDelivery",
    "DayOfMonth",
    "DiscountTier",
    "DueRule",
    "EndOfMonth",
    "Fixed",
    "InstalmentTerm",
    "NetDays",
    "Percent",
    "Remainder",
    "Share",
    "PaymentSchedule",
    "PaymentTerms",
    "ScheduledDiscount",
    "ScheduledInstalment",
    "parse_terms",
]

#: The longest period a due rule or discount tier may count, in days (about ten years).
MAX_TERM_DAYS = 3660


def _days(name: str) -> Callable[[object, object, int], None]:
    """A validator for a whole number of days in ``0..MAX_TERM_DAYS``."""

    def check(_instance: object, _attribute: object, value: int) -> None:
        if not _whole(value):
            raise InvalidTerms(field=name, value=repr(value), reason="must be a whole number")
        if not 0 <= value <= MAX_TERM_DAYS:
            raise InvalidTerms(
                field=name, value=str(value), reason=f"must be between 0 and {MAX_TERM_DAYS}"
            )

    return check


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: ``2``, ``1.5``."""
    return format(value.normalize(EXACT), "f")


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _add_months(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


# --- due rules -------------------------------------------------------------------------------


@attrs.frozen
class NetDays:
    """Due ``days`` days after the invoice date (``NET 30``; ``NET 0`` is due on receipt)."""

    days: int = attrs.field(validator=_days("net days"))

    @property
    def min_days(self) -> int:
        """The fewest days this rule can leave between invoice date and due date."""
        return self.days

    def due(self, invoice_date: date, delivery_date: date | None = None) -> date:
        """The unadjusted due date for an invoice dated ``invoice_date``."""
        return invoice_date + timedelta(days=self.days)

    @property
    def code(self) -> str:
        """The canonical notation."""
        return f"NET {self.days}"


@attrs.frozen
class EndOfMonth:
    """Due ``days`` days after the last day of the invoice month (``EOM``, ``NET 30 EOM``).

    ``10 EOM`` (10 days after the end of the month) is the 10th of the next month.
    """

    days: int = attrs.field(default=0, validator=_days("days after end of month"))

    @property
    def min_days(self) -> int:
        """The fewest days this rule can leave: an invoice dated on the last of the month."""
        return self.days

    def due(self, invoice_date: date, delivery_date: date | None = None) -> date:
        """The unadjusted due date for an invoice dated ``invoice_date``."""
        return _month_end(invoice_date) + timedelta(days=self.days)

    @property
    def code(self) -> str:
        """The canonical notation."""
        return "EOM" if self.days == 0 else f"NET {self.days} EOM"


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _day_of_month(_instance: object, _attribute: object, value: int) -> None:
    if not _whole(value) or not 1 <= value <= 31:
        raise InvalidTerms(field="day of month", value=repr(value), reason="must be 1 to 31")


def _months_after(_instance: object, _attribute: object, value: int) -> None:
    if not _whole(value) or not 1 <= value <= 12:
        raise InvalidTerms(field="months after", value=repr(value), reason="must be 1 to 12")


@cache
def _day_of_month_min_days(day: int, months_after: int) -> int:
    # Invoices dated on a month's last day leave the least time. Four consecutive years hold every
    # pattern of month lengths (February with 28 and with 29 days).
    rule = DayOfMonth(day, months_after)
    month_ends = (_month_end(date(2001 + m // 12, m % 12 + 1, 1)) for m in range(48))
    return min((rule.due(last) - last).days for last in month_ends)


@attrs.frozen
class DayOfMonth:
    """Due on day ``day`` of the month ``months_after`` months after the invoice month.

    ``DayOfMonth(15)`` is ``15 MFI``: the 15th of the month following the invoice. A day the month
    does not have is clamped to its last day (day 31 in February is the 28th, or the 29th).
    """

    day: int = attrs.field(validator=_day_of_month)
    months_after: int = attrs.field(default=1, validator=_months_after)

    @property
    def min_days(self) -> int:
        """The fewest days this rule can leave: an invoice dated on the last of a month."""
        return _day_of_month_min_days(self.day, self.months_after)

    def due(self, invoice_date: date, delivery_date: date | None = None) -> date:
        """The unadjusted due date for an invoice dated ``invoice_date``."""
        year, month = _add_months(invoice_date, self.months_after)
        last = _month_end(date(year, month, 1)).day
        return date(year, month, min(self.day, last))

    @property
    def code(self) -> str:
        """The canonical notation."""
        if self.months_after == 1:
            return f"{self.day} MFI"
        return f"DAY {self.day} M+{self.months_after}"


@attrs.frozen
class CashInAdvance:
    """Due on the invoice date, and the goods wait for the payment (``CIA``, ``CWO``)."""

    @property
    def min_days(self) -> int:
        """Always 0: the money is due at once."""
        return 0

    def due(self, invoice_date: date, delivery_date: date | None = None) -> date:
        """The invoice date."""
        return invoice_date

    @property
    def code(self) -> str:
        """The canonical notation."""
        return "CIA"


@attrs.frozen
class CashOnDelivery:
    """Due when the goods are delivered (``COD``).

    Without a delivery date (not yet known when the invoice is issued) the instalment is due on the
    invoice date. A delivery before the invoice date also makes it due on the invoice date: a due
    date never precedes its invoice.
    """

    @property
    def min_days(self) -> int:
        """Always 0: delivery can happen on the invoice date."""
        return 0

    def due(self, invoice_date: date, delivery_date: date | None = None) -> date:
        """The delivery date, or the invoice date when there is none or it is earlier."""
        if delivery_date is None:
            return invoice_date
        return max(invoice_date, delivery_date)

    @property
    def code(self) -> str:
        """The canonical notation."""
        return "COD"


DueRule: TypeAlias = NetDays | EndOfMonth | DayOfMonth | CashInAdvance | CashOnDelivery
"""Any of the due-date rules."""


# --- shares ----------------------------------------------------------------------------------


def _to_fraction(value: Fraction | Decimal | int | str) -> Fraction:
    if isinstance(value, bool | float):
        raise InvalidTerms(field="percent", value=repr(value), reason="must not be a float or bool")
    try:
        result = Fraction(value)
    except (ValueError, ZeroDivisionError, TypeError, OverflowError, decimal.InvalidOperation):
        raise InvalidTerms(field="percent", value=repr(value), reason="is not a number") from None
    return result


def _positive_percent(_instance: object, _attribute: object, value: Fraction) -> None:
    if not 0 < value <= 100:
        raise InvalidTerms(
            field="percent", value=str(value), reason="must be above 0 and at most 100"
        )


@attrs.frozen
class Percent:
    """A share of ``percent`` % of the invoice total (exact: ``Percent("100/3")`` is a third)."""

    percent: Fraction = attrs.field(converter=_to_fraction, validator=_positive_percent)

    @property
    def code(self) -> str:
        """``40%``, ``12.5%``, or ``100/3%`` when no decimal writes it exactly."""
        try:
            value = EXACT.divide(Decimal(self.percent.numerator), Decimal(self.percent.denominator))
        except decimal.Inexact:
            return f"{self.percent.numerator}/{self.percent.denominator}%"
        return f"{_plain(value)}%"


def _exact_positive(_instance: object, _attribute: object, value: Money) -> None:
    if not isinstance(value, Money):
        raise InvalidTerms(field="fixed share", value=repr(value), reason="must be Money")
    require_exact(value)
    if value.amount <= 0:
        raise InvalidTerms(field="fixed share", value=str(value), reason="must be positive")


@attrs.frozen
class Fixed:
    """A share of a fixed amount, such as a deposit of 500 EUR."""

    amount: Money = attrs.field(validator=_exact_positive)

    @property
    def code(self) -> str:
        """``500.00 EUR``."""
        return f"{_plain(self.amount.amount)} {self.amount.currency.code}"


@attrs.frozen
class Remainder:
    """What the other shares leave of the total."""

    @property
    def code(self) -> str:
        """``REST``."""
        return "REST"


Share: TypeAlias = Percent | Fixed | Remainder
"""Any of the share kinds."""


# --- discount tiers --------------------------------------------------------------------------


def _to_percent(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise InvalidTerms(
            field="discount percent", value=repr(value), reason="must be str, int or Decimal"
        )
    try:
        result = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except decimal.InvalidOperation:
        raise InvalidTerms(
            field="discount percent", value=repr(value), reason="is not a number"
        ) from None
    if not result.is_finite() or not 0 < result < 100:
        raise InvalidTerms(
            field="discount percent", value=str(value), reason="must be above 0 and below 100"
        )
    return result


@attrs.frozen
class DiscountTier:
    """``percent`` % off when paid within ``days`` days of the invoice date (``2/10``)."""

    percent: Decimal = attrs.field(converter=_to_percent)
    days: int = attrs.field(validator=_days("discount days"))

    @property
    def code(self) -> str:
        """``2/10``."""
        return f"{_plain(self.percent)}/{self.days}"


def _tiers(value: Iterable[DiscountTier]) -> tuple[DiscountTier, ...]:
    return tuple(sorted(value, key=lambda tier: tier.days))


@attrs.frozen
class InstalmentTerm:
    """One instalment of some terms: its share of the total, due rule and discount tiers.

    Tiers are kept in deadline order. A later tier never gives a bigger discount, no two tiers
    share a deadline, and no deadline may fall after the earliest due date the rule can produce.
    """

    share: Share
    due: DueRule
    discounts: tuple[DiscountTier, ...] = attrs.field(default=(), converter=_tiers)

    def __attrs_post_init__(self) -> None:
        for earlier, later in itertools.pairwise(self.discounts):
            if later.days == earlier.days:
                raise InvalidTerms(
                    field="discount tiers",
                    value=self.discount_code,
                    reason=f"two tiers end after {later.days} days",
                )
            if later.percent > earlier.percent:
                raise InvalidTerms(
                    field="discount tiers",
                    value=self.discount_code,
                    reason="a later deadline must not give a bigger discount",
                )
        if self.discounts and self.discounts[-1].days > self.due.min_days:
            raise InvalidTerms(
                field="discount tiers",
                value=self.discount_code,
                reason=(
                    f"the deadline of {self.discounts[-1].days} days can fall after the due date"
                    f" of {self.due.code} ({self.due.min_days} days at the earliest)"
                ),
            )

    @property
    def discount_code(self) -> str:
        """The tiers as ``3/10, 1/20`` (empty without tiers)."""
        return ", ".join(tier.code for tier in self.discounts)

    @property
    def rule_code(self) -> str:
        """The due rule with its tiers: ``2/10 NET 30``."""
        tiers = self.discount_code
        return f"{tiers} {self.due.code}" if tiers else self.due.code


# --- the schedule ----------------------------------------------------------------------------


@attrs.frozen
class ScheduledDiscount:
    """A tier applied to an amount: pay by ``deadline`` (inclusive) and ``amount`` comes off."""

    deadline: date
    percent: Decimal
    amount: Money

    def offer(self) -> DiscountOffer:
        """The same discount as accounts receivable sees it."""
        return DiscountOffer(deadline=self.deadline, discount=self.amount, percent=self.percent)


def _best(discounts: Iterable[ScheduledDiscount], paid_on: date) -> ScheduledDiscount | None:
    best: ScheduledDiscount | None = None
    for tier in discounts:
        earns = paid_on <= tier.deadline and tier.amount.amount > 0
        if earns and (best is None or tier.amount.amount > best.amount.amount):
            best = tier
    return best


@attrs.frozen
class ScheduledInstalment:
    """One instalment of a schedule: due date, amount and the discounts paying it early earns.

    The amount may be zero when a tiny total leaves nothing for a share after rounding.
    """

    due_date: date
    amount: Money
    discounts: tuple[ScheduledDiscount, ...] = ()
    prepayment: bool = False
    """Whether shipment waits for this instalment (cash in advance)."""
    on_delivery: bool = False
    """Whether this instalment is collected on delivery."""

    def discount_available(self, paid_on: date) -> ScheduledDiscount | None:
        """The biggest discount a payment of this instalment on ``paid_on`` earns, if any."""
        return _best(self.discounts, paid_on)


@attrs.frozen
class PaymentSchedule:
    """Terms applied to an invoice: instalments whose amounts add up to ``total`` exactly."""

    total: Money
    invoice_date: date
    instalments: tuple[ScheduledInstalment, ...]
    terms_code: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.instalments:
            raise InvalidInput(
                field="payment schedule", value=self.terms_code, reason="has no instalments"
            )
        parts = total((part.amount for part in self.instalments), self.total.currency)
        if parts != self.total:
            raise InvalidAmount(
                value=str(parts), reason=f"instalments must add up to the total {self.total}"
            )

    @property
    def currency(self) -> str:
        """The ISO code of the schedule's currency."""
        return str(self.total.currency.code)

    @property
    def requires_prepayment(self) -> bool:
        """Whether some instalment is cash in advance: shipment waits for it."""
        return any(part.prepayment for part in self.instalments)

    @property
    def on_delivery(self) -> bool:
        """Whether some instalment is collected on delivery."""
        return any(part.on_delivery for part in self.instalments)

    @property
    def prepayment_due(self) -> Money:
        """What must be paid before the goods ship (zero unless there is cash in advance)."""
        return total(
            (part.amount for part in self.instalments if part.prepayment), self.total.currency
        )

    @property
    def final_due_date(self) -> date:
        """The latest due date of any instalment."""
        return max(part.due_date for part in self.instalments)

    def discount_available(self, paid_on: date) -> ScheduledDiscount | None:
        """The discount earned by paying the whole total on ``paid_on`` (``None`` if none).

        Each instalment earns its own best tier; the result adds them up. Its ``deadline`` is the
        last day the same discount stays available, and its ``percent`` is the tiers' percent when
        they agree and cover every instalment, else the effective percent of the total (to four
        decimals, rounded down). Payments before the invoice date earn the first tier.
        """
        earned = [found for part in self.instalments if (found := part.discount_available(paid_on))]
        if not earned:
            return None
        if len(earned) == 1 and len(self.instalments) == 1:
            return earned[0]
        amount = total((found.amount for found in earned), self.total.currency)
        percents = {found.percent for found in earned}
        covered = sum(1 for part in self.instalments if part.amount.amount > 0)
        if len(percents) == 1 and len(earned) == covered:
            percent = percents.pop()
        else:
            share = CALC.divide(CALC.multiply(amount.amount, 100), self.total.amount)
            percent = share.quantize(Decimal("0.0001"), rounding=Rounding.DOWN.value, context=CALC)
        return ScheduledDiscount(
            deadline=min(found.deadline for found in earned), percent=percent, amount=amount
        )

    def amount_due_if_paid_on(self, paid_on: date) -> Money:
        """The total less the discount a full payment on ``paid_on`` earns."""
        found = self.discount_available(paid_on)
        return self.total if found is None else self.total - found.amount

    def discount_offers(self) -> tuple[DiscountOffer, ...]:
        """Whole-document discount offers, one per distinct deadline, in deadline order.

        For a single instalment these are its tiers. For several, the offer at a deadline is what
        paying everything by then earns (see :meth:`discount_available`), so an open item built from
        them grants the same discount as this schedule on any date.
        """
        deadlines = sorted({tier.deadline for part in self.instalments for tier in part.discounts})
        offers: list[DiscountOffer] = []
        for deadline in deadlines:
            found = self.discount_available(deadline)
            if found is not None and found.deadline == deadline:
                offers.append(found.offer())
        return tuple(offers)

    def to_open_item(
        self,
        item_id: str,
        customer_id: str,
        document_date: date,
        reference: str | None = None,
    ) -> OpenItem:
        """The receivable for an invoice under this schedule.

        Instalments are put in due-date order and those of zero (a tiny total split many ways)
        are left out; discount offers are the whole-document offers of :meth:`discount_offers`,
        since an open item offers discounts only on full payment of the untouched document.
        """
        return OpenItem(
            item_id=item_id,
            customer_id=customer_id,
            document_date=document_date,
            # terms may list instalments in any order; an open item pays the oldest due first
            instalments=tuple(
                Instalment.unpaid(part.due_date, part.amount)
                for part in sorted(self.instalments, key=lambda part: part.due_date)
                if part.amount.amount > 0
            ),
            reference=reference,
            discounts=self.discount_offers(),
        )


# --- the terms -------------------------------------------------------------------------------


def _instalments(value: Iterable[InstalmentTerm]) -> tuple[InstalmentTerm, ...]:
    return tuple(value)


@attrs.frozen
class PaymentTerms:
    """Payment terms: instalments, a business-day adjustment and a discount rounding mode.

    ``discount_rounding`` defaults to ``DOWN``, o2c's rule for discounts: a discount never exceeds
    its stated percentage, so no terms give away more than they say. A customer who works out
    "2 % of 123.45" half-up and pays one minor unit less is a short payment well inside any
    write-off tolerance. Choose ``HALF_UP`` to match an ERP that rounds discounts commercially.
    """

    instalments: tuple[InstalmentTerm, ...] = attrs.field(converter=_instalments)
    adjustment: Adjustment = Adjustment.FOLLOWING
    discount_rounding: Rounding = Rounding.DOWN

    def __attrs_post_init__(self) -> None:
        shares = [part.share for part in self.instalments]
        if not shares:
            raise InvalidTerms(field="payment terms", value="", reason="need an instalment")
        percent = sum((s.percent for s in shares if isinstance(s, Percent)), Fraction(0))
        fixed = [s.amount for s in shares if isinstance(s, Fixed)]
        rests = sum(1 for s in shares if isinstance(s, Remainder))
        code = "; ".join(
            f"{s.code} {p.rule_code}" for s, p in zip(shares, self.instalments, strict=True)
        )
        if rests > 1:
            raise InvalidTerms(field="payment terms", value=code, reason="more than one REST")
        if percent > 100:
            raise InvalidTerms(
                field="payment terms", value=code, reason="percent shares exceed 100%"
            )
        if percent == 100 and (fixed or rests):
            raise InvalidTerms(
                field="payment terms",
                value=code,
                reason="percent shares take 100%, leaving nothing for the other instalments",
            )
        if percent < 100 and not fixed and not rests:
            raise InvalidTerms(
                field="payment terms",
                value=code,
                reason=f"percent shares cover only {float(percent):g}% of the total; add a REST",
            )
        for amount in fixed[1:]:
            if amount.currency != fixed[0].currency:
                raise CurrencyMismatch(expected=fixed[0].currency.code, actual=amount.currency.code)

    # -- constructors --

    @classmethod
    def single(
        cls,
        due: DueRule,
        discounts: Iterable[DiscountTier] = (),
        *,
        adjustment: Adjustment = Adjustment.FOLLOWING,
        discount_rounding: Rounding = Rounding.DOWN,
    ) -> PaymentTerms:
        """Terms with one instalment for the whole total."""
        return cls(
            (InstalmentTerm(Remainder(), due, tuple(discounts)),), adjustment, discount_rounding
        )

    @classmethod
    def net(cls, days: int, discounts: Iterable[DiscountTier] = ()) -> PaymentTerms:
        """``NET days``, with optional discount tiers."""
        return cls.single(NetDays(days), discounts)

    @classmethod
    def equal_instalments(cls, *days: int) -> PaymentTerms:
        """Equal instalments due ``days`` after the invoice date each (``30/60/90``)."""
        if not days:
            raise InvalidTerms(field="payment terms", value="", reason="need an instalment")
        share = Percent(Fraction(100, len(days)))
        return cls(tuple(InstalmentTerm(share, NetDays(d)) for d in days))

    @classmethod
    def parse(cls, text: str) -> PaymentTerms:
        """Read a notation such as ``2/10 NET 30``; see :func:`parse_terms`."""
        return parse_terms(text)

    # -- reading --

    @property
    def requires_prepayment(self) -> bool:
        """Whether some instalment is cash in advance: no credit needed, shipment waits."""
        return any(isinstance(part.due, CashInAdvance) for part in self.instalments)

    @property
    def on_delivery(self) -> bool:
        """Whether some instalment is collected on delivery."""
        return any(isinstance(part.due, CashOnDelivery) for part in self.instalments)

    @property
    def code(self) -> str:
        """The canonical notation; :func:`parse_terms` reads it back to equal terms."""
        parts = self.instalments
        if self._is_equal_split():
            body = "/".join(str(part.due.days) for part in parts)  # type: ignore[union-attr]
        elif len(parts) == 1 and isinstance(parts[0].share, Remainder):
            body = parts[0].rule_code
        else:
            body = "; ".join(f"{part.share.code} {part.rule_code}" for part in parts)
        options = []
        if self.adjustment is not Adjustment.FOLLOWING:
            options.append(self.adjustment.name)
        if self.discount_rounding is not Rounding.DOWN:
            options.append(f"ROUND {self.discount_rounding.name}")
        return f"{body} [{', '.join(options)}]" if options else body

    def __str__(self) -> str:
        return self.code

    def _is_equal_split(self) -> bool:
        parts = self.instalments
        if len(parts) < 2:
            return False
        even = Fraction(100, len(parts))
        days = [p.due.days for p in parts if isinstance(p.due, NetDays)]
        return (
            len(days) == len(parts)
            and all(p.share == Percent(even) and not p.discounts for p in parts)
            and all(a < b for a, b in itertools.pairwise(days))
        )

    # -- applying --

    def amounts(self, invoice_total: Money) -> tuple[Money, ...]:
        """The instalment amounts for ``invoice_total``, in instalment order, summing to it."""
        require_exact(invoice_total)
        if invoice_total.amount <= 0:
            raise InvalidAmount(
                value=str(invoice_total),
                reason="payment schedules are for positive invoice totals",
            )
        currency = invoice_total.currency
        shares = [part.share for part in self.instalments]
        percents = [s.percent for s in shares if isinstance(s, Percent)]
        weights = [*percents, 100 - sum(percents, Fraction(0))]
        scale = math.lcm(*(w.denominator for w in weights))
        parts = allocate(invoice_total, [int(w * scale) for w in weights])
        fixed = total((s.amount for s in shares if isinstance(s, Fixed)), currency)
        if fixed > invoice_total:
            raise InvalidTerms(
                field="payment terms",
                value=self.code,
                reason=f"fixed shares of {fixed} exceed the total {invoice_total}",
            )
        rest = parts[-1] - fixed
        if rest.amount < 0:
            raise InvalidTerms(
                field="payment terms",
                value=self.code,
                reason=f"fixed shares of {fixed} exceed the {parts[-1]} the percent shares leave",
            )
        has_rest = any(isinstance(s, Remainder) for s in shares)
        if not has_rest and rest.amount != 0:
            raise InvalidTerms(
                field="payment terms",
                value=self.code,
                reason=f"shares leave {rest} of {invoice_total} unscheduled; add a REST",
            )
        percent_parts = iter(parts[:-1])
        result: list[Money] = []
        for share in shares:
            if isinstance(share, Percent):
                result.append(next(percent_parts))
            elif isinstance(share, Fixed):
                result.append(share.amount)
            else:
                result.append(rest)
        return tuple(result)

    def schedule(
        self,
        invoice_total: Money,
        invoice_date: date,
        *,
        calendar: BusinessCalendar | None = None,
        delivery_date: date | None = None,
    ) -> PaymentSchedule:
        """Apply the terms to an invoice.

        Raises :class:`InvalidAmount` for a total of zero or less (credit notes get no schedule),
        :class:`ExcessPrecision` for a total more precise than its currency,
        :class:`CurrencyMismatch` when fixed shares are in another currency, and
        :class:`InvalidTerms` when fixed shares do not fit the total. Without a calendar no date
        is adjusted. ``delivery_date`` only matters for cash on delivery.
        """
        for name, value in (("invoice date", invoice_date), ("delivery date", delivery_date)):
            if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
                raise InvalidInput(field=name, value=repr(value), reason="must be a date")
        amounts = self.amounts(invoice_total)
        try:
            parts = tuple(
                self._instalment(part, amount, invoice_date, calendar, delivery_date)
                for part, amount in zip(self.instalments, amounts, strict=True)
            )
        except OverflowError:
            raise InvalidInput(
                field="invoice date", value=invoice_date.isoformat(), reason="too late in time"
            ) from None
        return PaymentSchedule(invoice_total, invoice_date, parts, self.code)

    def discount_available(
        self, invoice_total: Money, invoice_date: date, paid_on: date
    ) -> ScheduledDiscount | None:
        """The discount a full payment on ``paid_on`` earns (no calendar adjustment)."""
        return self.schedule(invoice_total, invoice_date).discount_available(paid_on)

    def _instalment(
        self,
        part: InstalmentTerm,
        amount: Money,
        invoice_date: date,
        calendar: BusinessCalendar | None,
        delivery_date: date | None,
    ) -> ScheduledInstalment:
        discounts = tuple(
            ScheduledDiscount(
                deadline=self._adjust(
                    invoice_date + timedelta(days=tier.days), invoice_date, calendar
                ),
                percent=tier.percent,
                amount=percent_of(amount, tier.percent, self.discount_rounding),
            )
            for tier in part.discounts
        )
        return ScheduledInstalment(
            due_date=self._adjust(
                part.due.due(invoice_date, delivery_date), invoice_date, calendar
            ),
            amount=amount,
            discounts=discounts,
            prepayment=isinstance(part.due, CashInAdvance),
            on_delivery=isinstance(part.due, CashOnDelivery),
        )

    def _adjust(self, day: date, invoice_date: date, calendar: BusinessCalendar | None) -> date:
        if calendar is None:
            return day
        moved = calendar.adjust(day, self.adjustment)
        return moved if moved >= invoice_date else calendar.following(day)


# --- the notation ----------------------------------------------------------------------------

_EXPECTED = (
    "a due rule such as 'NET 30', 'N30', 'EOM', 'NET 30 EOM', '15 MFI', 'CIA', 'COD' or"
    " 'DUE ON RECEIPT', optionally after discount tiers ('2/10 NET 30', '3/10, 1/20, NET 45');"
    " an equal split such as '30/60/90'; or instalments such as '40% CIA; REST NET 30'"
)

_NUMBER = r"\d+(?:\.\d+)?"
_TIERS = re.compile(rf"((?:{_NUMBER}/\d+, )*{_NUMBER}/\d+),? (.+)")
_SPLIT = re.compile(r"\d+(?:/\d+)+")
_PERCENT_SHARE = re.compile(rf"({_NUMBER}(?:/\d+)?)% (.+)")
_FIXED_SHARE = re.compile(rf"({_NUMBER}) ([A-Z]{{3}}) (.+)")
_REST_SHARE = re.compile(r"REST (.+)")
_OPTIONS = re.compile(r"(.*?) ?\[([^\]]*)\]")

_NAMED_RULES: Mapping[str, DueRule] = MappingProxyType(
    {
        "CIA": CashInAdvance(),
        "CWO": CashInAdvance(),
        "CASH IN ADVANCE": CashInAdvance(),
        "CASH WITH ORDER": CashInAdvance(),
        "COD": CashOnDelivery(),
        "CASH ON DELIVERY": CashOnDelivery(),
        "DUE ON RECEIPT": NetDays(0),
        "ON RECEIPT": NetDays(0),
        "IMMEDIATE": NetDays(0),
        "IMMEDIATELY": NetDays(0),
        "EOM": EndOfMonth(0),
    }
)
_RULE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:NET|N) ?(\d+)"), "net"),
    (re.compile(r"(?:NET|N) ?(\d+) EOM"), "eom"),
    (re.compile(r"(\d+) ?EOM"), "eom"),
    (re.compile(r"EOM ?\+? ?(\d+)"), "eom"),
    (re.compile(r"(\d+) ?MFI"), "mfi"),
    (re.compile(r"DAY (\d+) M\+(\d+)"), "day"),
)


def _normalise(text: str) -> str:
    result = " ".join(text.upper().split())
    result = re.sub(r" ?/ ?", "/", result)
    result = re.sub(r" ?, ?", ", ", result)
    result = re.sub(r" ?; ?", "; ", result)
    result = re.sub(r" ?% ?", "% ", result).strip()
    return re.sub(r"M ?\+ ?", "M+", result)


def _parse_rule(text: str, original: str) -> DueRule:
    if text in _NAMED_RULES:
        return _NAMED_RULES[text]
    for pattern, kind in _RULE_PATTERNS:
        found = pattern.fullmatch(text)
        if found is None:
            continue
        numbers = [int(group) for group in found.groups()]
        if kind == "net":
            return NetDays(numbers[0])
        if kind == "eom":
            return EndOfMonth(numbers[0])
        if kind == "mfi":
            return DayOfMonth(numbers[0])
        return DayOfMonth(numbers[0], numbers[1])
    raise TermsParseError(text=original, expected=_EXPECTED)


def _parse_instalment(share: Share, text: str, original: str) -> InstalmentTerm:
    found = _TIERS.fullmatch(text)
    if found is None:
        return InstalmentTerm(share, _parse_rule(text, original))
    tiers = []
    for tier in found.group(1).split(", "):
        percent, days = tier.split("/")
        tiers.append(DiscountTier(percent, int(days)))
    return InstalmentTerm(share, _parse_rule(found.group(2), original), tuple(tiers))


def _parse_share(text: str, original: str) -> InstalmentTerm:
    if found := _PERCENT_SHARE.fullmatch(text):
        return _parse_instalment(Percent(found.group(1)), found.group(2), original)
    if found := _FIXED_SHARE.fullmatch(text):
        try:
            amount = money(found.group(1), found.group(2))
        except DomainError:
            raise TermsParseError(
                text=original, expected="a fixed share as an exact amount and a currency code"
            ) from None
        return _parse_instalment(Fixed(amount), found.group(3), original)
    if found := _REST_SHARE.fullmatch(text):
        return _parse_instalment(Remainder(), found.group(1), original)
    raise TermsParseError(
        text=original, expected="an instalment such as '40% NET 30', '500.00 EUR CIA' or 'REST EOM'"
    )


def _parse_options(text: str, original: str) -> tuple[Adjustment, Rounding]:
    adjustment, rounding = Adjustment.FOLLOWING, Rounding.DOWN
    for option in filter(None, text.split(", ")):
        if option.startswith("ROUND ") and option[6:] in Rounding.__members__:
            rounding = Rounding[option[6:]]
        elif option in Adjustment.__members__:
            adjustment = Adjustment[option]
        else:
            raise TermsParseError(
                text=original,
                expected="options in brackets: an adjustment ("
                + ", ".join(Adjustment.__members__)
                + ") and/or 'ROUND <mode>' ("
                + ", ".join(Rounding.__members__)
                + ")",
            )
    return adjustment, rounding


def parse_terms(text: str) -> PaymentTerms:
    """Read payment terms from their usual notation; case and spacing do not matter.

    ``NET30``, ``NET 30``, ``N30``: due 30 days after the invoice date. ``DUE ON RECEIPT``,
    ``IMMEDIATE``: ``NET 0``. ``EOM``: the last day of the invoice month; ``NET 30 EOM``,
    ``EOM 30`` and ``30 EOM``: 30 days after it. ``15 MFI``: the 15th of the month following the
    invoice (``DAY 15 M+2``: of the second month after). ``CIA``, ``CWO``: cash in advance;
    ``COD``: cash on delivery. Discount tiers go first: ``2/10 NET 30``, ``3/10, 1/20, NET 45``.
    ``30/60/90``: equal instalments due 30, 60 and 90 days after the invoice date (so a bare
    ``2/10`` is a split too: discount tiers always need a due rule after them). Instalments with
    their own shares are separated by ``;``: ``40% CIA; REST 2/10 NET 30``. Options in brackets
    at the end name a non-default adjustment or discount rounding: ``NET 30 [PRECEDING]``.

    Raises :class:`TermsParseError` for text it cannot read and :class:`InvalidTerms` for terms
    that read well but contradict themselves (``5/40 NET 30``).
    """
    if not isinstance(text, str):
        raise TermsParseError(text=repr(text), expected="text")
    body = _normalise(text)
    adjustment, rounding = Adjustment.FOLLOWING, Rounding.DOWN
    if found := _OPTIONS.fullmatch(body):
        body = found.group(1)
        adjustment, rounding = _parse_options(found.group(2).strip(), text)
    if not body:
        raise TermsParseError(text=text, expected=_EXPECTED)
    if ";" in body or _PERCENT_SHARE.fullmatch(body) or body.startswith("REST "):
        parts = tuple(_parse_share(part, text) for part in body.split("; "))
    elif _FIXED_SHARE.fullmatch(body) and not _TIERS.fullmatch(body):
        parts = (_parse_share(body, text),)
    elif _SPLIT.fullmatch(body):
        days = [int(d) for d in body.split("/")]
        if any(a >= b for a, b in itertools.pairwise(days)):
            raise TermsParseError(
                text=text, expected="instalment days in increasing order, such as '30/60/90'"
            )
        share = Percent(Fraction(100, len(days)))
        parts = tuple(InstalmentTerm(share, NetDays(d)) for d in days)
    else:
        parts = (_parse_instalment(Remainder(), body, text),)
    return PaymentTerms(parts, adjustment, rounding)
