"""The notifier contract: what every :class:`~o2c.ports.notifications.Notifier` must do.

Subclass :class:`NotifierContract` and override ``make_notifier``. If the tests can see what the
notifier delivered (a sandbox mailbox, an outbox table), declare ``observable`` and override
``delivered`` so that deliveries are counted, not just accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import attrs
import pytest

from o2c.ports.notifications import Notification, Notifier
from o2c.testing._kit import Contract, override_me, requires

__all__ = ["NotifierCapabilities", "NotifierContract", "NotifierFactory"]

NotifierFactory = Callable[[], Notifier]
"""Builds a fresh notifier."""

Deliveries = Callable[[Notifier], Sequence[Notification]]
"""Reads back what a notifier delivered."""


@attrs.frozen
class NotifierCapabilities:
    """What a notifier declares about itself."""

    observable: bool = False
    """The tests can read back what was delivered: ``delivered`` must then be overridden."""


def notification(
    number: int, customer: str = "C-1", template: str = "dunning.level_1"
) -> Notification:
    """A notification with id ``N-<number>``."""
    return Notification(
        f"N-{number}",
        customer,
        template,
        datetime(2026, 3, 2, 9, number % 60, tzinfo=UTC),
        {"invoice": f"INV-{number}", "amount": "119.00 EUR"},
    )


class NotifierContract(Contract):
    """Delivery once per notification id, however often it is sent.

    Fixtures to override: ``make_notifier`` (required), ``capabilities`` and ``delivered``.
    """

    @pytest.fixture
    def make_notifier(self) -> NotifierFactory:
        """Override: return a callable that builds a fresh notifier."""
        override_me("make_notifier", "notifier", "lambda: MyMailer(sandbox=True)")

    @pytest.fixture
    def capabilities(self) -> NotifierCapabilities:
        """Override to declare that deliveries can be read back."""
        return NotifierCapabilities()

    @pytest.fixture
    def delivered(self) -> Deliveries:
        """Override for an observable notifier: what it delivered, in any order."""
        override_me("delivered", "notifier", "lambda notifier: notifier.mailbox()")

    @pytest.fixture
    def notifier(self, make_notifier: NotifierFactory) -> Notifier:
        return make_notifier()

    def test_sending_accepts_a_notification(self, notifier: Notifier) -> None:
        notifier.send(notification(1))
        notifier.send(notification(2, customer="C-2", template="order.line_out_of_stock"))

    def test_sending_the_same_notification_again_is_accepted(self, notifier: Notifier) -> None:
        notifier.send(notification(1))
        notifier.send(notification(1))

    @requires("observable")
    def test_a_notification_sent_twice_is_delivered_once(
        self, notifier: Notifier, delivered: Deliveries
    ) -> None:
        notifier.send(notification(1))
        notifier.send(notification(1))
        notifier.send(notification(2))
        notifier.send(notification(1))
        ids = sorted(n.notification_id for n in delivered(notifier))
        assert ids == ["N-1", "N-2"]

    @requires("observable")
    def test_what_is_delivered_is_what_was_sent(
        self, notifier: Notifier, delivered: Deliveries
    ) -> None:
        sent = notification(7, customer="C-9", template="credit.hold")
        notifier.send(sent)
        (received,) = delivered(notifier)
        assert received == sent
