"""``o2c simulate``: a synthetic business run day by day through the real application services.

Every customer has a payment habit (early, on time, late or never), a credit limit and a way of
paying (card or bank transfer). On each business day some customers order; approved orders are
shipped and invoiced the next business day; over-limit orders wait a day for a reviewer. Card
payers are charged when invoiced; transfers arrive when the customer's habit says, in daily bank
statements that cash application matches (some with sloppy references). A few invoices are
disputed and settled with a credit note; dunning runs every Monday and puts late payers on
hold; invoices of customers who never pay are written off 35 days past due.

All chance lives here, in one ``random.Random(seed)``: the domain and the services never draw
random numbers, and the clock is a fixed one moved a day at a time, so a seed always gives the
same business and the same figures.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import attrs
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

import o2c
from o2c.cli import render
from o2c.domain.customers import Address, Customer
from o2c.domain.money import Money, Rounding, money, percent_of, total, unit_price, zero
from o2c.domain.orders import OrderLine, OrderStatus
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.reporting import AgingReport, Backtest, Period
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.ports.carriers import Parcel
from o2c.services import Services
from o2c.services.errors import GatewayDeclined

__all__ = ["HABITS", "Simulation", "SimulationOutcome"]

START = date(2026, 1, 5)
"""The first simulated day (a Monday)."""
CURRENCY = "EUR"
HABITS = ("early", "on_time", "late", "never")
"""How customers pay: within the discount window, around the due date, weeks late, never."""
_HABIT_WEIGHTS = (30, 42, 20, 8)
_ORDER_CHANCE = 0.05
_DISPUTE_CHANCE = 0.04
_CARD_CHANCE = 0.2
_SLOPPY_REFERENCE_CHANCE = 0.15
_UNIDENTIFIED_EVERY = 40
"""Every so many bank receipts come from an account nobody registered and name nothing: they
wait in the exception queue for a person."""
_WRITE_OFF_AFTER_DAYS = 35
_VAT = TaxCategory.standard("19")
_CATALOGUE = (
    ("DESK-OAK", "Oak desk", "489.00", Decimal(28)),
    ("CHAIR-ERGO", "Ergonomic chair", "229.00", Decimal(14)),
    ("LAMP-LED", "LED desk lamp", "39.90", Decimal("2.5")),
    ("SHELF-WAL", "Walnut shelf", "159.00", Decimal(18)),
    ("MAT-FELT", "Felt desk mat", "24.50", Decimal("0.8")),
)
_LIMITS = ("5000", "10000", "20000", "50000")


def _config(db: str | None = None) -> dict[str, object]:
    stored: dict[str, object] = (
        {"persistence": {"use": "sql", "options": {"url": db}}, "ledger": "sql"} if db else {}
    )
    return {
        "adapters": {
            **stored,
            "clock": {
                "use": "fixed",
                "options": {"at": datetime.combine(START, time(8, 0), tzinfo=UTC)},
            },
            "inventory": {
                "use": "memory",
                "options": {"stock": {product: 1_000_000 for product, *_ in _CATALOGUE}},
            },
        },
        "plugins": {"entry_points": False},
        "settings": {
            "dunning": {
                "levels": [
                    {"number": 1, "days": 7, "template": "dunning.reminder"},
                    {
                        "number": 2,
                        "days": 21,
                        "template": "dunning.second_notice",
                        "fee": ["10.00 EUR"],
                        "interest_percent": Decimal(8),
                        "actions": ["credit_hold"],
                    },
                    {
                        "number": 3,
                        "days": 28,
                        "template": "dunning.final_notice",
                        "fee": ["25.00 EUR"],
                        "actions": ["final_notice"],
                    },
                ]
            },
        },
    }


@attrs.define
class _Account:
    """A simulated customer and how it behaves."""

    customer: Customer
    habit: str
    card: bool


@attrs.define
class _Invoice:
    number: str
    customer_id: str
    gross: Money
    issued: date
    due: date
    credited: Money


@attrs.frozen
class SimulationOutcome:
    """What a run produced: counts of what happened, the measures and the closing aging."""

    seed: int
    customers: int
    days: int
    period: Period
    habits: dict[str, int]
    counts: dict[str, int]
    invoiced: Money
    collected: Money
    discounts: Money
    written_off: Money
    open_total: Money
    dso: Decimal | None
    cei: Decimal | None
    aging: AgingReport
    ledger_balanced: bool

    def record(self) -> dict[str, Any]:
        """The outcome as a JSON-ready record (amounts as exact decimal strings)."""
        totals = self.aging.total_row(CURRENCY)
        return {
            "seed": self.seed,
            "customers": self.customers,
            "days": self.days,
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "habits": self.habits,
            "counts": self.counts,
            "invoiced": render.money_record(self.invoiced),
            "collected": render.money_record(self.collected),
            "discounts": render.money_record(self.discounts),
            "written_off": render.money_record(self.written_off),
            "open": render.money_record(self.open_total),
            "dso_days": None if self.dso is None else f"{self.dso:f}",
            "cei_percent": None if self.cei is None else f"{self.cei:f}",
            "aging": {
                "as_of": self.aging.as_of.isoformat(),
                "buckets": {
                    label: render.plain(amount)
                    for label, amount in zip(self.aging.labels, totals.amounts, strict=True)
                },
                "total": render.plain(totals.total),
            },
            "ledger_balanced": self.ledger_balanced,
        }

    def print(self, console: Console) -> None:
        """The outcome as tables."""
        start, end = self.period.start.isoformat(), self.period.end.isoformat()
        console.print(
            f"[bold]{self.customers} customers, {self.days} days[/bold] ({start} to {end}), "
            f"seed {self.seed}"
        )
        habits = render.table("Customers by habit", "habit", "customers", right=(1,))
        for habit in HABITS:
            habits.add_row(habit.replace("_", " "), str(self.habits.get(habit, 0)))
        console.print(habits)
        counts = render.table("What happened", "event", "count", right=(1,))
        for name, count in self.counts.items():
            counts.add_row(name.replace("_", " "), str(count))
        console.print(counts)
        money_grid = render.table("Money", "measure", "value", right=(1,))
        for label, value in (
            ("invoiced", self.invoiced),
            ("collected", self.collected),
            ("discounts taken", self.discounts),
            ("written off", self.written_off),
            ("still open", self.open_total),
        ):
            money_grid.add_row(label, render.amount_text(value))
        money_grid.add_row("DSO", "n/a" if self.dso is None else f"{self.dso:f} days")
        money_grid.add_row("CEI", "n/a" if self.cei is None else f"{self.cei:f} %")
        money_grid.add_row("ledger balanced", "yes" if self.ledger_balanced else "NO")
        console.print(money_grid)
        totals = self.aging.total_row(CURRENCY)
        aging = render.table(
            f"Aging as of {self.aging.as_of.isoformat()} ({CURRENCY})",
            *self.aging.labels,
            "total",
            right=tuple(range(len(self.aging.labels) + 1)),
        )
        aging.add_row(*(f"{a.amount:,.2f}" for a in totals.amounts), f"{totals.total.amount:,.2f}")
        console.print(aging)


class Simulation:
    """A synthetic business over ``days`` days with ``customers`` customers, driven by ``seed``.

    With ``db`` (a database URL or a SQLite path) the books are kept there instead of in memory.
    """

    def __init__(self, *, customers: int, days: int, seed: int, db: str | None = None) -> None:
        self.customers = customers
        self.days = days
        self.seed = seed
        self._rng = random.Random(seed)
        self._app = o2c.bootstrap(_config(db))
        self._services: Services = self._app.services
        self._keys = 0
        self._counts: Counter[str] = Counter()
        self._habits: Counter[str] = Counter()
        self._order_accounts: dict[str, _Account] = {}
        self._accounts: list[_Account] = []
        self._invoices: dict[str, _Invoice] = {}
        # business day -> what is planned for it
        self._ship: dict[date, list[str]] = {}
        self._review: dict[date, list[str]] = {}
        self._payments: dict[date, list[tuple[str, Money]]] = {}
        self._disputes: dict[date, list[str]] = {}
        self._resolutions: dict[date, list[str]] = {}
        self._write_offs: dict[date, list[str]] = {}
        self._held: list[str] = []
        self._orders = 0
        self._receipts = 0
        self._collected: list[Money] = []
        self._discounts: list[Money] = []
        self._written_off: list[Money] = []

    # -- running -------------------------------------------------------------------------------

    def run(self, console: Console | None = None) -> SimulationOutcome:
        """Run every day; with a terminal ``console``, show a progress bar while it runs. The
        books' database connections are released at the end."""
        try:
            self._register()
            if console is None or not console.is_terminal:
                for day in self._calendar():
                    self._day(day)
            else:
                columns = (
                    TextColumn("{task.description}"),
                    BarColumn(),
                    TextColumn("{task.completed}/{task.total} days"),
                    TimeRemainingColumn(),
                )
                with Progress(*columns, console=console, transient=True) as progress:
                    task = progress.add_task("simulating", total=self.days)
                    for day in self._calendar():
                        progress.update(task, description=f"simulating {day.isoformat()}")
                        self._day(day)
                        progress.advance(task)
            return self._outcome()
        finally:
            self._app.close()

    @property
    def services(self) -> Services:
        """The application services the business runs through (its books, after :meth:`run`)."""
        return self._services

    def backtest(self) -> Backtest | None:
        """Judge the payment predictions made two thirds into the run (call after :meth:`run`)."""
        cutoff = START + timedelta(days=self.days * 2 // 3)
        return self._services.reports.backtest(cutoff)

    def _calendar(self) -> Iterator[date]:
        clock = self._app.adapters.clock
        advance = getattr(clock, "advance", None)
        assert advance is not None  # the simulation configures a fixed clock
        for offset in range(self.days):
            if offset:
                advance(days=1)
            yield START + timedelta(days=offset)

    def _key(self) -> str:
        self._keys += 1
        return f"sim-{self._keys}"

    def _register(self) -> None:
        for number in range(1, self.customers + 1):
            habit = self._rng.choices(HABITS, weights=_HABIT_WEIGHTS)[0]
            terms = "2/10 NET 30" if habit == "early" or self._rng.random() < 0.4 else "NET 30"
            customer = Customer(
                f"C{number:04d}",
                f"Customer {number}",
                CURRENCY,
                PaymentTerms.parse(terms),
                email=f"ap{number}@example.com",
                address=Address(f"Street {number}", "Berlin", "10115", "DE"),
                payer_accounts=frozenset({f"DE00SIM{number:010d}"}),
            )
            card = self._rng.random() < _CARD_CHANCE
            self._accounts.append(_Account(customer, habit, card))
            self._habits[habit] += 1
            self._services.customers.register_customer(customer, idempotency_key=self._key())
            self._services.customers.approve_credit(
                customer.customer_id,
                money(self._rng.choice(_LIMITS), CURRENCY),
                START + timedelta(days=365),
                reviewer="credit desk",
                reason="simulated onboarding",
                idempotency_key=self._key(),
            )

    def _day(self, day: date) -> None:
        if day.weekday() >= 5:
            return
        self._resolve_disputes(day)
        self._receive_payments(day)
        self._write_off(day)
        if day.weekday() == 0:
            self._dun()
            self._recheck_held(day)
        self._reviews(day)
        self._shipments(day)
        self._new_orders(day)
        self._open_disputes(day)

    @staticmethod
    def _business_day(day: date) -> date:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day

    def _plan(self, plan: dict[date, list[Any]], day: date, what: Any) -> None:
        plan.setdefault(self._business_day(day), []).append(what)

    # -- orders --------------------------------------------------------------------------------

    def _new_orders(self, day: date) -> None:
        for account in self._accounts:
            if self._rng.random() >= _ORDER_CHANCE:
                continue
            self._orders += 1
            order_id = f"SO-{self._orders:06d}"
            picks = self._rng.sample(_CATALOGUE, self._rng.randint(1, 3))
            lines = [
                OrderLine(
                    str(index),
                    product,
                    name,
                    self._rng.randint(1, 12),
                    unit_price(price, CURRENCY),
                    _VAT,
                )
                for index, (product, name, price, _) in enumerate(picks, start=1)
            ]
            customer_id = account.customer.customer_id
            self._order_accounts[order_id] = account
            placed = self._services.orders.place_order(
                order_id, customer_id, lines, idempotency_key=self._key()
            )
            self._counts["orders_placed"] += 1
            if placed.status is OrderStatus.APPROVED:
                self._plan(self._ship, day + timedelta(days=1), order_id)
            elif placed.status is OrderStatus.CREDIT_REVIEW:
                self._counts["orders_sent_to_review"] += 1
                self._plan(self._review, day + timedelta(days=1), order_id)
            elif placed.status is OrderStatus.CREDIT_HOLD:
                self._counts["orders_held"] += 1
                self._held.append(order_id)
            else:
                self._counts["orders_refused"] += 1

    def _authorise(self, order_id: str) -> bool:
        token = "tok_decline" if self._rng.random() < 0.05 else "tok_approve"
        try:
            self._services.cards.authorise(order_id, token, idempotency_key=self._key())
        except GatewayDeclined:
            self._counts["cards_declined"] += 1
            self._services.orders.cancel_order(
                order_id, reason="card declined", idempotency_key=self._key()
            )
            return False
        return True

    def _reviews(self, day: date) -> None:
        for order_id in self._review.pop(day, []):
            if self._rng.random() < 0.8:
                self._services.orders.approve_order(order_id, idempotency_key=self._key())
                self._counts["orders_approved_on_review"] += 1
                self._plan(self._ship, day + timedelta(days=1), order_id)
            else:
                self._services.orders.reject_order(
                    order_id, reason="over the credit limit", idempotency_key=self._key()
                )
                self._counts["orders_rejected_on_review"] += 1

    def _recheck_held(self, day: date) -> None:
        waiting: list[str] = []
        for order_id in self._held:
            update = self._services.orders.recheck_credit(order_id, idempotency_key=self._key())
            if update.status is OrderStatus.APPROVED:
                self._counts["held_orders_released"] += 1
                self._plan(self._ship, day + timedelta(days=1), order_id)
            elif update.status is OrderStatus.CREDIT_REVIEW:
                self._plan(self._review, day + timedelta(days=1), order_id)
            elif update.status is OrderStatus.CREDIT_HOLD:
                waiting.append(order_id)
        self._held = waiting

    # -- shipping, invoicing, card capture -----------------------------------------------------

    def _shipments(self, day: date) -> None:
        orders, billing = self._services.orders, self._services.billing
        for order_id in self._ship.pop(day, []):
            account = self._order_accounts[order_id]
            if account.card and not self._authorise(order_id):
                continue
            weights = {product: weight for product, _, _, weight in _CATALOGUE}
            parcels = [Parcel(weights[self._rng.choice(_CATALOGUE)[0]])]
            orders.ship_order(order_id, parcels, idempotency_key=self._key())
            self._counts["shipments"] += 1
            issued = billing.invoice_order(order_id, idempotency_key=self._key())
            self._counts["invoices"] += 1
            invoice = _Invoice(
                issued.invoice_number,
                account.customer.customer_id,
                issued.gross,
                day,
                issued.due_date,
                zero(CURRENCY),
            )
            self._invoices[invoice.number] = invoice
            if account.card:
                self._capture(order_id, issued.gross)
                continue
            if self._rng.random() < _DISPUTE_CHANCE:
                later = day + timedelta(days=self._rng.randint(2, 6))
                self._plan(self._disputes, later, invoice.number)
                continue
            self._schedule_payment(account, invoice)

    def _capture(self, order_id: str, gross: Money) -> None:
        self._services.cards.capture(f"{order_id}-PAY1", idempotency_key=self._key())
        self._counts["card_payments"] += 1
        self._collected.append(gross)

    # -- disputes ------------------------------------------------------------------------------

    def _open_disputes(self, day: date) -> None:
        for number in self._disputes.pop(day, []):
            self._services.billing.dispute_invoice(
                number, reason="damaged in transit", idempotency_key=self._key()
            )
            self._counts["disputes"] += 1
            self._plan(self._resolutions, day + timedelta(days=self._rng.randint(5, 15)), number)

    def _resolve_disputes(self, day: date) -> None:
        billing = self._services.billing
        for number in self._resolutions.pop(day, []):
            invoice = self._invoices[number]
            if self._rng.random() < 0.7:
                credit = percent_of(invoice.gross, 10, Rounding.HALF_UP)
                billing.issue_credit_note(
                    number,
                    reason="price reduction for damaged goods",
                    amount=credit,
                    idempotency_key=self._key(),
                )
                invoice.credited = credit
                self._counts["credit_notes"] += 1
            billing.resolve_dispute(
                number, resolution="agreed with the customer", idempotency_key=self._key()
            )
            self._schedule_payment(self._account(invoice.customer_id), invoice, not_before=day)

    def _account(self, customer_id: str) -> _Account:
        return self._accounts[int(customer_id[1:]) - 1]

    # -- payments ------------------------------------------------------------------------------

    def _schedule_payment(
        self, account: _Account, invoice: _Invoice, not_before: date | None = None
    ) -> None:
        """Plan the bank transfer of an invoice as the customer's habit says (or none)."""
        rng = self._rng
        if account.habit == "never":
            self._plan(
                self._write_offs,
                invoice.due + timedelta(days=_WRITE_OFF_AFTER_DAYS),
                invoice.number,
            )
            return
        if account.habit == "early":
            day = invoice.issued + timedelta(days=rng.randint(2, 9))
        elif account.habit == "on_time":
            day = invoice.due + timedelta(days=rng.randint(-6, 2))
        else:
            day = invoice.due + timedelta(days=rng.randint(8, 40))
        day = self._business_day(max(day, not_before or day, invoice.issued + timedelta(days=1)))
        owed = invoice.gross - invoice.credited
        discount = zero(CURRENCY)
        if invoice.credited.amount == 0:
            schedule = account.customer.terms.schedule(invoice.gross, invoice.issued)
            offer = schedule.discount_available(day)
            if offer is not None:
                discount = offer.amount
        self._plan(self._payments, day, (invoice.number, owed - discount))

    def _receive_payments(self, day: date) -> None:
        due = self._payments.pop(day, [])
        if not due:
            return
        statement: list[Receipt] = []
        for number, amount in due:
            invoice = self._invoices[number]
            account = self._account(invoice.customer_id)
            self._receipts += 1
            sloppy = self._rng.random() < _SLOPPY_REFERENCE_CHANCE
            remittance = number.split("-")[-1] if sloppy else f"invoice {number}"
            payer = Payer(
                name=account.customer.name, account=next(iter(account.customer.payer_accounts))
            )
            if self._receipts % _UNIDENTIFIED_EVERY == 0:
                payer, remittance = Payer(name="Unidentified payer"), ""
            statement.append(
                Receipt(
                    f"R-{self._receipts:06d}",
                    amount,
                    day,
                    f"statement/{day.isoformat()}/{self._receipts}",
                    payer,
                    remittance=remittance,
                )
            )
        result = self._services.cash.import_receipts(statement, idempotency_key=self._key())
        self._counts["bank_receipts"] += len(statement)
        self._counts["receipts_matched"] += len(result.applied)
        self._counts["receipts_on_account"] += len(result.on_account)
        self._counts["receipts_queued"] += len(result.queued)
        for allocation in result.allocations:
            self._collected.append(allocation.applied)
            self._discounts.append(allocation.discount)

    # -- collections ---------------------------------------------------------------------------

    def _dun(self) -> None:
        summary = self._services.dunning.run_dunning(idempotency_key=self._key())
        self._counts["dunning_notices"] += len(summary.notices)
        self._counts["dunning_charges"] += len(summary.charges)
        self._counts["credit_holds"] += len(summary.held)
        self._counts["credit_releases"] += len(summary.released)

    def _write_off(self, day: date) -> None:
        for number in self._write_offs.pop(day, []):
            update = self._services.billing.write_off_bad_debt(
                number, reason="uncollectable", idempotency_key=self._key()
            )
            invoice = self._invoices[number]
            self._written_off.append(invoice.gross - invoice.credited - update.open)
            self._counts["write_offs"] += 1

    # -- the outcome ---------------------------------------------------------------------------

    def _outcome(self) -> SimulationOutcome:
        reports = self._services.reports
        end = START + timedelta(days=self.days - 1)
        period = Period(START, end)
        aging = reports.aging(end)
        trial = self._app.adapters.ledger.trial_balance()
        invoiced = total((i.gross for i in self._invoices.values()), CURRENCY)
        order = (
            "orders_placed",
            "orders_sent_to_review",
            "orders_approved_on_review",
            "orders_rejected_on_review",
            "orders_held",
            "held_orders_released",
            "orders_refused",
            "cards_declined",
            "shipments",
            "invoices",
            "card_payments",
            "bank_receipts",
            "receipts_matched",
            "receipts_on_account",
            "receipts_queued",
            "disputes",
            "credit_notes",
            "dunning_notices",
            "dunning_charges",
            "credit_holds",
            "credit_releases",
            "write_offs",
        )
        return SimulationOutcome(
            seed=self.seed,
            customers=self.customers,
            days=self.days,
            period=period,
            habits={habit: self._habits[habit] for habit in HABITS},
            counts={name: self._counts[name] for name in order},
            invoiced=invoiced,
            collected=total(self._collected, CURRENCY),
            discounts=total(self._discounts, CURRENCY),
            written_off=total(self._written_off, CURRENCY),
            open_total=aging.total(CURRENCY),
            dso=reports.dso(period, CURRENCY),
            cei=reports.cei(period, CURRENCY),
            aging=aging,
            ledger_balanced=trial.is_balanced,
        )
