"""Cash application: money that came in, and the open items it pays.

A :class:`~o2c.domain.receipts.Receipt` (see :mod:`o2c.domain.receipts`) is one incoming payment.
Cash application decides which open items it pays. Each decision is an :class:`Allocation` that
names the rule that made it, its confidence and an explanation, so a person can always see why
money went where it went.

:func:`apply_statement` applies many receipts in one run against one
:class:`~o2c.domain.matching.MatchingIndex`; :func:`apply_cash` applies one. Both climb the
matching ladder (see :mod:`o2c.domain.matching`) and then settle the proposed items:

* a receipt smaller than an item pays part of it and the item stays open (partial payment);
* one receipt may pay several items (oldest first), several receipts may pay one item;
* money left over stays on the receipt as unapplied cash, which is the customer's credit;
* a payment short of the open amount within the :class:`~o2c.domain.matching.WriteOffTolerance`
  settles the item, the shortfall written off under the tolerance's reason code;
* a payment of the discounted amount within the discount window settles the item, the
  allocation recording the discount taken.

A receipt that nothing matches goes on account when its customer is known, otherwise into the
exception queue with ranked suggestions. Invariants: an allocation never exceeds the item's open
amount nor the receipt's unapplied amount; ``amount = applied + unapplied + refunded``; and a
statement line (its ``source_id``) is applied once, ever (:class:`AppliedSources`).

:func:`reverse_receipt` undoes a bounced payment, reopening exactly what it settled (discounts and
write-offs included); :func:`refund_receipt` pays unapplied cash back; :func:`apply_to_item` is a
person's decision for a receipt from the queue or for credit on account. The first time cash
application handles a receipt it raises :class:`ReceiptRecorded` (the money arrived), so the ledger
learns of every receipt exactly once per receipt id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

import attrs

from o2c.domain.errors import (
    CurrencyMismatch,
    DuplicateReceipt,
    InvalidAmount,
    InvalidInput,
    OverAllocation,
    UnappliedCashExceeded,
)
from o2c.domain.events import Changed, DomainEvent
from o2c.domain.matching import (
    _RATIO_CONTEXT,
    _RATIO_PLACES,
    DEFAULT_LADDER,
    MatchContext,
    MatchingConfig,
    MatchingIndex,
    MatchingRule,
    PayerDirectory,
    Proposal,
    Suggestion,
    _ratio,
    reference_core,
    similarity,
)
from o2c.domain.money import (
    Currency,
    Money,
    decimals_of,
    from_minor_units,
    is_exact,
    minor_units,
    total,
    zero,
)
from o2c.domain.receipts import (
    RECEIPT_LIFECYCLE,
    PaymentMethod,
    Receipt,
    ReceiptState,
    ReceiptTrigger,
)
from o2c.domain.receivables import OpenItem

__all__ = [
    "DEFAULT_CONFIG",
    "Allocation",
    "AppliedSources",
    "CashApplication",
    "ExceptionEntry",
    "ItemApplication",
    "ReceiptApplied",
    "ReceiptPlacedOnAccount",
    "ReceiptQueuedForReview",
    "ReceiptRecorded",
    "ReceiptRefunded",
    "ReceiptReversed",
    "Reversal",
    "StatementRun",
    "apply_cash",
    "apply_statement",
    "apply_to_item",
    "refund_receipt",
    "reverse_receipt",
]

DEFAULT_CONFIG = MatchingConfig()
"""The configuration cash application uses unless given one (no write-offs)."""


def _show(amount: Money) -> str:
    """An amount for an explanation: plain, without locale formatting (which is slow)."""
    return f"{amount.amount} {amount.currency.code}"


# --- allocations and results --------------------------------------------------------------------


@attrs.frozen
class Allocation:
    """Part of a receipt applied to one open item, and why.

    The item's open amount went down by ``applied + discount + write_off``; only ``applied`` came
    out of the receipt.
    """

    receipt_id: str
    item_id: str
    applied: Money
    discount: Money
    write_off: Money
    write_off_reason: str | None
    rule: str
    confidence: Decimal
    explanation: str
    customer_id: str | None = None
    """The customer of the item (whose receivable it settled)."""

    def __attrs_post_init__(self) -> None:
        code = self.applied.currency.code
        for part in (self.discount, self.write_off):
            if part.currency.code != code:
                raise CurrencyMismatch(expected=code, actual=part.currency.code)
        if (
            self.applied.amount < 0
            or self.discount.amount < 0
            or self.write_off.amount < 0
            or self.applied.amount + self.discount.amount + self.write_off.amount <= 0
        ):
            raise InvalidAmount(
                value=f"{self.applied} + {self.discount} + {self.write_off}",
                reason="allocation parts must be non-negative and settle something",
            )
        if self.write_off.amount > 0 and not self.write_off_reason:
            raise InvalidInput(field="write-off", value=str(self.write_off), reason="no reason")
        if not 0 <= self.confidence <= 1:
            raise InvalidInput(
                field="confidence", value=str(self.confidence), reason="must be within 0..1"
            )

    @property
    def settled(self) -> Money:
        """How much the item's open amount went down: applied plus discount plus write-off."""
        return Money(
            self.applied.amount + self.discount.amount + self.write_off.amount,
            self.applied.currency,
        )


@attrs.frozen
class AppliedSources:
    """The statement lines and payments already applied: a re-import must not apply them again."""

    source_ids: frozenset[str] = frozenset()

    def __contains__(self, source_id: object) -> bool:
        return source_id in self.source_ids

    def __len__(self) -> int:
        return len(self.source_ids)

    def with_sources(self, source_ids: Iterable[str]) -> AppliedSources:
        """These sources and ``source_ids``."""
        return AppliedSources(self.source_ids.union(source_ids))


@attrs.frozen
class ExceptionEntry:
    """A receipt a person must place: nothing matched and its customer is not known (or the
    configuration keeps unmatched cash off account), or a rule placed only part of it (then
    ``amount`` is what is left). Suggestions are ranked, best first."""

    receipt_id: str
    amount: Money
    customer_id: str | None
    suggestions: tuple[Suggestion, ...]


@attrs.frozen
class ReceiptRecorded(DomainEvent):
    """Cash application took in a receipt: money arrived from ``customer_id`` (if known).

    Raised by :func:`apply_cash`, :func:`apply_statement` and :func:`apply_to_item` while the
    receipt is untouched (nothing applied or refunded yet). Its content depends on the receipt
    alone, so raising it again for the same receipt records the same fact again, never a new one.
    """

    receipt_id: str
    on: date
    """The value date: when the money reached the bank or the gateway."""
    amount: Money
    customer_id: str | None
    """The payer's customer id as given on the receipt (``None`` when unknown)."""
    method: PaymentMethod
    source_id: str

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptRecorded:
        """The recording of ``receipt``."""
        return cls(
            receipt.receipt_id,
            receipt.value_date,
            receipt.amount,
            receipt.payer.customer_id,
            receipt.method,
            receipt.source_id,
        )


def _is_fresh(receipt: Receipt) -> bool:
    return (
        receipt.state is ReceiptState.UNAPPLIED
        and receipt.applied.amount == 0
        and receipt.refunded.amount == 0
    )


@attrs.frozen
class ReceiptApplied(DomainEvent):
    """Allocations were made for a receipt (automatically or by a person)."""

    receipt_id: str
    on: date
    allocations: tuple[Allocation, ...]
    unapplied: Money


@attrs.frozen
class ReceiptPlacedOnAccount(DomainEvent):
    """Unmatched cash of a known customer was kept as that customer's credit."""

    receipt_id: str
    customer_id: str
    on: date
    amount: Money
    suggestions: tuple[Suggestion, ...]


@attrs.frozen
class ReceiptQueuedForReview(DomainEvent):
    """Nothing matched a receipt confidently: it waits for a person, with suggestions."""

    receipt_id: str
    on: date
    amount: Money
    suggestions: tuple[Suggestion, ...]


@attrs.frozen
class ReceiptReversed(DomainEvent):
    """A receipt bounced or was recalled; the items it settled were reopened."""

    receipt_id: str
    on: date
    reversed_allocations: tuple[Allocation, ...]
    amount: Money
    """The money that left again: the whole receipt, less what was refunded from it before."""
    customer_id: str | None = None
    """The payer's customer id as given on the receipt."""
    method: PaymentMethod = PaymentMethod.TRANSFER


@attrs.frozen
class ReceiptRefunded(DomainEvent):
    """Unapplied cash of a receipt was paid back."""

    receipt_id: str
    on: date
    amount: Money
    refunded_total: Money | None = None
    """What the receipt has refunded so far, this refund included."""
    customer_id: str | None = None
    """The payer's customer id as given on the receipt."""
    method: PaymentMethod = PaymentMethod.TRANSFER


@attrs.frozen
class CashApplication:
    """What applying one receipt did: the receipt and items after it, and how."""

    receipt: Receipt
    items: tuple[OpenItem, ...]
    """Every open item given, in the order given, with what the receipt settled applied."""
    allocations: tuple[Allocation, ...]
    events: tuple[DomainEvent, ...]
    sources: AppliedSources
    exception: ExceptionEntry | None


@attrs.frozen
class StatementRun:
    """What applying a batch of receipts did."""

    receipts: tuple[Receipt, ...]
    """The receipts applied, in the order given, after application."""
    items: tuple[OpenItem, ...]
    """Every open item given, in the order given, with what the run settled applied."""
    allocations: tuple[Allocation, ...]
    exceptions: tuple[ExceptionEntry, ...]
    duplicates: tuple[Receipt, ...]
    """Receipts skipped because their source was applied before (or earlier in the batch)."""
    events: tuple[DomainEvent, ...]
    sources: AppliedSources
    partly_matched: tuple[ExceptionEntry, ...] = ()
    """Receipts a rule placed only part of, with suggestions for the rest (a person's worklist,
    like ``exceptions``)."""


# --- the engine ---------------------------------------------------------------------------------


class _Run:
    """The state of one application run: the index, a cache of zeros, the gathered results."""

    def __init__(
        self,
        index: MatchingIndex,
        ladder: Sequence[MatchingRule],
        config: MatchingConfig,
        on: date,
    ) -> None:
        self.index = index
        self.ladder = tuple(ladder)
        self.config = config
        self.on = on
        self.allocations: list[Allocation] = []
        self.events: list[DomainEvent] = []
        self.exceptions: list[ExceptionEntry] = []
        self.partly_matched: list[ExceptionEntry] = []
        self._zeros: dict[str, Money] = {}
        self._places: dict[str, int] = {}

    def places(self, currency: Currency) -> int:
        code = currency.code
        found = self._places.get(code)
        if found is None:
            found = self._places[code] = decimals_of(code)
        return found

    def zero(self, currency: Currency) -> Money:
        found = self._zeros.get(currency.code)
        if found is None:
            found = self._zeros[currency.code] = zero(currency)
        return found

    def apply(self, receipt: Receipt) -> tuple[Receipt, ExceptionEntry | None]:
        RECEIPT_LIFECYCLE.next_state(
            receipt.state, ReceiptTrigger.APPLY_PART, entity_id=receipt.receipt_id
        )
        currency = receipt.amount.currency
        places = self.places(currency)
        amount_minor = minor_units(receipt.amount.amount, places)
        unapplied_minor = amount_minor
        if receipt.state is not ReceiptState.UNAPPLIED:
            unapplied_minor -= minor_units(receipt.applied.amount, places)
            unapplied_minor -= minor_units(receipt.refunded.amount, places)
        index = self.index
        customer = index.customer_for(receipt.payer)
        context = MatchContext(receipt, customer, currency.code, unapplied_minor, self.config)
        weak: list[Proposal] = []
        fresh = _is_fresh(receipt)
        for rule in self.ladder:
            proposal = rule.match(receipt, index, context)
            if proposal is None:
                continue
            if proposal.confidence >= self.config.min_confidence:
                made, applied_now = self._settle(receipt, context, proposal, places)
                if made:
                    new = self._applied(
                        receipt,
                        made,
                        applied_now=applied_now,
                        amount_minor=amount_minor,
                        unapplied_minor=unapplied_minor,
                        places=places,
                    )
                    if fresh:
                        self.events.append(ReceiptRecorded.of(receipt))
                    left_minor = unapplied_minor - applied_now
                    if left_minor > 0:
                        rest = MatchContext(new, customer, currency.code, left_minor, self.config)
                        # The references went to what they named: the rest is suggested by
                        # amount only (and so costs a few lookups, not string comparisons).
                        rest._tokens = ()
                        self.partly_matched.append(
                            ExceptionEntry(
                                receipt.receipt_id,
                                new.unapplied,
                                customer,
                                _suggest(new, index, rest, []),
                            )
                        )
                    return new, None
            else:
                weak.append(proposal)
        result = self._unmatched(receipt, context, weak)
        if fresh:
            self.events.append(ReceiptRecorded.of(receipt))
        return result

    def _settle(
        self, receipt: Receipt, context: MatchContext, proposal: Proposal, places: int
    ) -> tuple[list[Allocation], int]:
        """The allocations the proposal makes and the cash they take, in minor units."""
        index = self.index
        currency_code = context.currency
        targets = [
            item_id
            for item_id in dict.fromkeys(proposal.item_ids)
            if item_id in index
            and index.currency_of(item_id) == currency_code
            and index.open_minor(item_id) > 0
        ]
        if not targets:
            return [], 0
        value_date = receipt.value_date
        remaining = context.amount_minor
        discounts = [index.discount_minor(item_id, value_date) for item_id in targets]
        all_discounted = (
            len(targets) > 1
            and any(discounts)
            and remaining == sum(index.open_minor(i) for i in targets) - sum(discounts)
        )
        tolerance = self.config.tolerance
        currency = receipt.amount.currency
        made: list[Allocation] = []
        applied_minor = 0
        last = len(targets) - 1
        for position, item_id in enumerate(targets):
            if remaining == 0:
                break
            open_minor = index.open_minor(item_id)
            discount = write_off = 0
            note = ""
            if all_discounted:
                discount = discounts[position]
                applied = open_minor - discount
            elif remaining >= open_minor:
                applied = open_minor
            else:
                applied = remaining
                offer = discounts[position]
                if offer and remaining >= open_minor - offer:
                    discount = open_minor - remaining
                elif position == last and tolerance.allows(
                    open_minor - remaining, open_minor, currency_code
                ):
                    write_off = open_minor - remaining
                else:
                    note = "; partial payment, the item stays open"
            if discount:
                shown = _show(from_minor_units(discount, places, currency))
                note = f"; early-payment discount {shown} taken"
            elif write_off:
                shown = _show(from_minor_units(write_off, places, currency))
                note = f"; short payment {shown} written off ({tolerance.reason})"
            index.settle(item_id, applied + discount + write_off)
            remaining -= applied
            applied_minor += applied
            zero_money = self.zero(currency)
            made.append(
                Allocation(
                    receipt_id=receipt.receipt_id,
                    item_id=item_id,
                    applied=from_minor_units(applied, places, currency),
                    discount=(
                        from_minor_units(discount, places, currency) if discount else zero_money
                    ),
                    write_off=(
                        from_minor_units(write_off, places, currency) if write_off else zero_money
                    ),
                    write_off_reason=tolerance.reason if write_off else None,
                    rule=proposal.rule,
                    confidence=proposal.confidence,
                    explanation=proposal.explanation + note if note else proposal.explanation,
                    customer_id=index.customer_of(item_id),
                )
            )
        return made, applied_minor

    def _applied(
        self,
        receipt: Receipt,
        made: list[Allocation],
        *,
        applied_now: int,
        amount_minor: int,
        unapplied_minor: int,
        places: int,
    ) -> Receipt:
        currency = receipt.amount.currency
        left = unapplied_minor - applied_now
        trigger = ReceiptTrigger.APPLY_ALL if left == 0 else ReceiptTrigger.APPLY_PART
        state = RECEIPT_LIFECYCLE.next_state(receipt.state, trigger, entity_id=receipt.receipt_id)
        refunded_minor = minor_units(receipt.refunded.amount, places)
        applied_total = amount_minor - unapplied_minor + applied_now - refunded_minor
        # The class rather than attrs.evolve: a statement run builds one per matched receipt, and
        # evolve costs more than the validation itself.
        new = Receipt(
            receipt_id=receipt.receipt_id,
            amount=receipt.amount,
            value_date=receipt.value_date,
            source_id=receipt.source_id,
            payer=receipt.payer,
            remittance=receipt.remittance,
            reference=receipt.reference,
            method=receipt.method,
            state=state,
            applied=from_minor_units(applied_total, places, currency),
            refunded=receipt.refunded,
            payment_id=receipt.payment_id,
        )
        allocations = tuple(made)
        self.allocations.extend(allocations)
        self.events.append(
            ReceiptApplied(
                receipt.receipt_id, self.on, allocations, from_minor_units(left, places, currency)
            )
        )
        return new

    def _unmatched(
        self, receipt: Receipt, context: MatchContext, weak: list[Proposal]
    ) -> tuple[Receipt, ExceptionEntry | None]:
        suggestions = _suggest(receipt, self.index, context, weak)
        unapplied = receipt.unapplied
        customer = context.customer_id
        if (
            customer is not None
            and self.config.on_account_when_customer_known
            and RECEIPT_LIFECYCLE.can(receipt.state, ReceiptTrigger.PLACE_ON_ACCOUNT)
        ):
            self.events.append(
                ReceiptPlacedOnAccount(
                    receipt.receipt_id, customer, self.on, unapplied, suggestions
                )
            )
            return attrs.evolve(receipt, state=ReceiptState.ON_ACCOUNT), None
        entry = ExceptionEntry(receipt.receipt_id, unapplied, customer, suggestions)
        self.exceptions.append(entry)
        self.events.append(
            ReceiptQueuedForReview(receipt.receipt_id, self.on, unapplied, suggestions)
        )
        return receipt, entry


def _suggest(
    receipt: Receipt, index: MatchingIndex, context: MatchContext, weak: list[Proposal]
) -> tuple[Suggestion, ...]:
    """Rank candidate items for a person: weak proposals, then items near in amount or reference.

    Candidates come from lookups only: the weak proposals, the customer's oldest open items, items
    of any customer with the same amount open, and items whose reference core is one edit from a
    reference in the remittance text.
    """
    limit = context.config.suggestions
    if limit == 0:
        return ()
    scores: dict[str, tuple[Decimal, str]] = {}

    def offer(item_id: str, score: Decimal, reason: str) -> None:
        if item_id not in scores or scores[item_id][0] < score:
            scores[item_id] = (score, reason)

    for proposal in weak:
        for item_id in proposal.item_ids:
            if item_id in index and index.open_minor(item_id) > 0:
                offer(item_id, proposal.confidence, f"{proposal.rule}: {proposal.explanation}")
    paid = context.amount_minor
    places = decimals_of(context.currency)
    candidates: dict[str, None] = {}
    if context.customer_id is not None:
        candidates.update(
            dict.fromkeys(
                index.open_items_of(
                    context.customer_id, context.currency, context.config.combination_candidates
                )
            )
        )
    else:
        candidates.update(dict.fromkeys(index.with_amount_anywhere(context.currency, paid, limit)))
    tokens = context.tokens()
    for token in tokens:
        candidates.update(dict.fromkeys(index.find_core(reference_core(token), near=True)))
    for item_id in candidates:
        if index.currency_of(item_id) != context.currency:
            continue
        open_minor = index.open_minor(item_id)
        closeness = _ratio(min(paid, open_minor), max(paid, open_minor))
        currency = receipt.amount.currency
        shown_open = _show(from_minor_units(open_minor, places, currency))
        reason = f"{shown_open} open, {_show(receipt.unapplied)} paid"
        best_reference = max(
            (similarity(t, key) for t in tokens for key in index.references_of(item_id)),
            default=Decimal(0),
        )
        # A suggestion is never as sure as a rule's proposal: scale below any default threshold.
        score = _RATIO_CONTEXT.multiply(max(closeness, best_reference), _SUGGESTION_WEIGHT)
        score = score.quantize(_RATIO_PLACES, context=_RATIO_CONTEXT)
        if best_reference > closeness:
            reason = f"reference similarity {best_reference}; " + reason
        offer(item_id, score, reason)
    ranked = sorted(scores, key=lambda i: (-scores[i][0], index.age_rank(i)))[:limit]
    return tuple(Suggestion(i, scores[i][0], scores[i][1]) for i in ranked)


_SUGGESTION_WEIGHT = Decimal("0.75")
"""Suggestion scores are ratios like the rules' confidences: they round the way matching does."""


# --- public operations --------------------------------------------------------------------------


def apply_statement(
    receipts: Iterable[Receipt],
    open_items: Iterable[OpenItem],
    *,
    on: date,
    sources: AppliedSources = AppliedSources(),
    ladder: Sequence[MatchingRule] = DEFAULT_LADDER,
    config: MatchingConfig = DEFAULT_CONFIG,
    payers: PayerDirectory | None = None,
    aliases: Mapping[str, str] | None = None,
) -> StatementRun:
    """Apply a batch of receipts (a bank statement) to the open items, in the order given.

    A receipt whose ``source_id`` is in ``sources`` or appeared earlier in the batch is skipped and
    listed in ``duplicates``: re-importing a statement is a no-op. The index is built once and
    updated as items are paid, so later receipts see what earlier ones settled.
    """
    items = tuple(open_items)
    index = MatchingIndex.build(items, payers=payers, aliases=aliases)
    run = _Run(index, ladder, config, on)
    seen: set[str] = set()
    done: list[Receipt] = []
    duplicates: list[Receipt] = []
    for receipt in receipts:
        if receipt.source_id in sources or receipt.source_id in seen:
            duplicates.append(receipt)
            continue
        new, _ = run.apply(receipt)
        seen.add(receipt.source_id)
        done.append(new)
    changed = index.changed_items()
    return StatementRun(
        receipts=tuple(done),
        items=tuple(changed.get(item.item_id, item) for item in items),
        allocations=tuple(run.allocations),
        exceptions=tuple(run.exceptions),
        duplicates=tuple(duplicates),
        events=tuple(run.events),
        sources=sources.with_sources(seen) if seen else sources,
        partly_matched=tuple(run.partly_matched),
    )


def apply_cash(
    receipt: Receipt,
    open_items: Iterable[OpenItem],
    *,
    on: date,
    sources: AppliedSources = AppliedSources(),
    ladder: Sequence[MatchingRule] = DEFAULT_LADDER,
    config: MatchingConfig = DEFAULT_CONFIG,
    payers: PayerDirectory | None = None,
    aliases: Mapping[str, str] | None = None,
) -> CashApplication:
    """Apply one receipt to the open items by climbing the matching ladder.

    Raises :class:`~o2c.domain.errors.DuplicateReceipt` if the receipt's source was applied
    before: applying one receipt twice is a caller's mistake worth hearing about (a statement
    re-import through :func:`apply_statement` skips duplicates quietly instead).
    """
    if receipt.source_id in sources:
        raise DuplicateReceipt(receipt_id=receipt.receipt_id, source_id=receipt.source_id)
    items = tuple(open_items)
    index = MatchingIndex.build(items, payers=payers, aliases=aliases)
    run = _Run(index, ladder, config, on)
    new, exception = run.apply(receipt)
    changed = index.changed_items()
    return CashApplication(
        receipt=new,
        items=tuple(changed.get(item.item_id, item) for item in items),
        allocations=tuple(run.allocations),
        events=tuple(run.events),
        sources=sources.with_sources((receipt.source_id,)),
        exception=exception,
    )


@attrs.frozen
class ItemApplication:
    """What a person's application of a receipt to one item did."""

    receipt: Receipt
    item: OpenItem
    allocation: Allocation
    events: tuple[DomainEvent, ...]


def apply_to_item(
    receipt: Receipt,
    item: OpenItem,
    amount: Money,
    *,
    on: date,
    discount: Money | None = None,
    write_off: Money | None = None,
    write_off_reason: str | None = None,
    explanation: str = "applied by hand",
) -> ItemApplication:
    """Apply ``amount`` of a receipt's unapplied cash to ``item``: a person's decision.

    For receipts from the exception queue and credit on account. ``discount`` and ``write_off``
    settle more of the item without taking cash. The allocation's rule is ``manual``.
    """
    currency = receipt.amount.currency
    discount = discount if discount is not None else zero(currency)
    write_off = write_off if write_off is not None else zero(currency)
    for part in (amount, discount, write_off):
        if part.currency != currency:
            raise CurrencyMismatch(expected=currency.code, actual=part.currency.code)
    if item.currency != currency.code:
        raise CurrencyMismatch(expected=currency.code, actual=item.currency)
    if amount.amount <= 0 or not is_exact(amount):
        raise InvalidAmount(value=str(amount), reason="must be positive and exact")
    unapplied = receipt.unapplied
    if amount.amount > unapplied.amount:
        raise UnappliedCashExceeded(
            receipt_id=receipt.receipt_id, unapplied=str(unapplied), requested=str(amount)
        )
    allocation = Allocation(
        receipt.receipt_id,
        item.item_id,
        amount,
        discount,
        write_off,
        write_off_reason,
        "manual",
        Decimal(1),
        explanation,
        item.customer_id,
    )
    settled = allocation.settled
    if settled.amount > item.open.amount:
        raise OverAllocation(item_id=item.item_id, open=str(item.open), requested=str(settled))
    trigger = (
        ReceiptTrigger.APPLY_ALL if amount.amount == unapplied.amount else ReceiptTrigger.APPLY_PART
    )
    state = RECEIPT_LIFECYCLE.next_state(receipt.state, trigger, entity_id=receipt.receipt_id)
    new_item = item.apply(settled)
    new_receipt = attrs.evolve(receipt, state=state, applied=receipt.applied + amount)
    event = ReceiptApplied(receipt.receipt_id, on, (allocation,), new_receipt.unapplied)
    events: tuple[DomainEvent, ...] = (event,)
    if _is_fresh(receipt):
        events = (event, ReceiptRecorded.of(receipt))
    return ItemApplication(new_receipt, new_item, allocation, events)


@attrs.frozen
class Reversal:
    """What reversing a receipt did: the receipt, the items reopened, the event."""

    receipt: Receipt
    items: tuple[OpenItem, ...]
    """Every open item given, in the order given, reopened where the receipt had settled it."""
    events: tuple[DomainEvent, ...]


def reverse_receipt(
    receipt: Receipt,
    allocations: Iterable[Allocation],
    items: Iterable[OpenItem],
    *,
    on: date,
    refunds_stand: bool = False,
) -> Reversal:
    """Undo a bounced or recalled receipt: reopen exactly what its allocations settled.

    ``allocations`` may hold other receipts' allocations too; this receipt's must add up to what it
    applied. Each item is reopened by applied plus discount plus write-off, so a discount or a
    write-off the payment earned goes away with it. A receipt with refunded cash cannot bounce
    (the bank would take back money already paid back), unless ``refunds_stand``: the money
    leaves through the same channel that refunded it (a card refund taking back a card receipt),
    so what was refunded stays refunded and only what the receipt still holds leaves.
    """
    state = RECEIPT_LIFECYCLE.next_state(
        receipt.state, ReceiptTrigger.REVERSE, entity_id=receipt.receipt_id
    )
    if receipt.refunded.amount > 0 and not refunds_stand:
        raise InvalidInput(
            field="receipt",
            value=receipt.receipt_id,
            reason=f"{receipt.refunded} of it was refunded; settle that before reversing",
        )
    own = tuple(a for a in allocations if a.receipt_id == receipt.receipt_id)
    applied = total((a.applied for a in own), receipt.amount.currency)
    if applied != receipt.applied:
        raise InvalidInput(
            field="allocations",
            value=str(applied),
            reason=f"receipt {receipt.receipt_id} applied {receipt.applied}",
        )
    given = tuple(items)
    by_id = {item.item_id: item for item in given}
    reopened: dict[str, OpenItem] = {}
    for allocation in own:
        item = reopened.get(allocation.item_id) or by_id.get(allocation.item_id)
        if item is None:
            raise InvalidInput(
                field="open item", value=allocation.item_id, reason="not among the items given"
            )
        reopened[allocation.item_id] = item.reopen(allocation.settled)
    new_receipt = attrs.evolve(receipt, state=state)
    held = receipt.amount - receipt.refunded
    event = ReceiptReversed(
        receipt.receipt_id, on, own, held, receipt.payer.customer_id, receipt.method
    )
    return Reversal(
        new_receipt, tuple(reopened.get(item.item_id, item) for item in given), (event,)
    )


def refund_receipt(receipt: Receipt, amount: Money, *, on: date) -> Changed[Receipt]:
    """Pay back ``amount`` of a receipt's unapplied cash (customer credit, an overpayment).

    The receipt keeps the refunded amount; refunding all that is left ends it (``refunded``, or
    ``applied`` if part had been applied).
    """
    if amount.currency != receipt.amount.currency:
        raise CurrencyMismatch(expected=receipt.currency, actual=amount.currency.code)
    if amount.amount <= 0 or not is_exact(amount):
        raise InvalidAmount(value=str(amount), reason="a refund must be positive and exact")
    unapplied = receipt.unapplied
    if amount.amount > unapplied.amount:
        raise UnappliedCashExceeded(
            receipt_id=receipt.receipt_id, unapplied=str(unapplied), requested=str(amount)
        )
    trigger = ReceiptTrigger.REFUND_REST if amount == unapplied else ReceiptTrigger.REFUND_PART
    state = RECEIPT_LIFECYCLE.next_state(receipt.state, trigger, entity_id=receipt.receipt_id)
    new = attrs.evolve(receipt, state=state, refunded=receipt.refunded + amount)
    event = ReceiptRefunded(
        receipt.receipt_id, on, amount, new.refunded, receipt.payer.customer_id, receipt.method
    )
    return Changed(new, (event,))
