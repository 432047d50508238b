"""The outbox notifier keeps what it sends, once per notification id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from o2c.adapters.memory import OutboxNotifier
from o2c.ports.errors import AdapterUnavailable, DuplicateRequest
from o2c.ports.notifications import Notification

AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def note(
    notification_id: str, customer: str = "C-1", template: str = "dunning.level_1"
) -> Notification:
    return Notification(notification_id, customer, template, AT, {"invoice": "INV-1"})


def test_keeps_every_notification_in_order() -> None:
    notifier = OutboxNotifier()
    notifier.send(note("N-1"))
    notifier.send(note("N-2", customer="C-2", template="order.line_out_of_stock"))
    notifier.send(note("N-3"))
    assert [n.notification_id for n in notifier.sent] == ["N-1", "N-2", "N-3"]
    assert [n.notification_id for n in notifier.for_customer("C-1")] == ["N-1", "N-3"]
    assert notifier.for_customer("C-9") == ()
    assert [n.notification_id for n in notifier.with_template("order.line_out_of_stock")] == ["N-2"]


def test_send_is_idempotent_by_notification_id() -> None:
    notifier = OutboxNotifier()
    notifier.send(note("N-1"))
    notifier.send(note("N-1"))
    assert len(notifier) == 1
    assert len(notifier.for_customer("C-1")) == 1


def test_same_id_other_content_is_a_duplicate() -> None:
    notifier = OutboxNotifier()
    notifier.send(note("N-1"))
    with pytest.raises(DuplicateRequest) as caught:
        notifier.send(note("N-1", template="dunning.level_2"))
    assert caught.value.adapter == "outbox"
    assert len(notifier) == 1


def test_simulated_failures_are_retryable() -> None:
    notifier = OutboxNotifier()
    notifier.fail_next()
    with pytest.raises(AdapterUnavailable) as caught:
        notifier.send(note("N-1"))
    assert caught.value.retryable
    assert notifier.sent == ()
    notifier.send(note("N-1"))
    assert len(notifier) == 1
