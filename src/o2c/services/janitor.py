"""The janitor: settles every call to another system whose outcome was left open.

A command records each call to another system before making it (:mod:`o2c.services.calls`) and
its outcome with its changes, and compensates what it cannot complete. What is still open after
that is a crash, a lost answer, a compensation that failed too, a pending card authorisation or a
journal entry the ledger did not take. :meth:`JanitorService.run` finds each and asks the other
system how it ended:

* a call made before its command committed, still open: the command did not record it, so its
  effect is undone (stock released, booking cancelled) if the other system says it acted, and the
  call is marked ``compensated``; if it never acted, ``failed``;
* a call to make after its command committed (stock leaving for a recorded shipment, a release
  for a cancelled order): made again under its key, ``succeeded``;
* a card payment whose authorisation answer was lost: the gateway is asked
  (:meth:`~o2c.services.cards.CardService.resolve_pending`);
* journal entries waiting in the ledger outbox: posted; events and notices waiting in the
  outboxes (past their backoff): delivered by the delivery hook given to the janitor, which the
  services facade wires to the outbox delivery, so one janitor run settles everything.

Every step is idempotent, so running the janitor twice, or beside the commands, changes nothing
more. Calls newer than ``older_than`` are left alone: their command may still be running.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from o2c.domain.payments import PaymentStatus
from o2c.ports.errors import AdapterError, PluginError
from o2c.services._runtime import Runtime
from o2c.services.calls import CallProtocol
from o2c.services.cards import CardService
from o2c.services.errors import ApplicationError
from o2c.services.results import PaymentResult

__all__ = ["JanitorReport", "JanitorService"]


@attrs.frozen
class JanitorReport:
    """What one janitor run found and did, by outcome."""

    examined: int = 0
    """Open calls looked at."""
    completed: int = 0
    """Calls to make after commit that were made now."""
    compensated: int = 0
    """Calls whose command never committed, undone now."""
    failed: int = 0
    """Calls that turned out never to have acted (nothing to undo)."""
    unresolved: int = 0
    """Calls the other system could not settle now (down, or no longer undoable): still open."""
    too_recent: int = 0
    """Calls newer than ``older_than``, left to their command."""
    payments_resolved: int = 0
    """Pending card authorisations whose outcome the gateway told."""
    payments_pending: int = 0
    """Pending card authorisations the gateway still could not tell."""
    entries_posted: int = 0
    """Journal entries posted from the ledger outbox."""
    notices_delivered: int = 0
    """Events and notices delivered from the outboxes by the delivery hook."""

    @property
    def settled(self) -> bool:
        """Whether nothing the janitor could reach is left open."""
        return self.unresolved == 0 and self.payments_pending == 0


DeliveryHook = Callable[[], int]
"""Delivers waiting notices and events; returns how many went out."""


class JanitorService:
    """Settles calls to other systems left open (see the module doc)."""

    def __init__(
        self,
        runtime: Runtime,
        calls: CallProtocol,
        cards: CardService,
        deliver: DeliveryHook | None = None,
    ) -> None:
        self._runtime = runtime
        self._calls = calls
        self._cards = cards
        self.deliver = deliver
        """The delivery hook for waiting notices and events, if the application has one."""

    def run(self, *, older_than: timedelta = timedelta(0)) -> JanitorReport:
        """Settle every open call older than ``older_than``, oldest first; return the counts.

        Never raises for what another system answers: what cannot be settled now is counted as
        unresolved and stays open for the next run.
        """
        adapters = self._runtime.adapters
        now = adapters.clock.now()
        try:
            cutoff = now - older_than
        except OverflowError:  # older than any date: every call is too recent
            cutoff = datetime.min.replace(tzinfo=now.tzinfo)
        with adapters.unit_of_work() as uow:
            open_calls = uow.calls.unsettled()
            pending = [
                payment.payment_id
                for payment in uow.payments.awaiting_gateway_reference()
                if payment.status is PaymentStatus.PENDING
            ]
        counts = dict.fromkeys(("completed", "compensated", "failed", "unknown", "settled"), 0)
        too_recent = 0
        for call in open_calls:
            if call.updated_at > cutoff:
                too_recent += 1
                continue
            counts[self._calls.settle(call)] += 1
        resolved = still_pending = 0
        for payment_id in pending:
            if self._resolve(payment_id) is None:
                still_pending += 1
            else:
                resolved += 1
        return JanitorReport(
            examined=len(open_calls),
            completed=counts["completed"],
            compensated=counts["compensated"],
            failed=counts["failed"],
            unresolved=counts["unknown"],
            too_recent=too_recent,
            payments_resolved=resolved,
            payments_pending=still_pending,
            entries_posted=self._flush_ledger(),
            notices_delivered=self._deliver(),
        )

    def _resolve(self, payment_id: str) -> PaymentResult | None:
        try:
            return self._cards.resolve_pending(
                payment_id, idempotency_key=f"janitor:resolve:{payment_id}"
            )
        except (AdapterError, ApplicationError):
            return None

    def _flush_ledger(self) -> int:
        try:
            return self._runtime.flush_ledger_outbox()
        except AdapterError:
            return 0

    def _deliver(self) -> int:
        if self.deliver is None:
            return 0
        try:
            return self.deliver()
        except (AdapterError, PluginError):
            # What failed waits in the outbox for the next run (its backlog shows it).
            return 0
