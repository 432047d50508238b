"""A plugin that fails on an event gets it again; one janitor run also delivers the outboxes.

Regression tests of issue 10 (break 9, as the fault matrix found it with the outbox in place): a
plugin that raised on an event had the event counted as delivered, so it never handled it, and a
retry of the command or a delivery run did not hand it over again.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import o2c
from o2c.domain.events import DomainEvent
from o2c.plugins import EventDeliveryFailed

CONFIG = {
    "adapters": {"clock": {"use": "fixed", "options": {"at": "2026-03-02T09:00:00+00:00"}}},
    "plugins": {"entry_points": False},
}


class Flaky:
    """A plugin that fails on the first ``failures`` events of type ``kind`` it is handed."""

    def __init__(self, kind: str, failures: int = 1) -> None:
        self.kind = kind
        self.failures = failures
        self.heard: list[str] = []

    @o2c.hookimpl
    def o2c_domain_event(self, event: DomainEvent) -> None:
        name = type(event).__name__
        if name == self.kind and self.failures:
            self.failures -= 1
            raise RuntimeError(f"cannot handle {name} now")
        self.heard.append(name)


class Journal:
    def __init__(self) -> None:
        self.heard: list[str] = []

    @o2c.hookimpl
    def o2c_domain_event(self, event: DomainEvent) -> None:
        self.heard.append(type(event).__name__)


def _approve(app: o2c.App) -> None:
    app.services.customers.approve_credit(
        "C-1",
        o2c.money("5000", "EUR"),
        date(2027, 3, 1),
        reviewer="ana",
        reason="references",
        idempotency_key="credit",
    )


def _app(**plugins: object) -> o2c.App:
    app = o2c.bootstrap(CONFIG, plugins=plugins)
    app.services.customers.register_customer(
        o2c.Customer("C-1", "Acme", "EUR"), idempotency_key="c-1"
    )
    return app


def test_an_event_a_plugin_failed_on_is_handed_again_by_the_commands_retry() -> None:
    flaky = Flaky("CreditReviewStarted")
    app = _app(flaky=flaky)
    with pytest.raises(EventDeliveryFailed):
        _approve(app)
    assert flaky.heard == ["CreditApplied"]  # the rest of the customer's stream waits behind it
    assert app.services.outbox.backlog().events.count == 2

    _approve(app)  # the retry recalls the result and delivers what waits

    assert flaky.heard == ["CreditApplied", "CreditReviewStarted", "CreditApproved"]
    assert app.services.outbox.backlog().count == 0


def test_every_plugin_hears_the_event_again_at_least_once_in_order() -> None:
    flaky, journal = Flaky("CreditReviewStarted"), Journal()
    app = _app(flaky=flaky, journal=journal)
    with pytest.raises(EventDeliveryFailed):
        _approve(app)
    app.adapters.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    app.services.outbox.deliver()
    assert journal.heard == [
        "CreditApplied",
        "CreditReviewStarted",  # heard, but the other plugin failed on it: handed again
        "CreditReviewStarted",
        "CreditApproved",
    ]
    assert flaky.heard == ["CreditApplied", "CreditReviewStarted", "CreditApproved"]


def test_one_janitor_run_also_delivers_what_waits_in_the_outboxes() -> None:
    flaky = Flaky("CreditReviewStarted")
    app = _app(flaky=flaky)
    with pytest.raises(EventDeliveryFailed):
        _approve(app)
    assert app.services.janitor.run().notices_delivered == 0  # still in its backoff

    app.adapters.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    report = app.services.janitor.run()

    assert report.notices_delivered == 2
    assert flaky.heard == ["CreditApplied", "CreditReviewStarted", "CreditApproved"]
    assert app.services.outbox.backlog().count == 0


def test_a_plugin_failing_during_a_janitor_run_leaves_the_event_waiting() -> None:
    flaky = Flaky("CreditReviewStarted", failures=2)
    app = _app(flaky=flaky)
    with pytest.raises(EventDeliveryFailed):
        _approve(app)
    app.adapters.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    assert app.services.janitor.run().notices_delivered == 0  # failed again: not raised here
    assert app.services.outbox.backlog().events.failing == 1
