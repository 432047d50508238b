"""How every command runs: one unit of work, an idempotency key, and effects after commit.

A command body receives a :class:`Work`: the open unit of work, the business date and time, and
lists to collect domain events and notifications into. The runner then

1. turns the events into journal entries (``o2c.domain.posting``) and stores them in the ledger
   outbox of the same unit of work, and the events and notifications themselves in the event and
   notification outboxes (each event under a stable id: the command's key and its position);
2. remembers the command's result under its idempotency key, and commits;
3. after the commit, posts the entries to the ledger (removing them from the outbox once
   posted) and delivers the command's notifications and events (``o2c.services._dispatch``).

Whatever fails after the commit (a notifier, a broker, the process itself) leaves the messages in
their outboxes, to be delivered by the next delivery run (``services.outbox.deliver()``) or by a
retry of the command. A command retried with the same key finds its result remembered: it returns
that result, delivers whatever still waits in the outboxes and changes nothing else. When the same
command runs under the same key in two places at once, the one that loses the race raises the
retryable ``AdapterUnavailable``; its retry returns the winner's result. Anything raised inside
the body rolls the unit of work back, so nothing is half-saved.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TypeVar

import attrs

from o2c import codec
from o2c.domain.events import DomainEvent
from o2c.domain.ledger import JournalEntry
from o2c.domain.posting import PostingRules, journal_entries
from o2c.ports.errors import AdapterError, AdapterUnavailable, DuplicateRequest, PluginError
from o2c.ports.notifications import Notification
from o2c.ports.persistence import UnitOfWork
from o2c.services._dispatch import DeliveryReport, Dispatcher, OutboxRetryPolicy
from o2c.services.context import Adapters, Settings
from o2c.services.errors import IdempotencyKeyReused, MissingIdempotencyKey

__all__ = ["Runtime", "Work"]

R = TypeVar("R")


@attrs.define
class Work:
    """What one command has at hand and what it produced so far."""

    uow: UnitOfWork
    today: date
    now: datetime
    events: list[DomainEvent] = attrs.field(factory=list)
    notifications: list[Notification] = attrs.field(factory=list)
    idempotency_key: str = ""
    """The command's own idempotency key: calls to other systems derive theirs from it."""

    def record(self, events: Iterable[DomainEvent]) -> None:
        """Collect domain events to post and publish after commit."""
        self.events.extend(events)

    def notify(self, notification_id: str, customer_id: str, template: str, **data: str) -> None:
        """Queue a notification, sent after commit under its stable id."""
        self.notifications.append(
            Notification(notification_id, customer_id, template, self.now, data)
        )


class Runtime:
    """Runs commands and queries for the services and dispatches their effects."""

    def __init__(
        self,
        adapters: Adapters,
        settings: Settings,
        retry_policy: OutboxRetryPolicy | None = None,
    ) -> None:
        self.adapters = adapters
        self.settings = settings
        self.rules = PostingRules(settings.chart)
        self.dispatcher = Dispatcher(adapters, retry_policy)

    # -- commands ------------------------------------------------------------------------------

    def execute(
        self,
        command: str,
        idempotency_key: str,
        request: object,
        result_type: type[R],
        body: Callable[[Work], R],
    ) -> R:
        """Run ``body`` as command ``command`` under ``idempotency_key`` (see the module doc)."""
        given: object = idempotency_key  # callers may be untyped
        if not isinstance(given, str) or not given.strip():
            raise MissingIdempotencyKey(command)
        key = f"{command}:{idempotency_key}"
        fingerprint = codec.fingerprint(request)
        clock = self.adapters.clock
        with (
            self._same_command_meanwhile(command, idempotency_key),
            self.adapters.unit_of_work() as uow,
        ):
            remembered = uow.commands.recall(key)
            if remembered is not None:
                envelope = json.loads(remembered)
                if envelope["fingerprint"] != fingerprint:
                    raise IdempotencyKeyReused(idempotency_key, command)
                result: R = codec.from_data(envelope["result"], result_type)
                recalled = True
            else:
                recalled = False
                work = Work(uow, clock.today(), clock.now(), idempotency_key=idempotency_key)
                result = body(work)
                entries = self._entries(work.events)
                for entry in entries:
                    uow.ledger_outbox.save(entry.entry_id, entry)
                event_streams, notice_streams = self.dispatcher.enqueue(
                    uow, key, work.now, work.events, work.notifications
                )
                # Read in this transaction what waits on the command's streams (its own messages
                # and any earlier ones), so delivering after the commit needs no second read.
                waiting = self.dispatcher.waiting(uow, event_streams, notice_streams)
                envelope = {
                    "fingerprint": fingerprint,
                    "result": codec.to_data(result, result_type),
                    # Kept in the stored form of a command's record; delivery reads the outbox.
                    "notifications": [codec.to_data(n, Notification) for n in work.notifications],
                }
                uow.commands.remember(key, json.dumps(envelope, sort_keys=True))
                uow.commit()
        if recalled:
            # The first run may have died after its commit: what it left waiting goes now.
            self._deliver()
            return result
        self._post(entries)
        if waiting[0] or waiting[1]:
            self._deliver(lambda: self.dispatcher.send(*waiting, count_waiting=False))
        return result

    def _deliver(
        self, run: Callable[[], tuple[DeliveryReport, PluginError | None]] | None = None
    ) -> None:
        """Deliver after a commit (``run``, or everything waiting): nothing that fails here undoes
        or fails the command (the messages wait in their outboxes), except a plugin's failure,
        reported as before."""
        if run is None:
            run = lambda: self.dispatcher.deliver(include_waiting=True, count_waiting=False)  # noqa: E731
        try:
            _, plugin_failure = run()
        except AdapterError:
            return  # the store could not record the outcome: the messages are delivered again
        if plugin_failure is not None:
            raise plugin_failure

    def deliver_outbox(
        self, *, include_waiting: bool = False, limit: int | None = None
    ) -> DeliveryReport:
        """Deliver every message waiting in the outboxes (see :class:`Dispatcher`)."""
        report, plugin_failure = self.dispatcher.deliver(
            include_waiting=include_waiting, limit=limit
        )
        if plugin_failure is not None:
            raise plugin_failure
        return report

    @contextmanager
    def _same_command_meanwhile(self, command: str, idempotency_key: str) -> Iterator[None]:
        """Turn a key added meanwhile by the same command, run elsewhere, into a retryable error.

        Two processes running one command under one key at once both find it not run yet; the
        later one then meets what the earlier one added (its receipts, say) as a
        ``DuplicateRequest``. Run again, it recalls the earlier one's result instead.
        """
        try:
            yield
        except DuplicateRequest as error:
            if not self.has_run(command, idempotency_key):
                raise
            raise AdapterUnavailable(
                error.adapter,
                f"command {command} ran meanwhile under the key {idempotency_key!r}; "
                "run it again for its result",
            ) from error

    def has_run(self, command: str, idempotency_key: str) -> bool:
        """Whether command ``command`` already ran under ``idempotency_key``."""
        with self.adapters.unit_of_work() as uow:
            return uow.commands.recall(f"{command}:{idempotency_key}") is not None

    def query(self, body: Callable[[UnitOfWork], R]) -> R:
        """Read through a unit of work that is never committed."""
        with self.adapters.unit_of_work() as uow:
            return body(uow)

    # -- effects -------------------------------------------------------------------------------

    def _entries(self, events: Iterable[DomainEvent]) -> tuple[JournalEntry, ...]:
        # Two events may record one fact (an entry id derives from its source): post it once.
        found: dict[str, JournalEntry] = {}
        for event in events:
            for entry in journal_entries(event, self.rules):
                found.setdefault(entry.entry_id, entry)
        return tuple(found.values())

    def _post(self, entries: tuple[JournalEntry, ...]) -> bool:
        """Post entries and clear them from the outbox; on a ledger failure they wait there."""
        if not entries:
            return True
        try:
            self.adapters.ledger.post_batch(entries)
        except AdapterError:
            return False
        with self.adapters.unit_of_work() as uow:
            for entry in entries:
                uow.ledger_outbox.remove(entry.entry_id)
            uow.commit()
        return True

    def flush_ledger_outbox(self) -> int:
        """Post every entry still waiting in the outbox; returns how many were posted now.

        Ledger failures propagate here (the caller asked for the posting), and the entries stay.
        """
        with self.adapters.unit_of_work() as uow:
            waiting = tuple(uow.ledger_outbox.values())
        if not waiting:
            return 0
        self.adapters.ledger.post_batch(waiting)
        with self.adapters.unit_of_work() as uow:
            for entry in waiting:
                uow.ledger_outbox.remove(entry.entry_id)
            uow.commit()
        return len(waiting)
