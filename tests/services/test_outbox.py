"""The outboxes: events and notifications stored with their command and delivered after it, at
least once, in commit order per stream, whatever fails after the commit.

Regression tests of issue 10: break 9 (events published only from memory after the commit: a
failure after the commit lost them, and the retry published nothing) and break 10 (a notifier
error swallowed: the dunning notice counted as sent, never delivered, never retried).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import attrs
import pytest
from services_world import PARCEL, World, build_world, widget_line

import o2c
from o2c.adapters.memory import MemoryLedger
from o2c.domain.events import DomainEvent
from o2c.domain.ledger import JournalEntry
from o2c.domain.orders import OrderPlaced
from o2c.ports.ledger import PostingResult
from o2c.services import Services


class _LedgerThatDies:
    """A ledger whose next batch ends the process (an error no adapter would raise)."""

    def __init__(self, inner: MemoryLedger) -> None:
        self.inner = inner
        self.name = inner.name
        self.dies = 0

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        if self.dies:
            self.dies -= 1
            raise RuntimeError("the process died after the commit")
        return self.inner.post_batch(entries)

    def balance(self, account: str, currency: str, party: str | None = None) -> object:
        return self.inner.balance(account, currency, party)

    def trial_balance(self) -> object:
        return self.inner.trial_balance()


class _Listener:
    """An in-process subscriber that fails its first ``failures`` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.heard: list[DomainEvent] = []

    def __call__(self, events: Sequence[DomainEvent]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("subscriber unreachable")
        self.heard.extend(events)


def _listening(world: World, listener: _Listener) -> None:
    world.services = Services(
        attrs.evolve(world.services.adapters, publish=listener), world.services.settings
    )


def _order_events(events: Sequence[DomainEvent]) -> list[DomainEvent]:
    from o2c.services.outbox import event_stream  # noqa: PLC0415 - new here: main lacks it

    return [e for e in events if event_stream(e) == "order:SO-1"]


def _names(events: Sequence[DomainEvent]) -> list[str]:
    return [type(event).__name__ for event in events]


# --- break 9: events survive whatever fails after the commit --------------------------------------


def _dying_world() -> tuple[World, _LedgerThatDies]:
    dying: list[_LedgerThatDies] = []

    def wrap(inner: MemoryLedger) -> _LedgerThatDies:
        dying.append(_LedgerThatDies(inner))
        return dying[0]

    world = build_world(ledger=wrap)  # type: ignore[arg-type]
    world.customer()
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="place")
    world.services.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    return world, dying[0]


def test_events_of_a_command_that_failed_after_its_commit_are_published_by_its_retry() -> None:
    world, ledger = _dying_world()
    heard_before = len(world.published)
    ledger.dies = 1
    with pytest.raises(RuntimeError, match="died"):
        world.services.billing.invoice_order("SO-1", idempotency_key="invoice")
    assert len(world.published) == heard_before  # committed, but nothing went out yet

    world.services.billing.invoice_order("SO-1", idempotency_key="invoice")

    assert "InvoiceIssued" in _names(world.published[heard_before:])
    assert world.services.outbox.backlog().count == 0


def test_a_new_process_delivers_what_a_dead_one_committed() -> None:
    world, ledger = _dying_world()
    ledger.dies = 1
    with pytest.raises(RuntimeError):
        world.services.billing.invoice_order("SO-1", idempotency_key="invoice")
    waiting = world.services.outbox.backlog()
    assert waiting.events.count > 0
    assert waiting.events.oldest_at == world.clock.now()

    listener = _Listener()
    restarted = Services(  # the same store, as a process started afresh would build it
        attrs.evolve(world.services.adapters, publish=listener), world.services.settings
    )
    report = restarted.outbox.deliver()

    assert "InvoiceIssued" in _names(listener.heard)
    assert len(report.events_delivered) == waiting.events.count
    assert restarted.outbox.backlog().count == 0
    assert restarted.outbox.deliver().events_delivered == ()  # delivered once, then gone


def test_a_subscriber_that_fails_gets_the_events_later_in_commit_order_per_stream() -> None:
    world = build_world()
    world.customer()
    listener = _Listener(failures=1)
    _listening(world, listener)
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="place")
    assert listener.heard == []
    failing = s.outbox.backlog().events
    assert (failing.count, failing.failing) == (failing.count, failing.count)
    # The next command on the same order must not overtake the events still waiting.
    s.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    assert _order_events(listener.heard) == []

    world.clock.advance(minutes=1)  # past the backoff
    report = s.outbox.deliver()

    assert report.failed == ()
    order_events = _order_events(listener.heard)
    names = _names(order_events)
    assert names.index("OrderPlaced") < names.index("LineFulfilled")
    assert len(report.events_delivered) == len(set(report.events_delivered))
    assert all(
        i.startswith(("place_order:place#", "ship_order:ship#")) for i in report.events_delivered
    )
    assert s.outbox.backlog().count == 0


def test_a_failed_delivery_waits_for_its_backoff_unless_asked_now() -> None:
    world = build_world()
    world.customer()
    listener = _Listener(failures=2)
    _listening(world, listener)
    s = world.services
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="place")  # failure 1
    assert s.outbox.deliver().events_delivered == ()  # in its backoff: not tried
    world.clock.advance(seconds=1)
    assert s.outbox.deliver().failed  # failure 2: the wait doubles
    world.clock.advance(seconds=1)
    assert s.outbox.deliver().events_delivered == ()
    assert s.outbox.backlog().events.count > 0
    assert s.outbox.deliver(include_waiting=True).events_delivered
    assert "OrderPlaced" in _names(listener.heard)


def test_the_retry_policy_doubles_up_to_its_maximum() -> None:
    from o2c.services.outbox import OutboxRetryPolicy  # noqa: PLC0415 - main lacks it

    policy = OutboxRetryPolicy(timedelta(seconds=2), timedelta(seconds=30))
    assert [policy.delay(n).seconds for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]
    assert policy.delay(10_000) == timedelta(seconds=30)


def test_event_ids_are_stable_and_name_the_command() -> None:
    world = build_world()
    world.customer()
    listener = _Listener(failures=1)
    _listening(world, listener)
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="place")
    with world.store.unit_of_work() as uow:
        first = uow.event_outbox.waiting()
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="place")
    assert world.services.outbox.backlog().count == 0
    assert [m.message_id for m in first] == [
        f"place_order:place#{n}" for n in range(1, len(first) + 1)
    ]
    placed = next(m for m in first if isinstance(m.value, OrderPlaced))
    assert placed.stream == "order:SO-1"


def test_a_plugin_that_dies_mid_delivery_hears_the_events_from_the_next_process(
    tmp_path: Path,
) -> None:
    """On a SQLite book: the process ends (an exception no handler catches) while plugins hear
    the events; a process started afresh on the same file delivers them again."""

    class Dies:
        @o2c.hookimpl
        def o2c_domain_event(self, event: DomainEvent) -> None:
            raise SystemExit("killed")

    class Journal:
        def __init__(self) -> None:
            self.heard: list[str] = []

        @o2c.hookimpl
        def o2c_domain_event(self, event: DomainEvent) -> None:
            self.heard.append(type(event).__name__)

    config = {
        "adapters": {
            "persistence": {"use": "sql", "options": {"url": str(tmp_path / "books.db")}},
            "clock": {"use": "fixed", "options": {"at": "2026-03-02T09:00:00+00:00"}},
        },
        "plugins": {"entry_points": False},
    }
    first = o2c.bootstrap(config, plugins={"dies": Dies()})
    first.services.customers.register_customer(
        o2c.Customer("C-1", "Acme", "EUR"), idempotency_key="c-1"
    )
    with pytest.raises(SystemExit):
        first.services.customers.approve_credit(
            "C-1",
            o2c.money("5000", "EUR"),
            date(2027, 3, 1),
            reviewer="ana",
            reason="references",
            idempotency_key="credit-C-1",
        )

    journal = Journal()
    second = o2c.bootstrap(config, plugins={"journal": journal})
    assert second.services.outbox.backlog().events.count > 0
    second.services.outbox.deliver()
    assert journal.heard == ["CreditApplied", "CreditReviewStarted", "CreditApproved"]
    assert second.services.outbox.backlog().count == 0


# --- break 10: a notice that could not be sent waits, and is sent later ---------------------------


def _overdue(world: World) -> None:
    s = world.services
    world.customer()
    s.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key="place")
    s.orders.ship_order("SO-1", PARCEL, idempotency_key="ship")
    s.billing.invoice_order("SO-1", idempotency_key="invoice")
    world.clock.advance(days=40)


def test_a_dunning_notice_the_notifier_refused_waits_and_a_delivery_run_sends_it() -> None:
    world = build_world()
    _overdue(world)
    world.notifier.fail_next()
    summary = world.services.dunning.run_dunning(idempotency_key="dun")
    assert summary.notices
    assert world.sent("dunning.first") == []
    waiting = world.services.outbox.backlog().notifications
    assert (waiting.count, waiting.failing, waiting.oldest_id) == (1, 1, summary.notices[0])
    with world.store.unit_of_work() as uow:
        notice = uow.notification_outbox.find(summary.notices[0])
    assert notice is not None
    assert "AdapterUnavailable" in notice.last_error

    world.clock.advance(minutes=1)
    report = world.services.outbox.deliver()

    assert report.notifications_delivered == summary.notices
    assert world.sent("dunning.first") == ["C-1"]
    assert world.services.outbox.backlog().count == 0


def test_a_notice_waits_while_the_notifier_stays_down() -> None:
    world = build_world()
    _overdue(world)
    world.notifier.fail_next(times=3)
    world.services.dunning.run_dunning(idempotency_key="dun")
    for _ in range(2):
        world.clock.advance(minutes=30)
        report = world.services.outbox.deliver()
        assert report.failed
        assert report.waiting == 1
    assert world.sent("dunning.first") == []
    world.clock.advance(minutes=30)
    assert world.services.outbox.deliver().notifications_delivered
    assert world.sent("dunning.first") == ["C-1"]


# --- the relay, configured -----------------------------------------------------------------------


def test_a_configured_relay_gets_every_event_once_and_in_order() -> None:
    from o2c.adapters.memory import MemoryRelay  # noqa: PLC0415 - new here: main lacks it

    journal: list[DomainEvent] = []

    class Journal:
        @o2c.hookimpl
        def o2c_domain_event(self, event: DomainEvent) -> None:
            journal.append(event)

    config = {
        "adapters": {
            "clock": {"use": "fixed", "options": {"at": "2026-03-02T09:00:00+00:00"}},
            "relay": "memory",
        },
        "plugins": {"entry_points": False},
    }
    app = o2c.bootstrap(config, plugins={"journal": Journal()})
    relay = app.adapters.relay
    assert isinstance(relay, MemoryRelay)
    assert app.chosen["relay"] == "memory"
    s = app.services
    s.customers.register_customer(o2c.Customer("C-1", "Acme", "EUR"), idempotency_key="c")
    relay.fail_next()  # the broker is down for the credit approval
    s.customers.approve_credit(
        "C-1",
        o2c.money("100", "EUR"),
        date(2027, 3, 1),
        reviewer="ana",
        reason="known",
        idempotency_key="credit",
    )
    assert relay.published == ()
    assert journal == []  # nothing overtakes the events waiting for the broker

    report = s.outbox.deliver(include_waiting=True)

    assert [e.event for e in relay.published] == journal
    assert (
        relay.event_ids()
        == report.events_delivered
        == tuple(f"approve_credit:credit#{n}" for n in (1, 2, 3))
    )
    assert {e.stream for e in relay.published} == {"customer:C-1"}


def test_an_unknown_relay_option_is_a_configuration_error() -> None:
    config = {"adapters": {"relay": {"use": "memory", "options": {"url": "x"}}}}
    with pytest.raises(o2c.ConfigError, match=r"adapters\.relay\.options"):
        o2c.bootstrap(config, load_entry_points=False)


def test_without_the_broker_extra_choosing_rabbitmq_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "o2c.adapters.rabbitmq", raising=False)
    monkeypatch.setitem(sys.modules, "pika", None)
    with pytest.raises(o2c.ConfigError, match=r"pip install 'o2c\[broker\]'"):
        o2c.bootstrap({"adapters": {"relay": "rabbitmq"}}, load_entry_points=False)
