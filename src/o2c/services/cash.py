"""Cash application: receipts in, matched to open items, recorded on invoices and charges.

A batch of receipts (bank statement lines) is applied in one run with the domain's matching
ladder (:func:`o2c.domain.cash.apply_statement`) over a :class:`~o2c.domain.matching.MatchingIndex`
of every open invoice and dunning charge. Each allocation then settles the receivable it names
(:func:`o2c.domain.settlement.settle`: on an invoice the discount first, then the payment, then a
small-difference write-off; on a charge all of it). The allocations are kept per receipt, so a
bounced receipt reopens exactly the items it paid. A statement line whose source id was imported
before is skipped: a re-import applies nothing. Settling overdue items releases the credit holds
they caused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from o2c.domain.cash import (
    Allocation,
    AppliedSources,
    StatementRun,
    apply_statement,
    apply_to_item,
    refund_receipt,
)
from o2c.domain.matching import MatchingConfig, PayerDirectory
from o2c.domain.money import Money
from o2c.domain.receipts import Receipt
from o2c.domain.settlement import open_item_of, reverse_settlements, settle
from o2c.domain.worklist import QueuedReceipt, QueueReason
from o2c.services import _common
from o2c.services._runtime import Runtime, Work
from o2c.services.errors import GatewayReceipt, NothingToApply, UnknownReceipt
from o2c.services.results import AllocationSummary, ReceiptUpdate, StatementImport

__all__ = [
    "CashService",
    "apply_receipts",
    "follow_in_queue",
    "record_allocations",
    "reverse_allocations",
]


def record_allocations(work: Work, receipt: Receipt, allocations: Iterable[Allocation]) -> None:
    """Settle the invoices and charges that allocations of ``receipt`` name, and keep them.

    The allocations are appended to the receipt's history, and holds of customers whose items
    were settled are re-checked.
    """
    uow = work.uow
    made = tuple(allocations)
    customers: set[str] = set()
    for allocation in made:
        settled, events = settle(
            _common.receivable(uow, allocation.item_id), allocation, on=receipt.value_date
        )
        work.record(events)
        _common.save_receivable(uow, settled)
        customers.add(settled.customer_id)
    if made:
        earlier = uow.allocations.find(receipt.receipt_id) or ()
        uow.allocations.save(receipt.receipt_id, (*earlier, *made))
    _common.release_settled_holds(work, customers)


def follow_in_queue(work: Work, receipt: Receipt) -> None:
    """Bring the receipt's exception-queue entry (if it has one) in line with the receipt: cash
    applied, refunded or reversed outside the queue leaves less (or nothing) to decide."""
    entry = work.uow.exception_queue.find(receipt.receipt_id)
    if entry is not None:
        followed = entry.followed(receipt)
        if followed != entry:
            work.uow.exception_queue.save(receipt.receipt_id, followed)


def reverse_allocations(
    work: Work,
    receipt: Receipt,
    allocations: tuple[Allocation, ...],
    *,
    refunds_stand: bool = False,
) -> Receipt:
    """Undo a receipt: reopen exactly what its allocations settled, on invoices and charges.

    Returns the reversed receipt, saved. ``refunds_stand`` as for
    :func:`~o2c.domain.cash.reverse_receipt`.
    """
    uow = work.uow
    item_ids = dict.fromkeys(a.item_id for a in allocations)
    reversal = reverse_settlements(
        receipt,
        allocations,
        [_common.receivable(uow, item_id) for item_id in item_ids],
        on=work.today,
        refunds_stand=refunds_stand,
    )
    work.record(reversal.events)
    for reopened in reversal.receivables:
        _common.save_receivable(uow, reopened)
    uow.receipts.save(receipt.receipt_id, reversal.receipt)
    return reversal.receipt


def _summary(allocation: Allocation) -> AllocationSummary:
    return AllocationSummary(
        allocation.receipt_id,
        allocation.item_id,
        allocation.applied,
        allocation.discount,
        allocation.write_off,
        allocation.rule,
    )


def _update(receipt: Receipt) -> ReceiptUpdate:
    return ReceiptUpdate(receipt.receipt_id, receipt.state, receipt.unapplied)


class CashService:
    """Imports receipts, applies cash, reverses bounced receipts and refunds unapplied cash."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def import_receipts(
        self, receipts: Sequence[Receipt], *, idempotency_key: str
    ) -> StatementImport:
        """Record a batch of receipts and apply them to the open items in one run.

        Receipts whose statement line (``source_id``) or receipt id is known already are listed
        as duplicates and change nothing. Payers are recognised by customer id, by payer account
        (``customers.by_payer_account``) or by name (``customers.by_name``, when exactly one
        customer has it). Unmatched cash of a known customer goes on account, the rest waits in
        the exception queue (``queued``), as does the rest of a receipt a rule placed only part
        of (``partly_matched``); both are stored with their suggestions
        (:class:`~o2c.services.queue.ExceptionQueueService`).
        """

        def body(work: Work) -> StatementImport:
            uow = work.uow
            taken = {r.receipt_id for r in receipts if uow.receipts.find(r.receipt_id) is not None}
            fresh = [r for r in receipts if r.receipt_id not in taken]
            reused = tuple(r.receipt_id for r in receipts if r.receipt_id in taken)
            run = apply_receipts(work, fresh, self._runtime.settings.matching)
            by_receipt = {a.receipt_id for a in run.allocations}
            queued = {entry.receipt_id for entry in run.exceptions}
            return StatementImport(
                applied=tuple(r.receipt_id for r in run.receipts if r.receipt_id in by_receipt),
                on_account=tuple(
                    r.receipt_id
                    for r in run.receipts
                    if r.receipt_id not in by_receipt and r.receipt_id not in queued
                ),
                queued=tuple(sorted(queued)),
                duplicates=(*reused, *(r.receipt_id for r in run.duplicates)),
                allocations=tuple(_summary(a) for a in run.allocations),
                partly_matched=tuple(entry.receipt_id for entry in run.partly_matched),
            )

        return self._runtime.execute(
            "import_receipts", idempotency_key, tuple(receipts), StatementImport, body
        )

    def apply_receipt(
        self,
        receipt_id: str,
        item_id: str,
        amount: Money | None = None,
        *,
        idempotency_key: str,
    ) -> ReceiptUpdate:
        """A person applies unapplied cash of a receipt (queued or on account) to one item.

        ``amount`` defaults to as much as both the receipt and the item allow.
        """

        def body(work: Work) -> ReceiptUpdate:
            uow = work.uow
            receipt = self._receipt(work, receipt_id)
            item = open_item_of(_common.receivable(uow, item_id))
            wanted = amount if amount is not None else min(receipt.unapplied, item.open)
            if wanted.amount <= 0:
                raise NothingToApply(receipt_id, f"nothing of it can go to {item_id}")
            applied = apply_to_item(receipt, item, wanted, on=work.today)
            work.record(applied.events)
            uow.receipts.save(receipt_id, applied.receipt)
            record_allocations(work, applied.receipt, (applied.allocation,))
            follow_in_queue(work, applied.receipt)
            return _update(applied.receipt)

        request = (receipt_id, item_id, amount)
        return self._runtime.execute("apply_receipt", idempotency_key, request, ReceiptUpdate, body)

    def reverse_receipt(
        self, receipt_id: str, *, reason: str, idempotency_key: str
    ) -> ReceiptUpdate:
        """A receipt bounced: reopen exactly the invoices and charges it paid.

        The money it paid comes off each invoice again (``reverse_payment``); dunning charges
        reopen by what the receipt settled of them. A card or wallet receipt cannot bounce
        (:class:`GatewayReceipt`): the gateway still holds its money.
        """

        def body(work: Work) -> ReceiptUpdate:
            receipt = self._receipt(work, receipt_id)
            if receipt.through_gateway:
                raise GatewayReceipt(receipt_id, "bank reversal", receipt.payment_id)
            allocations = work.uow.allocations.find(receipt_id) or ()
            reversed_receipt = reverse_allocations(work, receipt, allocations)
            follow_in_queue(work, reversed_receipt)
            return _update(reversed_receipt)

        request = (receipt_id, reason)
        return self._runtime.execute(
            "reverse_receipt", idempotency_key, request, ReceiptUpdate, body
        )

    def refund_unapplied(
        self, receipt_id: str, amount: Money | None = None, *, idempotency_key: str
    ) -> ReceiptUpdate:
        """Pay back unapplied cash of a receipt (an overpayment); all of it by default.

        Card and wallet receipts are refunded through the gateway instead (:class:`GatewayReceipt`).
        """

        def body(work: Work) -> ReceiptUpdate:
            receipt = self._receipt(work, receipt_id)
            if receipt.through_gateway:
                raise GatewayReceipt(receipt_id, "bank refund", receipt.payment_id)
            wanted = amount if amount is not None else receipt.unapplied
            if wanted.amount <= 0:
                raise NothingToApply(receipt_id, "no unapplied cash is left to refund")
            receipt, events = refund_receipt(receipt, wanted, on=work.today)
            work.record(events)
            work.uow.receipts.save(receipt_id, receipt)
            follow_in_queue(work, receipt)
            return _update(receipt)

        request = (receipt_id, amount)
        return self._runtime.execute(
            "refund_unapplied", idempotency_key, request, ReceiptUpdate, body
        )

    @staticmethod
    def _receipt(work: Work, receipt_id: str) -> Receipt:
        found = work.uow.receipts.find(receipt_id)
        if found is None:
            raise UnknownReceipt(receipt_id)
        return found


def apply_receipts(work: Work, fresh: Sequence[Receipt], matching: MatchingConfig) -> StatementRun:
    """Apply receipts not seen before to the open items and store what came of them.

    Shared by every way receipts arrive (a batch, a bank statement). Lines already applied
    (by ``source_id``) come back as duplicates. Payers are recognised by customer id, payer
    account (``customers.by_payer_account``) or name (``customers.by_name``, when exactly one
    customer has it). The receipts and their allocations are stored; unmatched receipts and the
    rest of partly matched ones wait in the exception queue with their suggestions.
    """
    uow = work.uow
    sources = AppliedSources(
        frozenset(r.source_id for r in fresh if uow.receipts.by_source(r.source_id) is not None)
    )
    accounts: dict[str, str] = {}
    names: dict[str, str] = {}
    for r in fresh:
        account = r.payer.account
        if account:
            owners = uow.customers.by_payer_account(account)
            if owners:
                accounts[account] = owners[0].customer_id
                continue
        name = r.payer.name
        if name and not r.payer.customer_id and name not in names:
            named = uow.customers.by_name(name)
            if len(named) == 1:  # two customers of one name: the name tells nothing
                names[name] = named[0].customer_id
    # the directory's converters are typed loosely; they take any mapping
    payers = PayerDirectory(accounts=accounts, names=names)  # type: ignore[arg-type]
    run = apply_statement(
        fresh,
        uow.open_items.open() if fresh else (),
        on=work.today,
        sources=sources,
        config=matching,
        payers=payers,
    )
    work.record(run.events)
    by_receipt: dict[str, list[Allocation]] = {}
    for allocation in run.allocations:
        by_receipt.setdefault(allocation.receipt_id, []).append(allocation)
    stored = {}
    for receipt in run.receipts:
        uow.receipts.add(receipt.receipt_id, receipt)
        record_allocations(work, receipt, by_receipt.get(receipt.receipt_id, ()))
        stored[receipt.receipt_id] = receipt
    for entry in run.exceptions:
        uow.exception_queue.save(
            entry.receipt_id,
            QueuedReceipt.of(stored[entry.receipt_id], entry, QueueReason.UNMATCHED, work.today),
        )
    for entry in run.partly_matched:
        made = by_receipt.get(entry.receipt_id, ())
        note = "; ".join(f"{a.applied} to {a.item_id}: {a.explanation}" for a in made)
        uow.exception_queue.save(
            entry.receipt_id,
            QueuedReceipt.of(
                stored[entry.receipt_id], entry, QueueReason.PARTLY_MATCHED, work.today, note
            ),
        )
    return run
