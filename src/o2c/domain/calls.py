"""Calls to other systems as records: what a command asked another system to do, and how it ended.

Before a command asks inventory, a carrier or a gateway to act, it records an
:class:`ExternalCall` in ``pending`` state and commits it on its own, so the intent survives
whatever happens next. The call carries :attr:`ExternalCall.idempotency_key`, fixed when the
intent is recorded, so asking again asks for the same thing. The outcome moves the record along
:data:`EXTERNAL_CALL_LIFECYCLE`:

* ``succeeded`` is recorded in the command's own unit of work, with the command's changes: the
  books and the record agree by construction;
* ``failed`` means the other system did not act (a refusal, or nothing was found there);
* ``unknown`` means it may have acted (a timeout, a lost answer): only asking it tells;
* ``compensated`` means it acted and the act was undone (stock released, booking cancelled).

A record left ``pending`` or ``unknown`` is *unsettled*: the janitor asks the other system how it
ended and completes or compensates the command's effect.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from o2c.domain.errors import InvalidInput
from o2c.domain.lifecycle import Lifecycle

__all__ = [
    "EXTERNAL_CALL_LIFECYCLE",
    "CallPhase",
    "CallStatus",
    "CallTrigger",
    "ExternalCall",
]


class CallStatus(enum.Enum):
    """Where a call to another system stands."""

    PENDING = "pending"
    """Recorded before the call; no outcome known yet."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """The call may have acted (a timeout, a lost answer); ask the other system."""
    COMPENSATED = "compensated"


class CallTrigger(enum.Enum):
    """What moves a call record."""

    SUCCEED = "succeed"
    FAIL = "fail"
    LOSE_ANSWER = "lose_answer"
    COMPENSATE = "compensate"


_P, _S, _F, _U, _C = (
    CallStatus.PENDING,
    CallStatus.SUCCEEDED,
    CallStatus.FAILED,
    CallStatus.UNKNOWN,
    CallStatus.COMPENSATED,
)

EXTERNAL_CALL_LIFECYCLE: Lifecycle[CallStatus, CallTrigger] = Lifecycle.of(
    "external call",
    _P,
    (
        ((_P, _U), CallTrigger.SUCCEED, _S),
        ((_P, _U), CallTrigger.FAIL, _F),
        (_P, CallTrigger.LOSE_ANSWER, _U),
        ((_P, _U), CallTrigger.COMPENSATE, _C),
    ),
)
"""The moves of a call record: an unsettled call succeeds, fails or is compensated."""


class CallPhase(enum.Enum):
    """When the call is made relative to the command's commit."""

    BEFORE_COMMIT = "before_commit"
    """Made inside the command; undone (compensated) if the command does not commit."""
    AFTER_COMMIT = "after_commit"
    """Recorded with the command's changes and made once they are committed; completed by
    asking again, never undone."""


def _read_only(values: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(values))


def _not_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value:
        raise InvalidInput(attribute.name, value, "must not be empty")


@attrs.frozen
class ExternalCall:
    """The intent and outcome of one call to another system.

    ``call_id`` is unique per intent; ``idempotency_key`` is what the other system sees (a
    reservation id, a shipment id, a gateway key) and never changes. ``subject`` is the order
    (or payment) the call serves; ``command`` the command and idempotency key that made it
    (``"ship_order:k-4"``), so whoever settles it can tell whether that command committed.
    ``arguments`` hold what settling needs to repeat or undo the call.
    """

    call_id: str = attrs.field(validator=_not_empty)
    adapter: str = attrs.field(validator=_not_empty)
    """The port called: ``"inventory"``, ``"carrier"``, ``"payment_gateway"``, …"""
    operation: str = attrs.field(validator=_not_empty)
    """The port's operation: ``"reserve"``, ``"book"``, ``"commit"``, ``"release"``, …"""
    idempotency_key: str = attrs.field(validator=_not_empty)
    subject: str = attrs.field(validator=_not_empty)
    command: str = attrs.field(validator=_not_empty)
    created_at: datetime
    updated_at: datetime
    phase: CallPhase = CallPhase.BEFORE_COMMIT
    status: CallStatus = CallStatus.PENDING
    attempts: int = 0
    """How many times the call (or its settlement) was tried."""
    arguments: Mapping[str, str] = attrs.field(factory=dict, converter=_read_only)
    detail: str = ""
    """What the last outcome said (an error message, a settlement note)."""

    @property
    def is_unsettled(self) -> bool:
        """Whether the outcome is still open (``pending`` or ``unknown``)."""
        return self.status in (CallStatus.PENDING, CallStatus.UNKNOWN)

    def tried(self, *, at: datetime) -> ExternalCall:
        """The record after one more attempt was started."""
        return attrs.evolve(self, attempts=self.attempts + 1, updated_at=at)

    def succeeded(self, *, at: datetime, detail: str = "") -> ExternalCall:
        """The record of a call that acted as asked."""
        return self._move(CallTrigger.SUCCEED, at, detail)

    def failed(self, *, at: datetime, detail: str) -> ExternalCall:
        """The record of a call the other system did not act on."""
        return self._move(CallTrigger.FAIL, at, detail)

    def lost(self, *, at: datetime, detail: str) -> ExternalCall:
        """The record of a call whose answer was lost: it may have acted."""
        return self._move(CallTrigger.LOSE_ANSWER, at, detail)

    def compensated(self, *, at: datetime, detail: str) -> ExternalCall:
        """The record of a call whose effect was undone."""
        return self._move(CallTrigger.COMPENSATE, at, detail)

    def _move(self, trigger: CallTrigger, at: datetime, detail: str) -> ExternalCall:
        status = EXTERNAL_CALL_LIFECYCLE.next_state(self.status, trigger, entity_id=self.call_id)
        return attrs.evolve(self, status=status, updated_at=at, detail=detail)
