"""Statement import: bank statements in, every line made into what it is, each applied once.

:meth:`StatementService.import_statements` checks every statement's balances first (a
statement that does not reconcile is refused, and nothing of the batch is applied), then in one
unit of work:

* incoming payments become receipts, matched and applied as :mod:`o2c.services.cash` applies
  receipts (matched, partly matched, on account, or queued for a person);
* returns and reversals of incoming payments reverse the receipt they return (found by the
  payment's end-to-end id), reopening what it paid; a return whose payment is unknown is listed;
* bank charges post as bank fees;
* outgoing payments, returned outgoing payments and lines not booked yet are listed only.

Each line is applied once: its stable line id (see :mod:`o2c.domain.statements`) is kept with
the store's idempotency records, so the same file twice, overlapping statements or an intraday
report followed by the day's statement apply nothing twice. Lines not booked yet are not kept:
they apply once the bank books them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import attrs

from o2c.domain.cash import Allocation
from o2c.domain.money import Money, zero
from o2c.domain.receipts import Receipt, ReceiptState
from o2c.domain.statements import (
    BankFeeCharged,
    BankStatement,
    LineKind,
    PlannedLine,
    plan_statement,
)
from o2c.domain.statements import (
    check_balances as reconcile,
)
from o2c.services._runtime import Runtime, Work
from o2c.services.cash import apply_receipts, reverse_allocations
from o2c.services.results import AllocationSummary

__all__ = ["LINE_KEY", "LineTotal", "StatementReport", "StatementService"]

LINE_KEY = "statement-line:"
"""Idempotency records under this prefix name the statement lines applied already."""
_PAYMENT_KEY = "statement-payment:"
"""Idempotency records under this prefix find a receipt by the payer's end-to-end id."""


@attrs.frozen
class LineTotal:
    """How many lines (or receipts) of one outcome, and their amount, per currency."""

    outcome: str
    currency: str
    count: int
    total: Money


@attrs.frozen
class StatementReport:
    """What importing statements did. Receipt ids for receipts; line ids for other lines."""

    statements: tuple[str, ...]
    matched: tuple[str, ...] = ()
    """Receipts applied in full to open items."""
    partly_matched: tuple[str, ...] = ()
    """Receipts applied in part; the rest waits in the exception queue."""
    on_account: tuple[str, ...] = ()
    queued: tuple[str, ...] = ()
    """Receipts nothing was applied from, waiting in the exception queue."""
    reversed: tuple[str, ...] = ()
    """Receipts a return line reversed."""
    unmatched_returns: tuple[str, ...] = ()
    """Return lines whose original receipt is unknown (or was reversed already)."""
    fees: tuple[str, ...] = ()
    outgoing: tuple[str, ...] = ()
    returned_outgoing: tuple[str, ...] = ()
    not_booked: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    """Lines applied by an earlier import, skipped."""
    allocations: tuple[AllocationSummary, ...] = ()
    totals: tuple[LineTotal, ...] = ()


class _Totals:
    def __init__(self) -> None:
        self.sums: dict[tuple[str, str], tuple[int, Money]] = {}

    def add(self, outcome: str, amount: Money) -> None:
        key = (outcome, amount.currency.code)
        count, total = self.sums.get(key, (0, zero(amount.currency)))
        self.sums[key] = (count + 1, total + amount)

    def lines(self) -> tuple[LineTotal, ...]:
        return tuple(
            LineTotal(outcome, currency, count, total)
            for (outcome, currency), (count, total) in self.sums.items()
        )


class StatementService:
    """Imports bank statements: receipts, returns, bank fees; every line once."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def import_statements(
        self,
        statements: Sequence[BankStatement],
        *,
        idempotency_key: str,
        check_balances: bool = True,
    ) -> StatementReport:
        """Apply every line of the statements once (see the module doc).

        Raises :class:`~o2c.domain.statements.StatementUnbalanced` for a statement that does
        not reconcile and :class:`~o2c.domain.statements.UnreadableStatement` for an amount
        more exact than its currency; then nothing is applied. ``check_balances=False`` skips
        the balance check, for a bank known to report balances that are not the booked ones.
        """
        if check_balances:
            for statement in statements:
                reconcile(statement)
        planned = [(s, line) for s in statements for line in plan_statement(s)]
        request = tuple(line.line_id for _, line in planned)

        def body(work: Work) -> StatementReport:
            return self._apply(work, statements, planned)

        return self._runtime.execute(
            "import_statements", idempotency_key, request, StatementReport, body
        )

    def has_run(self, idempotency_key: str) -> bool:
        """Whether an import ran under ``idempotency_key`` already."""
        return self._runtime.has_run("import_statements", idempotency_key)

    # -- the work ------------------------------------------------------------------------------

    def _apply(
        self,
        work: Work,
        statements: Sequence[BankStatement],
        planned: Sequence[tuple[BankStatement, PlannedLine]],
    ) -> StatementReport:
        uow = work.uow
        totals = _Totals()
        out: dict[str, list[str]] = {k: [] for k in _LISTS}
        fresh: list[tuple[BankStatement, PlannedLine]] = []
        seen: set[str] = set()
        for statement, line in planned:
            if line.kind is LineKind.NOT_BOOKED:
                out["not_booked"].append(line.line_id)
                totals.add("not booked", line.entry.amount)
            elif line.line_id in seen or uow.commands.recall(LINE_KEY + line.line_id):
                out["duplicates"].append(line.line_id)
                totals.add("duplicate", line.entry.amount)
            else:
                seen.add(line.line_id)
                fresh.append((statement, line))
        receipts = [r for _, line in fresh for r in line.receipts]
        allocations = self._receipts(work, receipts, out, totals)
        for statement, line in fresh:
            entry = line.entry
            if line.kind is LineKind.RECEIPT:
                for receipt, tx in zip(line.receipts, _transactions(line), strict=False):
                    key = _payment_key(statement, tx)
                    # The first payment under an end-to-end id is the one a return names.
                    if tx and tx != "NOTPROVIDED" and uow.commands.recall(key) is None:
                        uow.commands.remember(key, receipt.receipt_id)
            elif line.kind is LineKind.RETURN:
                self._return(work, statement, line, out, totals)
            elif line.kind is LineKind.FEE:
                work.record(
                    (
                        BankFeeCharged(
                            line.line_id,
                            statement.account,
                            entry.amount,
                            entry.date,
                            entry.first.remittance[:80],
                        ),
                    )
                )
                out["fees"].append(line.line_id)
                totals.add("bank fee", entry.amount)
            elif line.kind is LineKind.OUTGOING:
                out["outgoing"].append(line.line_id)
                totals.add("outgoing", entry.amount)
            else:
                out["returned_outgoing"].append(line.line_id)
                totals.add("returned outgoing", entry.amount)
            uow.commands.remember(LINE_KEY + line.line_id, line.kind.value)
        return StatementReport(
            statements=tuple(s.statement_id for s in statements),
            allocations=tuple(
                AllocationSummary(
                    a.receipt_id, a.item_id, a.applied, a.discount, a.write_off, a.rule
                )
                for a in allocations
            ),
            totals=totals.lines(),
            **{k: tuple(v) for k, v in out.items()},
        )

    def _receipts(
        self,
        work: Work,
        receipts: Sequence[Receipt],
        out: dict[str, list[str]],
        totals: _Totals,
    ) -> tuple[Allocation, ...]:
        uow = work.uow
        fresh = [r for r in receipts if uow.receipts.find(r.receipt_id) is None]
        run = apply_receipts(work, fresh, self._runtime.settings.matching)
        queued = {entry.receipt_id for entry in run.exceptions}
        for receipt in run.receipts:
            if receipt.state is ReceiptState.APPLIED:
                outcome = "matched"
            elif receipt.state is ReceiptState.PARTIALLY_APPLIED:
                outcome = "partly_matched"
            elif receipt.receipt_id in queued or receipt.state is ReceiptState.UNAPPLIED:
                outcome = "queued"
            else:
                outcome = "on_account"
            out[outcome].append(receipt.receipt_id)
            totals.add(outcome.replace("_", " "), receipt.amount)
        for duplicate in run.duplicates:
            out["duplicates"].append(duplicate.source_id)
            totals.add("duplicate", duplicate.amount)
        return run.allocations

    def _return(
        self,
        work: Work,
        statement: BankStatement,
        line: PlannedLine,
        out: dict[str, list[str]],
        totals: _Totals,
    ) -> None:
        uow = work.uow
        tx = line.entry.first
        key = _payment_key(statement, tx.end_to_end_id)
        found = uow.commands.recall(key) if tx.end_to_end_id else None
        receipt = uow.receipts.find(found) if found else None
        if (
            receipt is None
            or receipt.state is ReceiptState.REVERSED
            or receipt.amount != line.entry.amount
        ):
            out["unmatched_returns"].append(line.line_id)
            totals.add("unmatched return", line.entry.amount)
            return
        allocations = uow.allocations.find(receipt.receipt_id) or ()
        reverse_allocations(work, receipt, allocations)
        out["reversed"].append(receipt.receipt_id)
        totals.add("reversed", line.entry.amount)


_LISTS = (
    "matched",
    "partly_matched",
    "on_account",
    "queued",
    "reversed",
    "unmatched_returns",
    "fees",
    "outgoing",
    "returned_outgoing",
    "not_booked",
    "duplicates",
)


def _transactions(line: PlannedLine) -> list[str]:
    """The end-to-end id behind each receipt of a line ('' when the payer gave none)."""
    if len(line.receipts) == 1:
        return [line.entry.first.end_to_end_id]
    return [t.end_to_end_id for t in line.entry.transactions]


def _payment_key(statement: BankStatement, end_to_end_id: str) -> str:
    account = statement.account.replace(" ", "").upper()
    return _PAYMENT_KEY + json.dumps([account, end_to_end_id])
