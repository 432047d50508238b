"""Dunning: chasing overdue open items with reminders, escalating notices, fees and interest.

The model follows the way mature ERPs dun: a *policy* of ordered levels, a *case* per open item
that remembers the highest level it reached, and a *run* that compares every open item with its
case on a given business date and says what to do.

* **Policy.** An optional pre-due reminder (level 0, ``days`` zero or negative: days *before* the
  due date; it goes out once, between that day and the due date, and a run that misses the window
  sends none) and then levels 1..N by days past the due date of the item's oldest open instalment.
  Each level has a minimum amount per currency (what is open on instalments at least that many
  days past due; below it the level is skipped for now and a lower level may apply), a fee table,
  an annual simple-interest rate, a notice template key and actions (credit hold, collections
  hand-over, write-off proposal, final notice).
* **Cases are per item**, notices per customer and currency: one letter lists every overdue item of
  the customer, those that escalated in the run and the others, plus the open dunning charges.
  A case remembers its level, so a later run only acts on thresholds newly crossed; a run that is
  late jumps straight to the highest level due: the actions of skipped levels still happen, fees
  and interest are those of the level reached.
* **Fees and interest are charges**: open items of kind :attr:`ItemKind.CHARGE` with ids derived
  from the item and level (``INV-1-FEE-L2``, ``INV-1-INT-L2``), so a re-run cannot raise them twice
  and they stay open when the principal is paid. The fee is one per notice, keyed on the lowest
  item id that reached the notice's level; interest is per item. Charges are never dunned
  themselves (no fee on a fee, no interest on interest) but are listed on every notice while open.
  A reopened item (a reversed payment) resumes at the level it had reached, charging nothing again.
* **Interest** is simple interest at the level's annual percent on each overdue instalment's open
  amount, for the days since it fell due or since the last interest charge, whichever is later,
  counted under the policy's day-count convention (actual/365 fixed by default: actual days over
  365, also in leap years) and rounded once per charge with the policy's named rounding mode (down
  by default, so nobody is overcharged). A charge that rounds to zero is not raised and the period
  keeps accruing.
* **Pauses.** A disputed item pauses its case until the dispute is lifted; a promise to pay pauses
  it up to and including the promised date; a payment plan pauses it while the plan is kept (what
  is still open is no more than the plan instalments not yet due) and resumes normal dunning once
  an instalment is missed. A case handed over to collections is not paused any more: disputes are
  then the agency's business, and the run just leaves a disputed item alone.
* **Credit hold.** Reaching a level with :attr:`DunningAction.CREDIT_HOLD` requests a hold of the
  customer (:class:`CreditHoldRequested`); once the customer has no overdue item left (charges
  included), a release is requested (:class:`CreditReleaseRequested`). The book of cases remembers
  which customers dunning has put on hold.

The run takes *all* open items of the ledger: a case whose item is not among them any more is
treated as settled and resolved. It touches each item once and does no money arithmetic at all for
items that are not due yet, which is what most items of a ledger are.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from types import MappingProxyType
from typing import NamedTuple, TypeAlias

import attrs

from o2c.domain.errors import InvalidInput, InvalidPaymentPlan
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.lifecycle import Lifecycle
from o2c.domain.money import Money, Rounding, as_currency, decimals_of, from_minor, is_exact
from o2c.domain.receivables import Instalment, ItemKind, OpenItem

__all__ = [
    # policy
    "DayCount",
    "DunningAction",
    "DunningLevel",
    "DunningPolicy",
    "FeeStep",
    "FeeTable",
    # cases
    "DUNNING_CASE_LIFECYCLE",
    "DunningBook",
    "DunningCase",
    "DunningState",
    "DunningTrigger",
    "PauseReason",
    "PlannedPayment",
    "ResumeReason",
    # the run
    "DunningNotice",
    "DunningRunResult",
    "NoticeLine",
    "run_dunning",
    "simple_interest",
    # events
    "CreditHoldRequested",
    "CreditReleaseRequested",
    "DunningActionEvent",
    "DunningEscalated",
    "DunningFeeCharged",
    "DunningNoticeRaised",
    "DunningPaused",
    "DunningResolved",
    "DunningResumed",
    "DunningWrittenOff",
    "HandedToCollections",
    "InterestCharged",
    "ReminderSent",
    "WriteOffProposed",
]


# --- policy -----------------------------------------------------------------------------------


class DunningAction(enum.Enum):
    """What reaching a level sets in motion besides the notice."""

    CREDIT_HOLD = "credit_hold"
    COLLECTIONS = "collections"
    """Hand the item over to a collections agency or department."""
    WRITE_OFF_PROPOSAL = "write_off_proposal"
    """Propose the item for a bad-debt write-off; a person decides."""
    FINAL_NOTICE = "final_notice"
    """The notice is marked as the final one before the next step."""


class DayCount(enum.Enum):
    """How a day of interest is converted from an annual rate."""

    ACTUAL_365 = "actual/365"
    """Actual days over a 365-day year, leap years included (actual/365 fixed)."""
    ACTUAL_360 = "actual/360"
    """Actual days over a 360-day year (money-market convention)."""

    @property
    def days_in_year(self) -> int:
        """The divisor of the convention."""
        return 365 if self is DayCount.ACTUAL_365 else 360


def _require_exact_non_negative(field: str, amount: Money) -> None:
    if amount.amount < 0 or not is_exact(amount):
        raise InvalidInput(field=field, value=str(amount), reason="must be >= 0 and exact")


@attrs.frozen
class FeeStep:
    """From an overdue total of ``from_overdue`` on, a notice costs ``fee`` (same currency)."""

    from_overdue: Money
    fee: Money

    def __attrs_post_init__(self) -> None:
        if self.from_overdue.currency != self.fee.currency:
            raise InvalidInput(
                field="fee step",
                value=f"{self.from_overdue} / {self.fee}",
                reason="threshold and fee must be in the same currency",
            )
        _require_exact_non_negative("fee step threshold", self.from_overdue)
        _require_exact_non_negative("fee", self.fee)


def _fee_steps(steps: Iterable[FeeStep]) -> tuple[FeeStep, ...]:
    return tuple(steps)


@attrs.frozen
class FeeTable:
    """The fee of a notice by currency and overdue total: a flat fee is a single step from zero.

    A currency without steps, or a total below its first step, costs nothing.
    """

    steps: tuple[FeeStep, ...] = attrs.field(default=(), converter=_fee_steps)

    def __attrs_post_init__(self) -> None:
        last: dict[str, Decimal] = {}
        for step in self.steps:
            code = step.fee.currency.code
            if code in last and step.from_overdue.amount <= last[code]:
                raise InvalidInput(
                    field="fee table",
                    value=str(step.from_overdue),
                    reason="steps of a currency must have strictly increasing thresholds",
                )
            last[code] = step.from_overdue.amount

    @classmethod
    def flat(cls, *fees: Money) -> FeeTable:
        """One flat fee per notice for each currency given."""
        return cls(tuple(FeeStep(Money(0, fee.currency), fee) for fee in fees))

    def fee_for(self, overdue: Money) -> Money | None:
        """The fee for a notice with ``overdue`` in total, or ``None`` when nothing is due."""
        found: Money | None = None
        for step in self.steps:
            if step.fee.currency == overdue.currency and step.from_overdue.amount <= overdue.amount:
                found = step.fee
        return found if found is not None and found.amount > 0 else None


def _minimums(amounts: Iterable[Money]) -> tuple[Money, ...]:
    return tuple(amounts)


@attrs.frozen
class DunningLevel:
    """One step of a dunning policy.

    ``days`` counts from the due date of the item's oldest open instalment: ``-3`` is three days
    before it (the pre-due reminder, always number 0), ``7`` a week past due.
    """

    number: int
    days: int
    template: str
    """The key of the notice template to print (the wording is not the domain's business)."""
    minimum: tuple[Money, ...] = attrs.field(default=(), converter=_minimums)
    """Per currency, the least amount that must be due for this level to apply."""
    fee: FeeTable = FeeTable()
    interest_percent: Decimal = Decimal(0)
    """Annual simple interest, in percent, charged when this level is reached."""
    actions: frozenset[DunningAction] = frozenset()
    _minimum_by_currency: Mapping[str, Decimal] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.number < 0 or not self.template:
            raise InvalidInput(
                field="dunning level",
                value=str(self.number),
                reason="needs a number >= 0 and a template key",
            )
        rate: object = self.interest_percent  # a float must not slip in
        if not isinstance(rate, Decimal) or not (rate.is_finite() and rate >= 0):
            raise InvalidInput(
                field="interest percent",
                value=repr(self.interest_percent),
                reason="must be a finite Decimal >= 0",
            )
        by_currency: dict[str, Decimal] = {}
        for amount in self.minimum:
            _require_exact_non_negative("minimum amount", amount)
            if amount.currency.code in by_currency:
                raise InvalidInput(
                    field="minimum amount",
                    value=str(amount),
                    reason="one minimum per currency",
                )
            by_currency[amount.currency.code] = amount.amount
        object.__setattr__(self, "_minimum_by_currency", MappingProxyType(by_currency))

    @classmethod
    def reminder(
        cls, days_before: int, template: str, *, fee: FeeTable | None = None
    ) -> DunningLevel:
        """The pre-due reminder, ``days_before`` days before the due date (0: on the day)."""
        return cls(0, -days_before, template, fee=fee or FeeTable())

    @property
    def is_reminder(self) -> bool:
        """Whether this is the pre-due reminder (level 0)."""
        return self.number == 0

    def minimum_in(self, currency: str) -> Decimal | None:
        """The minimum amount due in ``currency`` for this level, if there is one."""
        return self._minimum_by_currency.get(currency)


def _levels(levels: Iterable[DunningLevel]) -> tuple[DunningLevel, ...]:
    return tuple(levels)


@attrs.frozen
class DunningPolicy:
    """The ordered levels of dunning and how interest is counted and rounded.

    Charges (fees and interest) fall due ``charge_terms_days`` after the run that raised them.
    """

    levels: tuple[DunningLevel, ...] = attrs.field(converter=_levels)
    day_count: DayCount = DayCount.ACTUAL_365
    interest_rounding: Rounding = Rounding.DOWN
    charge_terms_days: int = 14
    _days: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        levels = self.levels
        if not levels or levels[-1].number < 1:
            raise InvalidInput(
                field="dunning policy", value="", reason="needs at least one level past due"
            )
        first = 0 if levels[0].is_reminder else 1
        for position, level in enumerate(levels):
            if level.number != first + position:
                raise InvalidInput(
                    field="dunning level",
                    value=str(level.number),
                    reason="levels are numbered 1, 2, ... in order (0 only for the reminder)",
                )
            if level.is_reminder and (level.days > 0 or level.interest_percent > 0):
                raise InvalidInput(
                    field="reminder",
                    value=str(level.days),
                    reason="a reminder comes on or before the due date and charges no interest",
                )
            if not level.is_reminder and level.days < 1:
                raise InvalidInput(
                    field="dunning level",
                    value=str(level.days),
                    reason="levels after the reminder need at least 1 day past due",
                )
            if position and level.days <= levels[position - 1].days:
                raise InvalidInput(
                    field="dunning level",
                    value=str(level.days),
                    reason="days thresholds must be strictly increasing",
                )
        if self.charge_terms_days < 0:
            raise InvalidInput(
                field="charge terms", value=str(self.charge_terms_days), reason="must be >= 0"
            )
        object.__setattr__(self, "_days", tuple(level.days for level in levels))

    @property
    def charge_terms(self) -> timedelta:
        """How long after the run a fee or interest charge falls due."""
        return timedelta(days=self.charge_terms_days)

    @property
    def has_reminder(self) -> bool:
        """Whether the policy sends a pre-due reminder."""
        return self.levels[0].is_reminder

    def level(self, number: int) -> DunningLevel:
        """The level with this number."""
        for level in self.levels:
            if level.number == number:
                return level
        raise InvalidInput(field="dunning level", value=str(number), reason="not in the policy")

    def level_due(self, days_past_due: int) -> DunningLevel | None:
        """The highest level whose threshold ``days_past_due`` has reached (negative: not due)."""
        index = bisect_right(self._days, days_past_due) - 1
        return self.levels[index] if index >= 0 else None


def simple_interest(
    parts: Iterable[tuple[Money, int]],
    annual_percent: Decimal,
    day_count: DayCount,
    rounding: Rounding,
) -> Money | None:
    """Simple interest on ``(principal, days)`` parts, rounded once to the currency.

    Computed exactly in integers (minor units x days x rate / (100 x days in year)) and rounded
    with ``rounding``; ``None`` when there are no parts.
    """
    currency: str | None = None
    weighted = 0
    for principal, days in parts:
        code = principal.currency.code
        if currency is None:
            currency = code
        elif code != currency:
            raise InvalidInput(field="interest", value=code, reason=f"expected {currency}")
        scale = decimals_of(code)
        weighted += int(principal.amount.scaleb(scale)) * max(0, days)
    if currency is None:
        return None
    numerator, denominator = annual_percent.as_integer_ratio()
    minor = _divide(weighted * numerator, denominator * 100 * day_count.days_in_year, rounding)
    return from_minor(minor, currency)


def _divide(numerator: int, denominator: int, rounding: Rounding) -> int:
    """``numerator / denominator`` for non-negative integers, rounded with the named mode."""
    quotient, remainder = divmod(numerator, denominator)
    if remainder == 0 or rounding in (Rounding.DOWN, Rounding.FLOOR):
        return quotient
    if rounding in (Rounding.UP, Rounding.CEILING):
        return quotient + 1
    twice = 2 * remainder
    if twice > denominator:
        return quotient + 1
    if twice < denominator:
        return quotient
    if rounding is Rounding.HALF_UP:
        return quotient + 1
    if rounding is Rounding.HALF_EVEN:
        return quotient + (quotient % 2)
    return quotient  # HALF_DOWN


# --- cases ------------------------------------------------------------------------------------


class DunningState(enum.Enum):
    """Where a dunning case stands; the level reached is the case's ``level`` field."""

    CURRENT = "current"
    REMINDED = "reminded"
    DUNNING = "dunning"
    COLLECTIONS = "collections"
    PAUSED = "paused"
    RESOLVED = "resolved"
    WRITTEN_OFF = "written_off"


class DunningTrigger(enum.Enum):
    """What moves a dunning case."""

    REMIND = "remind"
    ESCALATE = "escalate"
    HAND_OVER = "hand_over"
    PAUSE = "pause"
    RESUME = "resume"
    """Back to dunning at the level reached (after a pause, or an item reopened)."""
    RESTART = "restart"
    """Back to current: for a case that had not reached a level yet."""
    RESOLVE = "resolve"
    WRITE_OFF = "write_off"


_S = DunningState
_T = DunningTrigger
_ACTIVE = (_S.CURRENT, _S.REMINDED, _S.DUNNING)

DUNNING_CASE_LIFECYCLE: Lifecycle[DunningState, DunningTrigger] = Lifecycle.of(
    "dunning case",
    _S.CURRENT,
    [
        (_S.CURRENT, _T.REMIND, _S.REMINDED),
        (_ACTIVE, _T.ESCALATE, _S.DUNNING),
        (_ACTIVE, _T.HAND_OVER, _S.COLLECTIONS),
        (_S.COLLECTIONS, _T.ESCALATE, _S.COLLECTIONS),
        (_ACTIVE, _T.PAUSE, _S.PAUSED),
        ((_S.PAUSED, _S.RESOLVED), _T.RESUME, _S.DUNNING),
        ((_S.PAUSED, _S.RESOLVED), _T.RESTART, _S.CURRENT),
        ((*_ACTIVE, _S.COLLECTIONS, _S.PAUSED), _T.RESOLVE, _S.RESOLVED),
        ((_S.REMINDED, _S.DUNNING, _S.COLLECTIONS, _S.PAUSED), _T.WRITE_OFF, _S.WRITTEN_OFF),
    ],
)
"""The dunning case: current -> reminded -> dunning (levels) -> collections -> resolved."""


class PauseReason(enum.Enum):
    """Why dunning of an item is paused."""

    DISPUTE = "dispute"
    PROMISE_TO_PAY = "promise_to_pay"
    PAYMENT_PLAN = "payment_plan"


class ResumeReason(enum.Enum):
    """Why dunning of an item started again."""

    DISPUTE_LIFTED = "dispute_lifted"
    PROMISE_EXPIRED = "promise_expired"
    PAYMENT_PLAN_BROKEN = "payment_plan_broken"
    REOPENED = "reopened"
    """The item was settled and is open again (a reversed payment)."""
    MANUAL = "manual"


@attrs.frozen
class PlannedPayment:
    """One instalment of a payment plan agreed with the customer."""

    due_date: date
    amount: Money

    def __attrs_post_init__(self) -> None:
        if self.amount.amount <= 0 or not is_exact(self.amount):
            raise InvalidInput(
                field="planned payment", value=str(self.amount), reason="must be > 0 and exact"
            )


# --- events -----------------------------------------------------------------------------------


@attrs.frozen
class ReminderSent(DomainEvent):
    """A pre-due reminder went out for an item."""

    item_id: str
    customer_id: str
    on: date


@attrs.frozen
class DunningEscalated(DomainEvent):
    """An item reached a higher dunning level."""

    item_id: str
    customer_id: str
    on: date
    from_level: int
    to_level: int


@attrs.frozen
class DunningNoticeRaised(DomainEvent):
    """A notice for a customer is to be sent."""

    customer_id: str
    currency: str
    on: date
    level: int
    template: str
    item_ids: tuple[str, ...]
    final: bool


@attrs.frozen
class DunningFeeCharged(DomainEvent):
    """A notice fee was raised as a charge item."""

    charge_id: str
    customer_id: str
    item_id: str
    level: int
    amount: Money
    on: date


@attrs.frozen
class InterestCharged(DomainEvent):
    """Interest on an overdue item was raised as a charge item, accrued up to ``on``."""

    charge_id: str
    customer_id: str
    item_id: str
    level: int
    amount: Money
    on: date


@attrs.frozen
class DunningPaused(DomainEvent):
    """Dunning of an item is paused (``until`` for a promise to pay)."""

    item_id: str
    customer_id: str
    on: date
    reason: PauseReason
    until: date | None = None


@attrs.frozen
class DunningResumed(DomainEvent):
    """Dunning of an item started again."""

    item_id: str
    customer_id: str
    on: date
    reason: ResumeReason


@attrs.frozen
class DunningResolved(DomainEvent):
    """The item was settled: its case is closed."""

    item_id: str
    customer_id: str
    on: date


@attrs.frozen
class DunningWrittenOff(DomainEvent):
    """A person decided to write the item off as bad debt; dunning ends."""

    item_id: str
    customer_id: str
    on: date


@attrs.frozen
class HandedToCollections(DomainEvent):
    """The item goes to collections with ``amount`` open."""

    item_id: str
    customer_id: str
    on: date
    level: int
    amount: Money


@attrs.frozen
class WriteOffProposed(DomainEvent):
    """The item is proposed for a write-off of ``amount``."""

    item_id: str
    customer_id: str
    on: date
    level: int
    amount: Money


@attrs.frozen
class CreditHoldRequested(DomainEvent):
    """Dunning asks credit management to put the customer on hold (``item_id`` is why)."""

    customer_id: str
    on: date
    item_id: str


@attrs.frozen
class CreditReleaseRequested(DomainEvent):
    """The customer has nothing overdue any more: dunning asks to release its hold."""

    customer_id: str
    on: date


DunningActionEvent: TypeAlias = (
    CreditHoldRequested | CreditReleaseRequested | HandedToCollections | WriteOffProposed
)
"""The events other modules must act on (credit management, collections, the ledger)."""


# --- the case ---------------------------------------------------------------------------------


@attrs.frozen
class DunningCase:
    """The dunning history of one open item: its state and the highest level it reached."""

    item_id: str
    customer_id: str
    state: DunningState = DunningState.CURRENT
    level: int = 0
    """The highest dunning level reached (0: none; the reminder is ``reminded_on``)."""
    reminded_on: date | None = None
    last_notice_on: date | None = None
    interest_to: date | None = None
    """The date up to which interest has been charged."""
    paused_reason: PauseReason | None = None
    paused_until: date | None = None
    """The promised payment date; dunning resumes the day after."""
    plan: tuple[PlannedPayment, ...] = ()
    handed_over_on: date | None = None

    def __attrs_post_init__(self) -> None:
        if self.level < 0:
            raise InvalidInput(field="dunning level", value=str(self.level), reason="must be >= 0")
        if (self.state is DunningState.PAUSED) != (self.paused_reason is not None):
            raise InvalidInput(
                field="dunning case",
                value=self.item_id,
                reason="a paused case, and only a paused case, has a pause reason",
            )

    @property
    def rank(self) -> int:
        """The highest level reached, counting the reminder as 0 and nothing as -1."""
        if self.level:
            return self.level
        return -1 if self.reminded_on is None else 0

    def _move(self, trigger: DunningTrigger) -> DunningState:
        return DUNNING_CASE_LIFECYCLE.next_state(self.state, trigger, entity_id=self.item_id)

    def promise_to_pay(self, until: date, *, on: date) -> Changed[DunningCase]:
        """The customer promised to pay by ``until``: no dunning up to and including that day."""
        if until < on:
            raise InvalidInput(
                field="promised date", value=until.isoformat(), reason="before the promise"
            )
        state = self._move(DunningTrigger.PAUSE)
        case = attrs.evolve(
            self, state=state, paused_reason=PauseReason.PROMISE_TO_PAY, paused_until=until
        )
        event = DunningPaused(self.item_id, self.customer_id, on, PauseReason.PROMISE_TO_PAY, until)
        return Changed(case, (event,))

    def agree_payment_plan(
        self, item: OpenItem, plan: Iterable[PlannedPayment], *, on: date
    ) -> Changed[DunningCase]:
        """Replace the item's schedule by a plan covering exactly its open amount.

        Dunning pauses while the plan is kept and resumes once a planned payment is missed.
        """
        payments = tuple(plan)
        if item.item_id != self.item_id:
            raise InvalidPaymentPlan(item_id=self.item_id, reason=f"plan is for {item.item_id}")
        if not payments:
            raise InvalidPaymentPlan(item_id=self.item_id, reason="needs at least one payment")
        if any(p.amount.currency.code != item.currency for p in payments):
            raise InvalidPaymentPlan(item_id=self.item_id, reason=f"must be in {item.currency}")
        dates = [p.due_date for p in payments]
        if dates[0] < on or any(b <= a for a, b in pairwise(dates)):
            raise InvalidPaymentPlan(
                item_id=self.item_id,
                reason="payment dates must start on or after the agreement and increase",
            )
        planned = sum((p.amount.amount for p in payments), Decimal(0))
        if planned != item.open.amount:
            raise InvalidPaymentPlan(
                item_id=self.item_id,
                reason=f"plan totals {planned} but {item.open} is open",
            )
        state = self._move(DunningTrigger.PAUSE)
        case = attrs.evolve(
            self, state=state, paused_reason=PauseReason.PAYMENT_PLAN, plan=payments
        )
        event = DunningPaused(self.item_id, self.customer_id, on, PauseReason.PAYMENT_PLAN)
        return Changed(case, (event,))

    def resume(
        self, *, on: date, reason: ResumeReason = ResumeReason.MANUAL
    ) -> Changed[DunningCase]:
        """Dun the item again: at the level it reached, or from the start if it reached none."""
        trigger = DunningTrigger.RESUME if self.level else DunningTrigger.RESTART
        case = attrs.evolve(
            self, state=self._move(trigger), paused_reason=None, paused_until=None, plan=()
        )
        return Changed(case, (DunningResumed(self.item_id, self.customer_id, on, reason),))

    def write_off(self, *, on: date) -> Changed[DunningCase]:
        """A person wrote the item off as bad debt: dunning ends for good."""
        case = attrs.evolve(
            self,
            state=self._move(DunningTrigger.WRITE_OFF),
            paused_reason=None,
            paused_until=None,
        )
        return Changed(case, (DunningWrittenOff(self.item_id, self.customer_id, on),))

    def _pause_for_dispute(self, on: date) -> Changed[DunningCase]:
        case = attrs.evolve(
            self, state=self._move(DunningTrigger.PAUSE), paused_reason=PauseReason.DISPUTE
        )
        return Changed(
            case, (DunningPaused(self.item_id, self.customer_id, on, PauseReason.DISPUTE),)
        )

    def _resolve(self, on: date) -> Changed[DunningCase]:
        case = attrs.evolve(
            self,
            state=self._move(DunningTrigger.RESOLVE),
            paused_reason=None,
            paused_until=None,
            plan=(),
        )
        return Changed(case, (DunningResolved(self.item_id, self.customer_id, on),))


def _cases(cases: Mapping[str, DunningCase]) -> Mapping[str, DunningCase]:
    return cases if isinstance(cases, MappingProxyType) else MappingProxyType(dict(cases))


@attrs.frozen
class DunningBook:
    """Everything dunning remembers between runs: the cases by item id, the customers it held."""

    cases: Mapping[str, DunningCase] = attrs.field(
        factory=lambda: MappingProxyType({}), converter=_cases
    )
    held_customers: frozenset[str] = frozenset()

    def case_for(self, item: OpenItem) -> DunningCase:
        """The item's case, or a new current one."""
        found = self.cases.get(item.item_id)
        return found if found is not None else DunningCase(item.item_id, item.customer_id)

    def with_case(self, case: DunningCase) -> DunningBook:
        """A book with ``case`` stored (copies the mapping: for commands, not for bulk work)."""
        cases = dict(self.cases)
        cases[case.item_id] = case
        return attrs.evolve(self, cases=MappingProxyType(cases))


# --- the run ----------------------------------------------------------------------------------


@attrs.frozen
class NoticeLine:
    """One item on a notice: an overdue (or, for a reminder, soon due) item or an open charge."""

    item_id: str
    kind: ItemKind
    due_date: date
    days_past_due: int
    overdue: Money
    open: Money
    level: int
    """The item's dunning level after the run (0 for charges and reminded items)."""
    new: bool
    """Whether the item escalated (or was reminded) in this run."""


@attrs.frozen
class DunningNotice:
    """A letter to a customer in one currency: the level it is written at and what it lists."""

    customer_id: str
    currency: str
    on: date
    level: int
    template: str
    final: bool
    lines: tuple[NoticeLine, ...]
    charges: tuple[OpenItem, ...]
    """The fee and interest charges raised with this notice (earlier charges are lines)."""

    @property
    def overdue_total(self) -> Money:
        """What the notice asks for: the overdue lines plus the charges raised with it."""
        amount = sum((line.overdue.amount for line in self.lines), Decimal(0))
        amount += sum((charge.open.amount for charge in self.charges), Decimal(0))
        return Money(amount, as_currency(self.currency))


@attrs.frozen
class DunningRunResult:
    """What a dunning run decided, and the book to feed the next run."""

    on: date
    book: DunningBook
    notices: tuple[DunningNotice, ...]
    charges: tuple[OpenItem, ...]
    actions: tuple[DunningActionEvent, ...]
    events: tuple[DomainEvent, ...]


class _Hit(NamedTuple):
    """An item that reached a new level (or its reminder) in this run."""

    item: OpenItem
    case: DunningCase
    level: DunningLevel
    final: bool
    interest: OpenItem | None


class _Crossed(NamedTuple):
    """Which actions the levels crossed by an escalation call for."""

    collections: bool
    write_off: bool
    credit_hold: bool
    final_notice: bool


_NOTHING_CROSSED = _Crossed(False, False, False, False)


def _charge(charge_id: str, item: OpenItem, amount: Money, on: date, terms: timedelta) -> OpenItem:
    return OpenItem(
        charge_id,
        item.customer_id,
        on,
        (Instalment.unpaid(on + terms, amount),),
        kind=ItemKind.CHARGE,
        reference=item.reference,
    )


def _open_parts(item: OpenItem) -> tuple[Instalment, ...]:
    """The instalments with something open; allocation-free for the common single instalment."""
    parts = item.instalments
    if len(parts) == 1:
        return parts if parts[0].open.amount else ()
    return tuple(part for part in parts if part.open.amount)


def _open_sum(parts: tuple[Instalment, ...]) -> Decimal:
    return sum((part.open.amount for part in parts), Decimal(0))


def _plan_kept(case: DunningCase, open_amount: Decimal, as_of: date) -> bool:
    still_to_come = sum((p.amount.amount for p in case.plan if p.due_date >= as_of), Decimal(0))
    return open_amount <= still_to_come


def _due_since(parts: tuple[Instalment, ...], as_of: date, days: int) -> Decimal:
    """What is open on instalments at least ``days`` past due (negative: due that soon)."""
    return sum(
        (part.open.amount for part in parts if (as_of - part.due_date).days >= days), Decimal(0)
    )


def _line(item: OpenItem, as_of: date, level: int, new: bool) -> NoticeLine:
    parts = item.instalments
    open_amount = overdue = Decimal(0)
    oldest: date | None = None
    for part in parts:
        amount = part.open.amount
        if amount:
            open_amount += amount
            if part.due_date < as_of:
                overdue += amount
            if oldest is None or part.due_date < oldest:
                oldest = part.due_date
    due = parts[-1].due_date if oldest is None else oldest
    currency = parts[0].open.currency
    return NoticeLine(
        item.item_id,
        item.kind,
        due,
        max(0, (as_of - due).days) if oldest is not None else 0,
        Money(overdue, currency),
        Money(open_amount, currency),
        level,
        new,
    )


def _notice(
    key: tuple[str, str],
    hits: list[_Hit],
    listed: Iterable[tuple[OpenItem, int]],
    open_charges: Iterable[OpenItem],
    *,
    as_of: date,
    terms: timedelta,
) -> tuple[DunningNotice, list[OpenItem], list[DomainEvent]]:
    customer_id, currency = key
    level = hits[0].level
    for hit in hits:
        if hit.level.number > level.number:
            level = hit.level
    invoice_lines = [_line(hit.item, as_of, hit.case.level, True) for hit in hits]
    invoice_lines += [_line(item, as_of, item_level, False) for item, item_level in listed]
    if len(invoice_lines) > 1:
        invoice_lines.sort(key=lambda line: (line.due_date, line.item_id))
    charge_lines = [_line(item, as_of, 0, False) for item in open_charges]
    if len(charge_lines) > 1:
        charge_lines.sort(key=lambda line: line.item_id)
    lines = (*invoice_lines, *charge_lines)
    charges = [hit.interest for hit in hits if hit.interest is not None]
    events: list[DomainEvent] = []
    overdue = Money(sum((ln.overdue.amount for ln in lines), Decimal(0)), lines[0].overdue.currency)
    fee = level.fee.fee_for(overdue)
    if fee is not None:
        keyed = min(hit.item.item_id for hit in hits if hit.level.number == level.number)
        charge_id = f"{keyed}-FEE-L{level.number}"
        keyed_item = next(hit.item for hit in hits if hit.item.item_id == keyed)
        charges.insert(0, _charge(charge_id, keyed_item, fee, as_of, terms))
        events.append(DunningFeeCharged(charge_id, customer_id, keyed, level.number, fee, as_of))
    final = any(hit.final for hit in hits)
    item_ids = tuple(line.item_id for line in lines)
    events.insert(
        0,
        DunningNoticeRaised(
            customer_id, currency, as_of, level.number, level.template, item_ids, final
        ),
    )
    notice = DunningNotice(
        customer_id, currency, as_of, level.number, level.template, final, lines, tuple(charges)
    )
    return notice, charges, events


class _Run:
    """The working memory of one dunning run; only items that may trigger something reach it."""

    def __init__(self, book: DunningBook, policy: DunningPolicy, as_of: date) -> None:
        self.book = book
        # A plain copy: looked up once per item (faster than through the read-only view) and
        # becomes the next book's mapping.
        self.cases: dict[str, DunningCase] = dict(book.cases)
        self.policy = policy
        self.as_of = as_of
        self.terms = policy.charge_terms
        self.changed: dict[str, DunningCase] = {}
        self.events: list[DomainEvent] = []
        self.actions: list[DunningActionEvent] = []
        self.hits: dict[tuple[str, str], list[_Hit]] = {}
        self.listed: dict[tuple[str, str], list[tuple[OpenItem, int]]] = {}
        self.open_charges: dict[tuple[str, str], list[OpenItem]] = {}
        self.overdue_customers: set[str] = set()
        self.held = set(book.held_customers)
        self.crossed: dict[tuple[int, int], _Crossed] = {}

    def record(self, outcome: Changed[DunningCase]) -> DunningCase:
        case = outcome.state
        self.changed[case.item_id] = case
        self.events.extend(outcome.events)
        return case

    def act(self, action: DunningActionEvent) -> None:
        self.actions.append(action)
        self.events.append(action)

    def charge_item(self, item: OpenItem) -> None:
        if not item.is_settled:
            self.open_charges.setdefault((item.customer_id, item.currency), []).append(item)
            if item.is_overdue(self.as_of):
                self.overdue_customers.add(item.customer_id)

    def consider(self, item: OpenItem, case: DunningCase | None) -> None:
        """Dun one invoice item that is (nearly) due or has a case."""
        as_of = self.as_of
        parts = _open_parts(item)
        if not parts:
            if case is not None and case.state not in _CLOSED:
                self.record(case._resolve(as_of))
            return
        oldest = parts[0].due_date if len(parts) == 1 else min(p.due_date for p in parts)
        if oldest < as_of:
            self.overdue_customers.add(item.customer_id)
        if case is not None:
            case = self.reconsider(item, case, parts)
            if case is None:
                return
        if item.disputed:
            if case is not None and case.state in _ACTIVE:
                self.record(case._pause_for_dispute(as_of))
            return
        rank = -1 if case is None else case.rank
        key = (item.customer_id, item.instalments[0].amount.currency.code)
        target = self.level_due(key[1], parts, (as_of - oldest).days, rank)
        if target is None:
            if oldest < as_of:
                entry = (item, 0 if case is None else case.level)
                self.listed.setdefault(key, []).append(entry)
            return
        self.escalate(item, case, target, parts, rank=rank, key=key)

    def reconsider(
        self, item: OpenItem, case: DunningCase, parts: tuple[Instalment, ...]
    ) -> DunningCase | None:
        """Reopen or resume a case where due; ``None`` when the item is to be left alone."""
        state = case.state
        if state is _S.WRITTEN_OFF:
            return None
        if state is _S.RESOLVED:
            return self.record(case.resume(on=self.as_of, reason=ResumeReason.REOPENED))
        if state is not _S.PAUSED:
            return case
        reason = case.paused_reason
        resume_for: ResumeReason | None = None
        if reason is PauseReason.DISPUTE:
            if not item.disputed:
                resume_for = ResumeReason.DISPUTE_LIFTED
        elif reason is PauseReason.PROMISE_TO_PAY:
            if case.paused_until is None or case.paused_until < self.as_of:
                resume_for = ResumeReason.PROMISE_EXPIRED
        elif not _plan_kept(case, _open_sum(parts), self.as_of):
            resume_for = ResumeReason.PAYMENT_PLAN_BROKEN
        if resume_for is None:
            return None
        return self.record(case.resume(on=self.as_of, reason=resume_for))

    def level_due(
        self, currency: str, parts: tuple[Instalment, ...], days: int, rank: int
    ) -> DunningLevel | None:
        """The highest level above ``rank`` that is due and whose minimum amount is met."""
        levels = self.policy.levels
        index = bisect_right(self.policy._days, days) - 1
        while index >= 0:
            level = levels[index]
            if level.number <= rank or (level.is_reminder and days > 0):
                return None  # a reminder is a pre-due letter: once overdue it is too late
            minimum = level.minimum_in(currency)
            if minimum is None or minimum <= _due_since(parts, self.as_of, level.days):
                return level
            index -= 1
        return None

    def crossed_actions(self, rank: int, number: int) -> _Crossed:
        """The actions of every level above ``rank`` up to ``number`` (skipped levels too)."""
        crossed = self.crossed.get((rank, number))
        if crossed is None:
            actions = {
                action
                for level in self.policy.levels
                if rank < level.number <= number
                for action in level.actions
            }
            crossed = _Crossed(
                DunningAction.COLLECTIONS in actions,
                DunningAction.WRITE_OFF_PROPOSAL in actions,
                DunningAction.CREDIT_HOLD in actions,
                DunningAction.FINAL_NOTICE in actions,
            )
            self.crossed[rank, number] = crossed
        return crossed

    def escalate(
        self,
        item: OpenItem,
        case: DunningCase | None,
        target: DunningLevel,
        parts: tuple[Instalment, ...],
        *,
        rank: int,
        key: tuple[str, str],
    ) -> None:
        """Move the item's case to ``target``: the case, its charges, events and actions."""
        as_of = self.as_of
        item_id, customer_id = item.item_id, item.customer_id
        state = _S.CURRENT if case is None else case.state
        level = 0 if case is None else case.level
        reminded_on = None if case is None else case.reminded_on
        interest_to = None if case is None else case.interest_to
        handed_over_on = None if case is None else case.handed_over_on
        interest: OpenItem | None = None
        crossed = _NOTHING_CROSSED
        if target.is_reminder:
            trigger = DunningTrigger.REMIND
            reminded_on = as_of
            self.events.append(ReminderSent(item_id, customer_id, as_of))
        else:
            crossed = self.crossed_actions(rank, target.number)
            trigger = DunningTrigger.ESCALATE
            if crossed.collections and state is not _S.COLLECTIONS:
                trigger = DunningTrigger.HAND_OVER
                handed_over_on = as_of
            self.events.append(DunningEscalated(item_id, customer_id, as_of, level, target.number))
            level = target.number
            if target.interest_percent:
                interest = self.charge_interest(item, target, parts, interest_to)
                if interest is not None:
                    interest_to = as_of
        new_case = DunningCase(
            item_id,
            customer_id,
            DUNNING_CASE_LIFECYCLE.next_state(state, trigger, entity_id=item_id),
            level,
            reminded_on,
            as_of,
            interest_to,
            None,
            None,
            (),
            handed_over_on,
        )
        self.changed[item_id] = new_case
        hit = _Hit(item, new_case, target, crossed.final_notice, interest)
        self.hits.setdefault(key, []).append(hit)
        if crossed.collections or crossed.write_off or crossed.credit_hold:
            amount = Money(_open_sum(parts), item.instalments[0].open.currency)
            if trigger is DunningTrigger.HAND_OVER:
                self.act(HandedToCollections(item_id, customer_id, as_of, level, amount))
            if crossed.write_off:
                self.act(WriteOffProposed(item_id, customer_id, as_of, level, amount))
            if crossed.credit_hold and customer_id not in self.held:
                self.held.add(customer_id)
                self.act(CreditHoldRequested(customer_id, as_of, item_id))

    def charge_interest(
        self,
        item: OpenItem,
        target: DunningLevel,
        parts: tuple[Instalment, ...],
        interest_to: date | None,
    ) -> OpenItem | None:
        """The interest charge for reaching ``target``, if it comes to at least a minor unit."""
        as_of, policy = self.as_of, self.policy
        accrued = simple_interest(
            (
                (part.open, (as_of - max(part.due_date, interest_to or part.due_date)).days)
                for part in parts
                if part.due_date < as_of
            ),
            target.interest_percent,
            policy.day_count,
            policy.interest_rounding,
        )
        if accrued is None or accrued.amount <= 0:
            return None
        charge_id = f"{item.item_id}-INT-L{target.number}"
        self.events.append(
            InterestCharged(
                charge_id, item.customer_id, item.item_id, target.number, accrued, as_of
            )
        )
        return _charge(charge_id, item, accrued, as_of, self.terms)

    def resolve_absent(self, seen: set[str]) -> None:
        """Cases whose item is no longer among the open items: the ledger settled and dropped it."""
        for item_id, case in self.book.cases.items():
            if item_id not in seen and item_id not in self.changed and case.state not in _CLOSED:
                self.record(case._resolve(self.as_of))

    def finish(self) -> DunningRunResult:
        as_of = self.as_of
        charges: list[OpenItem] = []
        notices: list[DunningNotice] = []
        for key in sorted(self.hits):
            notice, notice_charges, notice_events = _notice(
                key,
                self.hits[key],
                self.listed.get(key, ()),
                self.open_charges.get(key, ()),
                as_of=as_of,
                terms=self.terms,
            )
            notices.append(notice)
            charges.extend(notice_charges)
            self.events.extend(notice_events)
        for customer_id in sorted(self.book.held_customers):
            if customer_id not in self.overdue_customers:
                self.held.discard(customer_id)
                self.act(CreditReleaseRequested(customer_id, as_of))
        cases = self.book.cases
        if self.changed:
            self.cases.update(self.changed)
            cases = MappingProxyType(self.cases)
        return DunningRunResult(
            as_of,
            DunningBook(cases, frozenset(self.held)),
            tuple(notices),
            tuple(charges),
            tuple(self.actions),
            tuple(self.events),
        )


_CLOSED = (_S.RESOLVED, _S.WRITTEN_OFF)


def run_dunning(
    items: Iterable[OpenItem], book: DunningBook, policy: DunningPolicy, as_of: date
) -> DunningRunResult:
    """Dun ``items`` (all open items of the ledger) on ``as_of`` against the cases in ``book``.

    Pure and idempotent: running again on the same date with the returned book raises nothing
    new; a later date acts only on thresholds crossed since.
    """
    run = _Run(book, policy, as_of)
    find_case = run.cases.get
    # An item without a case whose oldest due date is this late cannot trigger anything and is
    # not overdue: it is skipped before any money is looked at. This is most of a ledger.
    lead = 1 - policy._days[0] if policy.has_reminder else 0
    quiet_from = as_of + timedelta(days=lead)
    seen: set[str] = set()
    charge_kind = ItemKind.CHARGE
    consider = run.consider
    for item in items:
        if item.kind is charge_kind:
            run.charge_item(item)
            continue
        case = find_case(item.item_id)
        if case is None:
            insts = item.instalments
            if len(insts) == 1:
                if insts[0].due_date >= quiet_from:
                    continue
            elif min(p.due_date for p in insts) >= quiet_from:
                continue
        else:
            seen.add(item.item_id)
        consider(item, case)
    if len(seen) < len(book.cases):
        run.resolve_absent(seen)
    return run.finish()
