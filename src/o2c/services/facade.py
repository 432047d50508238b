"""The one object applications hold: every use case of the cycle, grouped by area."""

from __future__ import annotations

from o2c.services._runtime import Runtime
from o2c.services.billing import BillingService
from o2c.services.calls import CallProtocol
from o2c.services.cards import CardService
from o2c.services.cash import CashService
from o2c.services.context import Adapters, Settings
from o2c.services.customers import CustomerService
from o2c.services.dunning import DunningService
from o2c.services.janitor import JanitorService
from o2c.services.ledger import LedgerService
from o2c.services.orders import OrderService
from o2c.services.outbox import OutboxService
from o2c.services.queue import ExceptionQueueService
from o2c.services.reports import ReportService
from o2c.services.statements import StatementService

__all__ = ["Services"]


class Services:
    """The application services over one set of adapters and settings.

    ``customers``, ``orders``, ``billing``, ``cards``, ``cash``, ``queue`` (the exception queue),
    ``statements``, ``dunning``, ``ledger`` and ``reports`` hold the use cases; every command takes
    an ``idempotency_key`` and runs in one unit of work. ``janitor`` settles calls to other systems
    that a failure left open; ``outbox`` shows and delivers the events and notifications waiting
    after their commands.
    """

    def __init__(self, adapters: Adapters, settings: Settings | None = None) -> None:
        self.adapters = adapters
        self.settings = settings if settings is not None else Settings()
        self._runtime = Runtime(adapters, self.settings)
        self._calls = CallProtocol(self._runtime)
        self.customers = CustomerService(self._runtime)
        self.orders = OrderService(self._runtime, self._calls)
        self.billing = BillingService(self._runtime)
        self.cards = CardService(self._runtime, self._calls)
        self.cash = CashService(self._runtime)
        self.queue = ExceptionQueueService(self._runtime)
        self.dunning = DunningService(self._runtime)
        self.reports = ReportService(self._runtime)
        self.statements = StatementService(self._runtime)
        self.ledger = LedgerService(self._runtime)
        self.outbox = OutboxService(self._runtime)
        self.janitor = JanitorService(
            self._runtime, self._calls, self.cards, deliver=self._deliver_outbox
        )

    def _deliver_outbox(self) -> int:
        # The janitor's delivery hook: one janitor run also delivers the events and notices
        # still waiting (those past their backoff), so one scheduled command settles everything.
        report = self.outbox.deliver()
        return len(report.events_delivered) + len(report.notifications_delivered)

    def flush_ledger_outbox(self) -> int:
        """Post the journal entries still waiting in the outbox (after a ledger outage).

        Returns how many entries were sent; a ledger that is still down raises its adapter error
        and the entries keep waiting.
        """
        return self._runtime.flush_ledger_outbox()
