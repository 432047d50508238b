"""One protocol for every call to another system: intent first, outcome with the books, no half.

A command that asks another system (inventory, a carrier, a payment gateway) to act runs through
:meth:`CallProtocol.run` and follows five steps:

1. **Check** everything the domain and the stored state can check, before anything leaves.
2. **Record the intent** (:meth:`Calls.begin`): an :class:`~o2c.domain.calls.ExternalCall` in
   ``pending`` state, committed in a unit of work of its own *before* the call, with the
   idempotency key the other system will see. The key is fixed in the intent (a reservation id,
   a shipment id), never counted from operations recorded so far, so asking again asks for the
   same thing and a new intent never reuses an old key.
3. **Call** (:meth:`Calls.call`) with that key.
4. **Record the outcome** (``succeeded``) in the command's own unit of work, with its changes:
   the books and the record commit together or not at all.
5. If the command does not commit, whatever the reason (a refusal, a conflict, a crash of the
   commit, a bug), every intent it began and did not commit is **compensated** (stock released,
   booking cancelled) and marked so. If even that fails, the intent stays ``pending`` or
   ``unknown`` for the janitor (:class:`~o2c.services.janitor.JanitorService`), which asks the
   other system how it ended and settles it.

Effects that may only happen once the books say so (stock leaving the shelf for a recorded
shipment, reservations released for a cancelled order) are recorded with the command
(:meth:`Calls.after_commit`) and made just after it commits; one that fails then is made again by
a retry of the command or by the janitor, under the same key.

Recording an intent commits, so it must come before the command writes anything: the command's
unit of work starts afresh after it (what the command read stays checked, see
:meth:`Calls.begin`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

import attrs

from o2c.domain.calls import CallPhase, CallStatus, ExternalCall
from o2c.ports.errors import AdapterError, AdapterRejected, AdapterUnavailable, NotFound
from o2c.ports.gateways import GatewayResponse, ResponseStatus
from o2c.ports.persistence import UnitOfWork
from o2c.services._runtime import Runtime, Work
from o2c.services.context import Adapters

__all__ = [
    "OPERATIONS",
    "CallProtocol",
    "Calls",
    "Intent",
    "Operation",
    "call_id",
]

R = TypeVar("R")
T = TypeVar("T")

_PROTOCOL = "calls"
"""How the protocol names itself in the errors it raises."""


def call_id(adapter: str, operation: str, idempotency_key: str) -> str:
    """The id of the call record of ``operation`` on ``adapter`` under ``idempotency_key``."""
    return f"{adapter}:{operation}:{idempotency_key}"


@attrs.frozen
class Intent:
    """A call a command means to make: on which port, what, under which key, for whom."""

    adapter: str
    operation: str
    idempotency_key: str
    subject: str
    arguments: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def call_id(self) -> str:
        """The id of its record."""
        return call_id(self.adapter, self.operation, self.idempotency_key)


@attrs.frozen
class Operation:
    """How a recorded call is settled when its command cannot tell.

    ``undo`` (for calls made before commit) undoes it if it acted and says whether it had (it
    raises when the other system cannot tell yet, or the act cannot be undone: the call then
    stays open for a person or a retry of its command); ``redo`` (for calls made after commit)
    makes it again under its key.
    """

    undo: Callable[[Adapters, ExternalCall], bool] | None = None
    redo: Callable[[Adapters, ExternalCall], None] | None = None
    recorded: Callable[[UnitOfWork, ExternalCall], bool] | None = None
    """Whether the books hold the call's outcome after all (a retry of its command recorded
    it): then it is complete, not undone."""


def _release_reservation(adapters: Adapters, call: ExternalCall) -> bool:
    try:
        adapters.inventory.held(call.idempotency_key)
    except NotFound:
        return False  # never reserved
    adapters.inventory.release(call.idempotency_key)
    return True


def _cancel_booking(adapters: Adapters, call: ExternalCall) -> bool:
    booking = adapters.carrier.find_booking(call.idempotency_key)
    if booking is None:
        return False  # never booked
    adapters.carrier.cancel(booking.tracking_number)
    return True


def _commit_stock(adapters: Adapters, call: ExternalCall) -> None:
    adapters.inventory.commit(
        call.arguments["reservation_id"],
        Decimal(call.arguments["quantity"]),
        idempotency_key=call.idempotency_key,
    )


def _release_after_commit(adapters: Adapters, call: ExternalCall) -> None:
    adapters.inventory.release(call.idempotency_key)


def _approved(adapters: Adapters, call: ExternalCall) -> GatewayResponse | None:
    """The gateway's answer to the call if it approved it; ``None`` if it never acted."""
    try:
        answer = adapters.payment_gateway.fetch_status(call.idempotency_key)
    except NotFound:
        return None  # the request never reached the gateway
    if answer.status is ResponseStatus.UNKNOWN:
        raise AdapterUnavailable(
            adapters.payment_gateway.name, f"{call.idempotency_key} is still pending"
        )
    return answer if answer.status is ResponseStatus.APPROVED else None


def _void_authorisation(adapters: Adapters, call: ExternalCall) -> bool:
    answer = _approved(adapters, call)
    if answer is None or answer.gateway_reference is None:
        return False
    adapters.payment_gateway.void(
        gateway_reference=answer.gateway_reference, idempotency_key=f"{call.idempotency_key}:undo"
    )
    return True


def _refund_capture(adapters: Adapters, call: ExternalCall) -> bool:
    answer = _approved(adapters, call)
    if answer is None or answer.gateway_reference is None or answer.amount is None:
        return False
    adapters.payment_gateway.refund(
        gateway_reference=answer.gateway_reference,
        amount=answer.amount,
        idempotency_key=f"{call.idempotency_key}:undo",
    )
    return True


def _cannot_undo(adapters: Adapters, call: ExternalCall) -> bool:
    if _approved(adapters, call) is None:
        return False
    raise AdapterRejected(
        _PROTOCOL,
        f"{_describe(call)} moved money that cannot be taken back: run its command again "
        "under the same idempotency key to record it",
        "cannot_undo",
    )


def _payment_records(uow: UnitOfWork, call: ExternalCall) -> bool:
    payment = uow.payments.find(call.subject)
    return payment is not None and any(
        op.idempotency_key == call.idempotency_key for op in payment.operations
    )


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("inventory", "reserve"): Operation(undo=_release_reservation),
    ("carrier", "book"): Operation(undo=_cancel_booking),
    ("inventory", "commit"): Operation(redo=_commit_stock),
    ("inventory", "release"): Operation(redo=_release_after_commit),
    ("payment_gateway", "authorise"): Operation(
        undo=_void_authorisation, recorded=_payment_records
    ),
    ("payment_gateway", "capture"): Operation(undo=_refund_capture, recorded=_payment_records),
    ("payment_gateway", "refund"): Operation(undo=_cannot_undo, recorded=_payment_records),
    ("payment_gateway", "void"): Operation(undo=_cannot_undo, recorded=_payment_records),
}
"""How each kind of call is settled, by port and operation. A service that adds a kind of call
adds its entry here, so the protocol and the janitor can settle it."""

_PERMANENT = (AdapterRejected,)
"""Errors after which the other system certainly did not act."""


class Calls:
    """The calls of one run of one command: its intents, their outcomes, what follows commit."""

    def __init__(self, protocol: CallProtocol, command: str) -> None:
        self._protocol = protocol
        self.command = command
        """The command and idempotency key this run serves (``"ship_order:k-4"``)."""
        self._work: Work | None = None
        self._begun: list[ExternalCall] = []
        self._after: list[ExternalCall] = []
        self._refused: dict[str, str] = {}

    def bind(self, work: Work) -> Calls:
        """Attach the command's work (done by :meth:`CallProtocol.run`)."""
        self._work = work
        self._begun, self._after, self._refused = [], [], {}
        return self

    @property
    def ran(self) -> bool:
        """Whether the command's body ran (it did not when its result was remembered)."""
        return self._work is not None

    @property
    def work(self) -> Work:
        """The command's work."""
        if self._work is None:
            raise RuntimeError("calls are bound to a command's work by CallProtocol.run")
        return self._work

    def begin(
        self, intents: Iterable[Intent], *, still: Callable[[Work], bool] | None = None
    ) -> tuple[ExternalCall, ...]:
        """Record the intents as pending calls, committed now in a unit of work of their own.

        The command's unit of work then starts afresh (so that it sees the records it will
        settle); ``still`` is asked in it whether what the command decided on still holds (the
        order unchanged, say) and a ``False`` raises the retryable ``AdapterUnavailable``, so the
        command is run again rather than acting on a stale read. Call this before the command
        writes anything: writes made before it are dropped.
        """
        work = self.work
        adapters = self._protocol.adapters
        records = tuple(
            ExternalCall(
                intent.call_id,
                intent.adapter,
                intent.operation,
                intent.idempotency_key,
                intent.subject,
                self.command,
                work.now,
                work.now,
                arguments=intent.arguments,
            )
            for intent in intents
        )
        if not records:
            return records
        with adapters.unit_of_work() as uow:
            for record in records:
                uow.calls.add(record.call_id, record)
            uow.commit()
        self._begun.extend(records)
        work.uow.rollback()
        if still is not None and not still(work):
            raise AdapterUnavailable(
                _PROTOCOL, f"{self.command} read what changed meanwhile; run it again"
            )
        return records

    def call(self, record: ExternalCall, act: Callable[[], T]) -> T:
        """Make the call ``record`` stands for and record its success with the command."""
        work = self.work
        current = work.uow.calls.find(record.call_id)
        if current != record:
            # settled meanwhile (by the janitor): acting on it now would undo its settlement
            raise AdapterUnavailable(
                _PROTOCOL, f"call {record.call_id} was settled meanwhile; run the command again"
            )
        try:
            answer = act()
        except _PERMANENT as refused:
            self._refused[record.call_id] = refused.message
            raise
        work.uow.calls.save(record.call_id, record.tried(at=work.now).succeeded(at=work.now))
        return answer

    def after_commit(self, intent: Intent) -> None:
        """Record a call to make once the command commits (with the command's changes)."""
        work = self.work
        record = ExternalCall(
            intent.call_id,
            intent.adapter,
            intent.operation,
            intent.idempotency_key,
            intent.subject,
            self.command,
            work.now,
            work.now,
            phase=CallPhase.AFTER_COMMIT,
            arguments=intent.arguments,
        )
        work.uow.calls.add(record.call_id, record)
        self._after.append(record)

    # -- after the command ---------------------------------------------------------------------

    def compensate(self) -> None:
        """Undo every call begun in this run whose success did not commit; never raises."""
        for record in self._begun:
            refused = self._refused.get(record.call_id)
            self._protocol.settle(record, refused=refused)


class CallProtocol:
    """Runs commands that call other systems (see the module doc)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    @property
    def adapters(self) -> Adapters:
        """The adapters called."""
        return self._runtime.adapters

    def run(
        self,
        command: str,
        idempotency_key: str,
        request: object,
        result_type: type[R],
        body: Callable[[Work, Calls], R],
        *,
        subject: str,
    ) -> R:
        """Run ``body`` as the command, with its calls; compensate what a failure leaves.

        ``subject`` is the order (or payment) the command's calls serve: its calls to make after
        commit that are still open, from this run or an earlier one, are made once it commits.
        """
        calls = Calls(self, f"{command}:{idempotency_key}")
        try:
            result = self._runtime.execute(
                command,
                idempotency_key,
                request,
                result_type,
                lambda work: body(work, calls.bind(work)),
            )
        except BaseException:
            calls.compensate()
            raise
        if calls.ran:
            self.complete(calls._after)
        else:  # remembered: what an earlier run left to make after its commit is made now
            self.finish_after_commit(subject, command=calls.command)
        return result

    def finish_after_commit(self, subject: str, *, command: str | None = None) -> int:
        """Make the open after-commit calls of ``subject`` (of one command, if given).

        Returns how many were made now; one that fails stays open for a retry or the janitor.
        """
        with self.adapters.unit_of_work() as uow:
            waiting = [
                call
                for call in uow.calls.of_subject(subject)
                if call.is_unsettled
                and call.phase is CallPhase.AFTER_COMMIT
                and (command is None or call.command == command)
            ]
        return self.complete(waiting)

    def complete(self, waiting: Sequence[ExternalCall]) -> int:
        """Make these open after-commit calls (again) under their keys; return how many were
        made now. One that fails stays open for a retry or the janitor."""
        return self._redo(waiting).count("completed")

    def _redo(self, waiting: Sequence[ExternalCall]) -> list[str]:
        """Make after-commit calls again under their keys and record the outcomes at once.

        No claim is needed: each is idempotent by its key, so two makers act once.
        """
        adapters = self.adapters
        now = adapters.clock.now()
        made: list[tuple[ExternalCall, ExternalCall, str]] = []
        for call in waiting:
            operation = OPERATIONS.get((call.adapter, call.operation))
            tried = call.tried(at=now)
            try:
                if operation is None or operation.redo is None:
                    raise _unsettleable(call)
                operation.redo(adapters, call)
                made.append((call, tried.succeeded(at=now), "completed"))
            except Exception as error:  # whatever the other system raises: ask again later
                made.append((call, _lost(tried, error, now), "unknown"))
        if not made:
            return []
        outcomes: list[str] = []
        try:
            with adapters.unit_of_work() as uow:
                for original, updated, outcome in made:
                    if uow.calls.find(original.call_id) == original:
                        uow.calls.save(updated.call_id, updated)
                        outcomes.append(outcome)
                    else:
                        outcomes.append("settled")  # settled meanwhile by someone else
                uow.commit()
        except AdapterError:
            return ["unknown"] * len(made)
        return outcomes

    def settle(self, record: ExternalCall, *, refused: str | None = None) -> str:
        """Settle one recorded call as far as possible; return what happened to it.

        ``"settled"`` if it was settled already, ``"completed"`` (an after-commit call made),
        ``"compensated"`` (its effect undone), ``"failed"`` (it never acted) or ``"unknown"``
        (the other system could not tell or undo it now: it stays open). Never raises for what
        the other system or the store answers.
        """
        if refused is None and record.phase is CallPhase.AFTER_COMMIT:
            return self._redo([record])[0] if record.is_unsettled else "settled"
        adapters = self.adapters
        clock = adapters.clock
        try:
            with adapters.unit_of_work() as uow:
                current = uow.calls.find(record.call_id)
                if current is None or not current.is_unsettled:
                    return "settled"
                claimed = current.tried(at=clock.now())
                # Claiming first makes a command still running with this call fail its commit
                # (and compensate) instead of recording a success that is being undone here.
                uow.calls.save(claimed.call_id, claimed)
                uow.commit()
        except AdapterError:
            return "unknown"
        operation = OPERATIONS.get((claimed.adapter, claimed.operation))
        outcome: str
        try:
            if refused is not None:
                updated, outcome = claimed.failed(at=clock.now(), detail=refused), "failed"
            elif (
                operation is not None
                and operation.recorded is not None
                and self._recorded(operation, claimed)
            ):
                updated, outcome = claimed.succeeded(at=clock.now()), "completed"
            else:
                if operation is None or operation.undo is None:
                    raise _unsettleable(claimed)
                if operation.undo(adapters, claimed):
                    detail = f"undone: {_describe(claimed)} did not commit"
                    updated = claimed.compensated(at=clock.now(), detail=detail)
                    outcome = "compensated"
                else:
                    detail = f"never acted: {_describe(claimed)} found nothing to undo"
                    updated, outcome = claimed.failed(at=clock.now(), detail=detail), "failed"
        except Exception as error:  # whatever the other system raises: ask again later
            updated, outcome = _lost(claimed, error, clock.now()), "unknown"
        try:
            with adapters.unit_of_work() as uow:
                if uow.calls.find(claimed.call_id) != claimed:
                    return "unknown"  # someone else settled it meanwhile
                uow.calls.save(updated.call_id, updated)
                uow.commit()
        except AdapterError:
            return "unknown"
        return outcome

    def _recorded(self, operation: Operation, call: ExternalCall) -> bool:
        assert operation.recorded is not None
        with self.adapters.unit_of_work() as uow:
            return operation.recorded(uow, call)

    def record_unfinished(self, records: Iterable[ExternalCall]) -> None:
        """Keep calls a failed command made (or may have made) outside the protocol's own steps,
        as ``unknown``, for its retry or the janitor; never raises."""
        try:
            with self.adapters.unit_of_work() as uow:
                for record in records:
                    if uow.calls.find(record.call_id) is None:
                        uow.calls.add(record.call_id, record)
                uow.commit()
        except AdapterError:
            return


def _describe(call: ExternalCall) -> str:
    """``carrier book SO-1-SH1 (ship_order:k-4)``: a call as messages name it."""
    return f"{call.adapter} {call.operation} {call.idempotency_key} ({call.command})"


def _lost(call: ExternalCall, error: Exception, at: datetime) -> ExternalCall:
    detail = f"{type(error).__name__}: {error}"
    if call.status is CallStatus.UNKNOWN:
        return attrs.evolve(call, detail=detail, updated_at=at)
    return call.lost(at=at, detail=detail)


def _unsettleable(call: ExternalCall) -> AdapterRejected:
    return AdapterRejected(
        _PROTOCOL, f"no way is known to settle {_describe(call)}", "unsettleable_call"
    )
