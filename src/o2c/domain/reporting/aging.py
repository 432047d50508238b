"""Aging: open items grouped by how long they have been due (or open), per customer and currency."""

from __future__ import annotations

import enum
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from itertools import pairwise

import attrs

from o2c.domain.errors import InvalidInput
from o2c.domain.money import Money, zero
from o2c.domain.receivables import OpenItem
from o2c.domain.reporting._common import add_exact, format_amount, table

__all__ = [
    "AgingBasis",
    "AgingBucket",
    "AgingSchedule",
    "DEFAULT_AGING",
    "AgingRow",
    "AgingReport",
    "aging_report",
]


class AgingBasis(enum.Enum):
    """What an item's age is counted from."""

    DUE_DATE = "due_date"
    """Days past due: negative or zero while not yet due."""
    DOCUMENT_DATE = "document_date"
    """Days since the invoice (document) date."""


@attrs.frozen
class AgingBucket:
    """A range of ages in days, both ends included; ``None`` leaves that end open."""

    label: str
    first_day: int | None
    last_day: int | None

    def __attrs_post_init__(self) -> None:
        if not self.label.strip():
            raise InvalidInput(field="aging bucket", value=self.label, reason="needs a label")
        if (
            self.first_day is not None
            and self.last_day is not None
            and self.first_day > self.last_day
        ):
            raise InvalidInput(
                field="aging bucket",
                value=self.label,
                reason=f"first day {self.first_day} is after last day {self.last_day}",
            )


@attrs.frozen
class AgingSchedule:
    """Aging buckets in ascending order that together cover every possible age exactly once.

    The first bucket is open below, the last open above, and each bucket starts the day after the
    previous one ends: no gaps, no overlaps, so every item lands in exactly one bucket.
    """

    buckets: tuple[AgingBucket, ...]
    _limits: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.buckets:
            raise InvalidInput(field="aging buckets", value="()", reason="need at least one")
        labels = [b.label for b in self.buckets]
        if len(set(labels)) != len(labels):
            raise InvalidInput(field="aging buckets", value=str(labels), reason="labels repeat")
        first, last = self.buckets[0], self.buckets[-1]
        if first.first_day is not None:
            raise InvalidInput(
                field="aging buckets", value=first.label, reason="the first must be open below"
            )
        if last.last_day is not None:
            raise InvalidInput(
                field="aging buckets", value=last.label, reason="the last must be open above"
            )
        for before, after in pairwise(self.buckets):
            if before.last_day is None or after.first_day is None:
                raise InvalidInput(
                    field="aging buckets",
                    value=f"{before.label}, {after.label}",
                    reason="only the first bucket may be open below and only the last above",
                )
            if after.first_day <= before.last_day:
                raise InvalidInput(
                    field="aging buckets",
                    value=f"{before.label}, {after.label}",
                    reason="overlap or are not in ascending order",
                )
            if after.first_day != before.last_day + 1:
                raise InvalidInput(
                    field="aging buckets",
                    value=f"{before.label}, {after.label}",
                    reason=f"leave days {before.last_day + 1}..{after.first_day - 1} uncovered",
                )
        limits = tuple(b.last_day for b in self.buckets[:-1] if b.last_day is not None)
        object.__setattr__(self, "_limits", limits)

    @classmethod
    def from_limits(
        cls, limits: Sequence[int], labels: Sequence[str] | None = None
    ) -> AgingSchedule:
        """Buckets ending at each limit plus one open-ended bucket after the last.

        ``from_limits((0, 30, 60, 90))`` gives ``current``, ``1-30``, ``31-60``, ``61-90`` and
        ``over 90``. Limits must ascend strictly; ``labels`` (one more than limits) replace the
        generated ones.
        """
        if list(limits) != sorted(set(limits)):
            raise InvalidInput(
                field="aging limits", value=str(list(limits)), reason="must ascend strictly"
            )
        bounds: list[tuple[int | None, int | None]] = []
        previous: int | None = None
        for limit in limits:
            bounds.append((None if previous is None else previous + 1, limit))
            previous = limit
        bounds.append((None if previous is None else previous + 1, None))
        if labels is None:
            labels = [_bucket_label(lo, hi) for lo, hi in bounds]
        elif len(labels) != len(bounds):
            raise InvalidInput(
                field="aging labels",
                value=str(list(labels)),
                reason=f"{len(bounds)} buckets need {len(bounds)} labels",
            )
        return cls(
            tuple(AgingBucket(lb, lo, hi) for lb, (lo, hi) in zip(labels, bounds, strict=True))
        )

    @property
    def labels(self) -> tuple[str, ...]:
        """The bucket labels in order."""
        return tuple(b.label for b in self.buckets)

    def index_of(self, age: int) -> int:
        """The position of the bucket an age in days falls into."""
        return bisect_left(self._limits, age)


def _bucket_label(first: int | None, last: int | None) -> str:
    if first is None and last is None:
        return "all"
    if first is None:
        return "current" if last == 0 else f"up to {last}"
    if last is None:
        return f"over {first - 1}"
    return f"{first}-{last}"


#: Current (not yet due), 1-30, 31-60, 61-90 and over 90 days past due.
DEFAULT_AGING = AgingSchedule.from_limits((0, 30, 60, 90))


@attrs.frozen
class AgingRow:
    """One customer's (or a currency's total) open amounts and item counts per bucket."""

    customer_id: str | None
    """``None`` on the total row of a currency."""
    currency: str
    amounts: tuple[Money, ...]
    counts: tuple[int, ...]
    total: Money

    @property
    def items(self) -> int:
        """How many items (or instalments, when split) the row holds."""
        return sum(self.counts)


@attrs.frozen
class AgingReport:
    """Open receivables by age as of a date, per customer and in total, one currency at a time.

    Currencies are never added together: each currency has its own customer rows and its own
    total row, and every total is the exact sum of the open amounts it covers.
    """

    as_of: date
    basis: AgingBasis
    schedule: AgingSchedule
    rows: tuple[AgingRow, ...]
    """Customer rows, ordered by currency, then customer id."""
    totals: tuple[AgingRow, ...]
    """One total row per currency, ordered by currency."""
    split_instalments: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        """The bucket labels in order."""
        return self.schedule.labels

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies with open items, in order."""
        return tuple(row.currency for row in self.totals)

    def total_row(self, currency: str) -> AgingRow:
        """The total row of a currency (all zero when it has no open items)."""
        for row in self.totals:
            if row.currency == currency:
                return row
        return _empty_row(None, currency, len(self.labels))

    def total(self, currency: str) -> Money:
        """Everything open in a currency."""
        return self.total_row(currency).total

    def row(self, customer_id: str, currency: str) -> AgingRow:
        """A customer's row in a currency (all zero when the customer owes nothing in it)."""
        for row in self.rows:
            if row.customer_id == customer_id and row.currency == currency:
                return row
        return _empty_row(customer_id, currency, len(self.labels))

    def render(self) -> str:
        """The report as aligned text, one block per currency."""
        basis = "days past due" if self.basis is AgingBasis.DUE_DATE else "days since invoice"
        lines = [f"Aging as of {self.as_of.isoformat()} ({basis})"]
        if not self.totals:
            return "\n".join([*lines, "", "No open items."])
        header = ["Customer", "Cur", *self.labels, "Total"]
        for total_row in self.totals:
            cur = total_row.currency
            body = [
                _aging_cells(row.customer_id or "", row) for row in self.rows if row.currency == cur
            ]
            body.append(_aging_cells("Total", total_row))
            body.append(["Items", "", *(str(c) for c in total_row.counts), str(total_row.items)])
            lines += ["", *table(header, body, left=2)]
        return "\n".join(lines)


def _aging_cells(name: str, row: AgingRow) -> list[str]:
    cur = row.currency
    return [
        name,
        cur,
        *(format_amount(a, cur) for a in row.amounts),
        format_amount(row.total, cur),
    ]


def _empty_row(customer_id: str | None, currency: str, width: int) -> AgingRow:
    nothing = zero(currency)
    return AgingRow(customer_id, currency, (nothing,) * width, (0,) * width, nothing)


def _row(
    customer_id: str | None, currency: str, sums: list[Decimal], counts: list[int]
) -> AgingRow:
    amounts = tuple(Money(s, currency) for s in sums)
    grand = Decimal(0)
    for s in sums:
        grand = add_exact(grand, s)
    return AgingRow(customer_id, currency, amounts, tuple(counts), Money(grand, currency))


def aging_report(
    items: Iterable[OpenItem],
    as_of: date,
    *,
    schedule: AgingSchedule = DEFAULT_AGING,
    basis: AgingBasis = AgingBasis.DUE_DATE,
    split_instalments: bool = False,
) -> AgingReport:
    """Age the open items as of a date.

    By default a whole item is aged by its oldest open instalment (the conservative view: a
    document is as late as its latest part), so each item lands in exactly one bucket. With
    ``split_instalments`` each open instalment is aged by its own due date and counted on its
    own, the way a payment plan is usually reported. Settled items are left out.
    """
    width = len(schedule.buckets)
    # (currency, customer) -> (sums, counts); sums accumulate exactly as Decimals.
    groups: dict[tuple[str, str], tuple[list[Decimal], list[int]]] = {}

    def book(item: OpenItem, age: int, amount: Decimal) -> None:
        key = (item.currency, item.customer_id)
        if key not in groups:
            groups[key] = ([Decimal(0)] * width, [0] * width)
        sums, counts = groups[key]
        index = schedule.index_of(age)
        sums[index] = add_exact(sums[index], amount)
        counts[index] += 1

    for item in items:
        if item.is_settled:
            continue
        by_document = basis is AgingBasis.DOCUMENT_DATE
        if split_instalments:
            for part in item.instalments:
                if part.open.amount > 0:
                    since = item.document_date if by_document else part.due_date
                    book(item, (as_of - since).days, part.open.amount)
        else:
            since = item.document_date if by_document else item.due_date
            book(item, (as_of - since).days, item.open.amount)

    rows: list[AgingRow] = []
    totals: list[AgingRow] = []
    for currency in sorted({cur for cur, _ in groups}):
        grand_sums = [Decimal(0)] * width
        grand_counts = [0] * width
        for (cur, customer), (sums, counts) in sorted(groups.items()):
            if cur != currency:
                continue
            rows.append(_row(customer, cur, sums, counts))
            grand_sums = [add_exact(g, s) for g, s in zip(grand_sums, sums, strict=True)]
            grand_counts = [g + c for g, c in zip(grand_counts, counts, strict=True)]
        totals.append(_row(None, currency, grand_sums, grand_counts))
    return AgingReport(as_of, basis, schedule, tuple(rows), tuple(totals), split_instalments)
