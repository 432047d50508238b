"""The exception queue as a worklist: list the receipts waiting for a person, and decide them.

Importing receipts (:meth:`~o2c.services.cash.CashService.import_receipts`) stores every receipt
the matching ladder could not place, and the rest of every receipt it placed only part of, as a
:class:`~o2c.domain.worklist.QueuedReceipt` with its ranked suggestions. This service lists the
open entries (by customer, currency and age, through the store's named query) and carries out a
person's decisions:

* :meth:`~ExceptionQueueService.accept`: apply the receipt to one of its suggestions;
* :meth:`~ExceptionQueueService.allocate`: apply it to an item of the person's choosing;
* :meth:`~ExceptionQueueService.put_on_account`: keep the cash as a customer's credit;
* :meth:`~ExceptionQueueService.refund`: pay the cash back.

Each command names who decided and why; the decision is stored on the entry
(:class:`~o2c.domain.worklist.QueueDecision`) in the same unit of work as its effect, and
:meth:`~ExceptionQueueService.entry` reads it back.
"""

from __future__ import annotations

from datetime import date, timedelta

from o2c.domain.cash import apply_to_item, refund_receipt
from o2c.domain.money import Money
from o2c.domain.receipts import Receipt
from o2c.domain.settlement import open_item_of
from o2c.domain.worklist import DecisionKind, QueueDecision, QueuedReceipt, place_on_account
from o2c.ports.persistence import UnitOfWork
from o2c.services import _common
from o2c.services._runtime import Runtime, Work
from o2c.services.cash import record_allocations
from o2c.services.errors import (
    NotASuggestion,
    NothingToApply,
    NotQueued,
    UnknownReceipt,
)
from o2c.services.results import QueueUpdate

__all__ = ["ExceptionQueueService"]


class ExceptionQueueService:
    """Lists the exception queue and records a person's decision on each receipt in it."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    # -- queries -----------------------------------------------------------------------------

    def entries(
        self,
        *,
        customer_id: str | None = None,
        currency: str | None = None,
        older_than_days: int | None = None,
        as_of: date | None = None,
    ) -> tuple[QueuedReceipt, ...]:
        """The open entries, oldest stored first: of one customer, in one currency, and whose
        money arrived more than ``older_than_days`` days before ``as_of`` (today by default),
        whichever are given."""
        arrived_by: date | None = None
        if older_than_days is not None:
            today = as_of if as_of is not None else self._runtime.adapters.clock.today()
            arrived_by = today - timedelta(days=older_than_days + 1)

        def read(uow: UnitOfWork) -> tuple[QueuedReceipt, ...]:
            return uow.exception_queue.open_entries(
                customer_id=customer_id, currency=currency, arrived_by=arrived_by
            )

        return self._runtime.query(read)

    def entry(self, receipt_id: str) -> QueuedReceipt:
        """The queue entry of a receipt, open or worked off, with every decision made on it.

        Raises :class:`NotQueued` if the receipt never waited in the queue.
        """

        def read(uow: UnitOfWork) -> QueuedReceipt:
            found = uow.exception_queue.find(receipt_id)
            if found is None:
                raise NotQueued(receipt_id, "it never waited in the exception queue")
            return found

        return self._runtime.query(read)

    # -- decisions ---------------------------------------------------------------------------

    def accept(
        self,
        receipt_id: str,
        item_id: str | None = None,
        *,
        by: str,
        why: str,
        idempotency_key: str,
    ) -> QueueUpdate:
        """Apply the receipt to one of its suggestions (the best one by default), as much as
        both allow. Raises :class:`NotASuggestion` for an item the ladder did not suggest."""

        def body(work: Work) -> QueueUpdate:
            entry, receipt = _open_entry(work, receipt_id)
            if not entry.suggestions:
                raise NotASuggestion(receipt_id, item_id or "", ())
            chosen = item_id if item_id is not None else entry.suggestions[0].item_id
            suggestion = entry.suggestion(chosen)
            if suggestion is None:
                raise NotASuggestion(
                    receipt_id, chosen, tuple(s.item_id for s in entry.suggestions)
                )
            explanation = f"accepted suggestion ({suggestion.reason}) by {by}: {why}"
            return _apply(
                work,
                entry,
                receipt,
                item_id=chosen,
                amount=None,
                kind=DecisionKind.ACCEPTED,
                by=by,
                why=why,
                explanation=explanation,
            )

        request = (receipt_id, item_id, by, why)
        return self._runtime.execute("queue_accept", idempotency_key, request, QueueUpdate, body)

    def allocate(
        self,
        receipt_id: str,
        item_id: str,
        amount: Money | None = None,
        *,
        by: str,
        why: str,
        idempotency_key: str,
    ) -> QueueUpdate:
        """Apply ``amount`` of the receipt (by default as much as both allow) to any open item."""

        def body(work: Work) -> QueueUpdate:
            entry, receipt = _open_entry(work, receipt_id)
            explanation = f"allocated by hand by {by}: {why}"
            return _apply(
                work,
                entry,
                receipt,
                item_id=item_id,
                amount=amount,
                kind=DecisionKind.ALLOCATED,
                by=by,
                why=why,
                explanation=explanation,
            )

        request = (receipt_id, item_id, amount, by, why)
        return self._runtime.execute("queue_allocate", idempotency_key, request, QueueUpdate, body)

    def put_on_account(
        self,
        receipt_id: str,
        customer_id: str | None = None,
        *,
        by: str,
        why: str,
        idempotency_key: str,
    ) -> QueueUpdate:
        """Keep the receipt's unapplied cash as a customer's credit (the payer's customer by
        default; name one when the payer is unknown). The entry leaves the queue."""

        def body(work: Work) -> QueueUpdate:
            entry, receipt = _open_entry(work, receipt_id)
            owner = customer_id if customer_id is not None else entry.customer_id
            if owner is None:
                raise NotQueued(receipt_id, "its payer is unknown: name the customer to credit")
            _common.customer(work.uow, owner)
            decision = QueueDecision(
                DecisionKind.ON_ACCOUNT, by, why, work.now, receipt.unapplied, customer_id=owner
            )
            placed, events = place_on_account(receipt, owner, work.today, entry.suggestions)
            work.record(events)
            return _decided(work, entry, placed, decision)

        request = (receipt_id, customer_id, by, why)
        return self._runtime.execute(
            "queue_put_on_account", idempotency_key, request, QueueUpdate, body
        )

    def refund(
        self,
        receipt_id: str,
        amount: Money | None = None,
        *,
        by: str,
        why: str,
        idempotency_key: str,
    ) -> QueueUpdate:
        """Pay back ``amount`` of the receipt's unapplied cash (all of it by default); the entry
        leaves the queue once nothing is left."""

        def body(work: Work) -> QueueUpdate:
            entry, receipt = _open_entry(work, receipt_id)
            wanted = amount if amount is not None else receipt.unapplied
            decision = QueueDecision(DecisionKind.REFUNDED, by, why, work.now, wanted)
            refunded, events = refund_receipt(receipt, wanted, on=work.today)
            work.record(events)
            return _decided(work, entry, refunded, decision)

        request = (receipt_id, amount, by, why)
        return self._runtime.execute("queue_refund", idempotency_key, request, QueueUpdate, body)


def _open_entry(work: Work, receipt_id: str) -> tuple[QueuedReceipt, Receipt]:
    uow = work.uow
    receipt = uow.receipts.find(receipt_id)
    if receipt is None:
        raise UnknownReceipt(receipt_id)
    entry = uow.exception_queue.find(receipt_id)
    if entry is None:
        raise NotQueued(receipt_id)
    if not entry.is_open:
        raise NotQueued(receipt_id, "it was worked off already")
    return entry, receipt


def _apply(
    work: Work,
    entry: QueuedReceipt,
    receipt: Receipt,
    *,
    item_id: str,
    amount: Money | None,
    kind: DecisionKind,
    by: str,
    why: str,
    explanation: str,
) -> QueueUpdate:
    uow = work.uow
    item = open_item_of(_common.receivable(uow, item_id))
    wanted = amount if amount is not None else min(receipt.unapplied, item.open)
    if wanted.amount <= 0:
        raise NothingToApply(receipt.receipt_id, f"nothing of it can go to {item_id}")
    decision = QueueDecision(kind, by, why, work.now, wanted, item_id=item_id)
    applied = apply_to_item(receipt, item, wanted, on=work.today, explanation=explanation)
    work.record(applied.events)
    record_allocations(work, applied.receipt, (applied.allocation,))
    return _decided(work, entry, applied.receipt, decision)


def _decided(
    work: Work, entry: QueuedReceipt, receipt: Receipt, decision: QueueDecision
) -> QueueUpdate:
    uow = work.uow
    uow.receipts.save(receipt.receipt_id, receipt)
    decided = entry.decided(decision, receipt)
    uow.exception_queue.save(receipt.receipt_id, decided)
    return QueueUpdate(receipt.receipt_id, receipt.state, receipt.unapplied, decided.is_open)
