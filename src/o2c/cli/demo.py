"""``o2c demo``: one realistic order-to-cash story, told step by step on the built-in adapters.

The story runs on ``o2c.bootstrap()`` with a fixed clock that the narration moves forward, so
every run prints the same dates, numbers and documents. It uses only the application services'
public use cases and the ports' queries; everything it shows is what the services did.

Three customers of an office furniture wholesaler: Alpenrose Hotels (new, so its first order
waits for a credit review), Café Luna (pays by card) and Brickworks Office (pays one invoice
with a typo in the reference and forgets the other, and goes through dunning until its account
is put on hold).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

import o2c
from o2c.cli import render
from o2c.domain.calendar import BusinessCalendar
from o2c.domain.customers import Address, Customer
from o2c.domain.money import Money, money, unit_price
from o2c.domain.orders import OrderLine
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.references import creditor_reference, format_creditor_reference
from o2c.domain.reporting import Period
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.ports.carriers import Parcel
from o2c.ports.clock import Clock
from o2c.services.results import InvoiceResult, OrderPlacement

if TYPE_CHECKING:
    from o2c.cli.books import Books

__all__ = ["START", "STEPS", "demo_config", "demo_record", "run_demo", "table_record"]

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
"""The demo's first business morning (a Monday)."""

HOLIDAYS = (date(2026, 12, 25), date(2026, 12, 26))

STEPS = (
    "Customers and credit",
    "Orders and credit decisions",
    "Stock reservation",
    "Shipping and carrier booking",
    "Invoicing on shipment",
    "Card payment",
    "Tracking and delivery",
    "Bank transfers and cash application",
    "Dunning over the following weeks",
    "Ledger: trial balance",
    "Receivables aging",
)
"""The headings of the demo's steps, in order."""

VAT = TaxCategory.standard("19")
TERMS = "2/10 NET 30"


def demo_config() -> dict[str, object]:
    """The demo's configuration: a fixed clock, opening stock, a calendar and dunning levels."""
    return {
        "adapters": {
            "clock": {"use": "fixed", "options": {"at": START}},
            "inventory": {
                "use": "memory",
                "options": {"stock": {"DESK-OAK": 40, "CHAIR-ERGO": 6, "LAMP-LED": 200}},
            },
        },
        "plugins": {"entry_points": False},
        "settings": {
            "calendar": {"holidays": list(HOLIDAYS)},
            "dunning": {
                "levels": [
                    {"number": 1, "days": 7, "template": "dunning.friendly_reminder"},
                    {
                        "number": 2,
                        "days": 21,
                        "template": "dunning.second_notice",
                        "fee": ["15.00 EUR"],
                        "interest_percent": Decimal(9),
                        "actions": ["credit_hold"],
                    },
                ]
            },
        },
    }


class _Story:
    """The running demo: the application, its clock and the narration.

    With ``records`` the story is kept as data (one record per step) instead of printed: the
    console then only shows the step headings, as progress.
    """

    def __init__(
        self,
        console: Console,
        books: Books | None = None,
        records: list[dict[str, Any]] | None = None,
    ) -> None:
        self.console = console
        self.records = records
        if books is None:
            self.app = o2c.bootstrap(demo_config())
        else:
            self.app = o2c.bootstrap(
                demo_config(), unit_of_work=books.store.unit_of_work, ledger=books.ledger
            )
        self.books = books
        self.services = self.app.services
        self.clock: Clock = self.app.adapters.clock
        self._keys = 0
        self._steps: Iterator[str] = iter(STEPS)
        self._number = 0

    def key(self) -> str:
        self._keys += 1
        return f"demo-{self._keys}"

    @property
    def today(self) -> date:
        return self.clock.today()

    def move_to(self, day: date) -> None:
        """Let time pass until the morning of ``day``."""
        advance = getattr(self.clock, "advance", None)
        if advance is None or day < self.today:  # pragma: no cover - the demo's clock is fixed
            raise RuntimeError("the demo needs a clock it can move forward")
        advance(days=(day - self.today).days)

    def step(self, note: str) -> None:
        self._number += 1
        heading = next(self._steps)
        if self.records is not None:
            self.console.print(f"Step {self._number}. {heading}")
            self.records.append(
                {
                    "step": self._number,
                    "title": heading,
                    "date": self.today.isoformat(),
                    "note": note,
                    "tables": [],
                    "notes": [],
                }
            )
            return
        self.console.print()
        self.console.rule(f"[bold]Step {self._number}. {heading}[/bold]", align="left")
        self.console.print(f"[dim]{self.today:%A %d %B %Y}[/dim]  {note}")

    def say(self, text: str) -> None:
        if self.records is not None:
            self.records[-1]["notes"].append(Text.from_markup(text).plain)
            return
        self.console.print(text)

    def show(self, grid: Table) -> None:
        """Print a table, or keep it as records (one per row) in the current step."""
        if self.records is not None:
            self.records[-1]["tables"].append(table_record(grid))
            return
        self.console.print(grid)

    def banner(self, panel: Panel) -> None:
        """The opening and closing panels: printed only, they carry no figures."""
        if self.records is None:
            self.console.print()
            self.console.print(panel)


def _customer(
    customer_id: str, name: str, terms: str, *, iban: str, street: str, city: str, postcode: str
) -> Customer:
    return Customer(
        customer_id,
        name,
        "EUR",
        PaymentTerms.parse(terms),
        email=f"accounts@{customer_id.lower()}.example",
        address=Address(street, city, postcode, "DE"),
        payer_accounts=frozenset({iban}),
    )


ALPENROSE = _customer(
    "ALPENROSE",
    "Alpenrose Hotels AG",
    TERMS,
    iban="DE02120300000000202051",
    street="Maximilianstrasse 12",
    city="Munich",
    postcode="80539",
)
LUNA = _customer(
    "LUNA",
    "Café Luna",
    "NET 14",
    iban="DE02500105170137075030",
    street="Ehrenstrasse 5",
    city="Cologne",
    postcode="50672",
)
BRICKWORKS = _customer(
    "BRICKWORKS",
    "Brickworks Office GmbH",
    TERMS,
    iban="DE88100900001234567892",
    street="Speicherstadt 3",
    city="Hamburg",
    postcode="20457",
)


ORDER_CUSTOMERS = {
    "SO-1001": "ALPENROSE",
    "SO-1002": "LUNA",
    "SO-1003": "BRICKWORKS",
    "SO-1004": "BRICKWORKS",
}


def _desks(quantity: int) -> OrderLine:
    return OrderLine(
        "1", "DESK-OAK", "Oak desk 160 x 80", quantity, unit_price("489.00", "EUR"), VAT
    )


def run_demo(console: Console, books: Books | None = None) -> None:
    """Tell the whole story on ``console``; with ``books``, keep them in that SQL database."""
    story = _Story(console, books)
    where = "the built-in in-memory adapters" if books is None else books.store.where
    console.print(
        Panel.fit(
            "[bold]o2c demo[/bold]: an office furniture wholesaler runs its order-to-cash cycle\n"
            f"on {where}, with a clock the story moves forward.",
            border_style="cyan",
        )
    )
    _tell(story)
    if books is not None:
        _stored(story, books)


def demo_record(progress: Console, books: Books | None = None) -> dict[str, Any]:
    """The whole story as data: one record per step, with its date, notes and tables.

    Each table is a list of rows keyed by the column headings; an amount with its currency
    (``1,000.00 EUR``) becomes ``{"amount": "1000.00", "currency": "EUR"}``. The step headings
    go to ``progress`` as the story runs. The dates are fixed, so the record is the same on
    every run.
    """
    steps: list[dict[str, Any]] = []
    story = _Story(progress, books, records=steps)
    where = "memory" if books is None else books.store.where
    _tell(story)
    return {"demo": "o2c demo", "books": where, "steps": steps}


AMOUNT_TEXT = re.compile(r"(?P<amount>-?[0-9][0-9,]*(?:\.[0-9]+)?) (?P<currency>[A-Z]{3})")
"""An amount as the command prints it: ``-1,000.00 EUR``."""


def table_record(grid: Table) -> dict[str, Any]:
    """A table as data: its title and one record per row, keyed by the column headings."""
    headings = [str(column.header) for column in grid.columns]
    columns = [[_cell(cell) for cell in column.cells] for column in grid.columns]
    rows = [dict(zip(headings, row, strict=True)) for row in zip(*columns, strict=True)]
    title = None if grid.title is None else Text.from_markup(str(grid.title)).plain
    return {"title": title, "rows": rows}


def _cell(cell: object) -> object:
    text = cell.plain if isinstance(cell, Text) else Text.from_markup(str(cell)).plain
    found = AMOUNT_TEXT.fullmatch(text)
    if found is None:
        return text
    return {"amount": found["amount"].replace(",", ""), "currency": found["currency"]}


def _tell(story: _Story) -> None:
    """The steps of the story, in order."""
    _customers(story)
    placements = _orders(story)
    _reservations(story, placements)
    _shipping(story)
    invoices = _invoicing(story)
    _card_payment(story)
    _tracking(story)
    _bank_transfers(story, invoices)
    _dunning(story)
    _trial_balance(story)
    _aging(story)


# --- the steps ------------------------------------------------------------------------------


def _customers(story: _Story) -> None:
    s = story.services.customers
    story.step("Three customers are registered; two have traded with us for years.")
    grid = render.table(None, "customer", "name", "terms", "city", "credit")
    for customer in (ALPENROSE, LUNA, BRICKWORKS):
        s.register_customer(customer, idempotency_key=story.key())
    for customer in (LUNA, BRICKWORKS):
        s.approve_credit(
            customer.customer_id,
            money("20000", "EUR"),
            date(2027, 10, 31),
            reviewer="ana.keller",
            reason="five years of punctual payment",
            idempotency_key=story.key(),
        )
    applied = s.apply_for_credit("ALPENROSE", money("25000", "EUR"), idempotency_key=story.key())
    for customer in (ALPENROSE, LUNA, BRICKWORKS):
        address = customer.address
        assert address is not None
        credit = (
            f"applied for 25,000.00 EUR ({applied.status.value})"
            if customer is ALPENROSE
            else "20,000.00 EUR (approved)"
        )
        grid.add_row(customer.customer_id, customer.name, customer.terms.code, address.city, credit)
    story.show(grid)


def _orders(story: _Story) -> dict[str, OrderPlacement]:
    orders, customers = story.services.orders, story.services.customers
    story.step("Orders come in; credit is decided on each customer's whole exposure.")
    placed: dict[str, OrderPlacement] = {}
    alpenrose_lines = [
        _desks(12),
        OrderLine("2", "CHAIR-ERGO", "Ergonomic chair", 10, unit_price("229.00", "EUR"), VAT),
    ]
    placed["SO-1001"] = orders.place_order(
        "SO-1001", "ALPENROSE", alpenrose_lines, idempotency_key=story.key()
    )
    placed["SO-1002"] = orders.place_order(
        "SO-1002",
        "LUNA",
        [OrderLine("1", "LAMP-LED", "LED desk lamp", 8, unit_price("39.90", "EUR"), VAT)],
        idempotency_key=story.key(),
    )
    placed["SO-1003"] = orders.place_order(
        "SO-1003", "BRICKWORKS", [_desks(6)], idempotency_key=story.key()
    )
    placed["SO-1004"] = orders.place_order(
        "SO-1004", "BRICKWORKS", [_desks(6)], idempotency_key=story.key()
    )
    grid = render.table(None, "order", "customer", "credit", "status", "reasons")
    for order_id, result in placed.items():
        customer_id = ORDER_CUSTOMERS[order_id]
        outcome = result.credit_outcome.value if result.credit_outcome else ""
        grid.add_row(
            order_id, customer_id, outcome, _words(result.status.value), "\n".join(result.reasons)
        )
    story.show(grid)
    story.say(
        "SO-1001 is Alpenrose's first order, so a person reviews the credit application: "
        "annual accounts and two trade references check out."
    )
    standing = customers.approve_credit(
        "ALPENROSE",
        money("25000", "EUR"),
        date(2027, 10, 31),
        reviewer="ana.keller",
        reason="annual accounts and trade references checked",
        idempotency_key=story.key(),
    )
    update = orders.approve_order("SO-1001", idempotency_key=story.key())
    story.say(
        f"Credit for ALPENROSE {standing.status.value} with a limit of "
        f"{render.amount_text(standing.credit_limit)}; SO-1001 is now {update.status.value}."
    )
    placed["SO-1001"] = OrderPlacement(
        "SO-1001", update.status, placed["SO-1001"].credit_outcome, (), update.shortfalls
    )
    return placed


def _reservations(story: _Story, placements: dict[str, OrderPlacement]) -> None:
    story.step("Approved orders reserve stock line by line.")
    inventory = story.app.adapters.inventory
    grid = render.table(None, "product", "on hand", "reserved", "available", right=(1, 2, 3))
    for product in ("DESK-OAK", "CHAIR-ERGO", "LAMP-LED"):
        level = inventory.stock(product)
        grid.add_row(product, f"{level.on_hand:f}", f"{level.reserved:f}", f"{level.available:f}")
    story.show(grid)
    for order_id, placement in placements.items():
        for short in placement.shortfalls:
            story.say(
                f"[yellow]{order_id} line {short.line_id}: {short.quantity:f} x "
                f"{short.product_id} cannot be reserved[/yellow] and is "
                f"{short.action.value.replace('_', '-')}ed; the customer is told at once."
            )


def _shipping(story: _Story) -> None:
    story.move_to(date(2026, 11, 3))
    orders = story.services.orders
    story.step("The warehouse ships; the carrier quotes and the cheapest service is booked.")
    grid = render.table(
        "Shipments (prices in EUR)",
        "shipment",
        "parcels",
        "service",
        "tracking",
        "price",
        "order status",
        right=(1, 4),
    )
    desk, chair, lamps = Parcel(Decimal(28)), Parcel(Decimal(14)), Parcel(Decimal(21))
    parcels = {
        "SO-1001": [desk] * 12 + [chair] * 6,  # the 4 back-ordered chairs follow later
        "SO-1002": [lamps],
        "SO-1003": [desk] * 6,
        "SO-1004": [desk] * 6,
    }
    for order_id, boxes in parcels.items():
        shipped = orders.ship_order(order_id, boxes, idempotency_key=story.key())
        grid.add_row(
            shipped.shipment_id,
            str(len(boxes)),
            shipped.service,
            shipped.tracking_number,
            render.plain(shipped.price),
            _words(shipped.order_status.value),
        )
    story.show(grid)
    story.say(
        f"Every parcel goes with the {shipped.carrier} carrier; bookings carry tracking numbers."
    )


def _tracking(story: _Story) -> None:
    story.move_to(date(2026, 11, 5))
    story.step("The carrier's tracking follows the parcels; deliveries are recorded.")
    tracked = render.table(None, "shipment", "carrier says", "delivery recorded")
    for shipment_id in ("SO-1001-SH1", "SO-1002-SH1", "SO-1003-SH1", "SO-1004-SH1"):
        found = story.services.orders.track_shipment(shipment_id, idempotency_key=story.key())
        tracked.add_row(
            shipment_id, found.tracking_status.value, "yes" if found.delivered else "no"
        )
    story.show(tracked)


def _invoicing(story: _Story) -> dict[str, InvoiceResult]:
    story.step("That evening's billing run invoices what was shipped, on the customers' terms.")
    billing = story.services.billing
    invoices: dict[str, InvoiceResult] = {}
    grid = render.table(
        None, "invoice", "order", "customer", "gross", "due", "pay with reference", right=(3,)
    )
    for order_id, customer_id in ORDER_CUSTOMERS.items():
        issued = billing.invoice_order(order_id, idempotency_key=story.key())
        invoices[order_id] = issued
        grid.add_row(
            issued.invoice_number,
            order_id,
            customer_id,
            render.amount_text(issued.gross),
            issued.due_date.isoformat(),
            # every invoice carries the creditor reference made from its number
            format_creditor_reference(creditor_reference(issued.invoice_number)),
        )
    story.show(grid)
    first = invoices["SO-1001"]
    schedule = ALPENROSE.terms.schedule(
        first.gross, story.today, calendar=BusinessCalendar(holidays=frozenset(HOLIDAYS))
    )
    story.show(
        render.schedule_table(schedule, f"{first.invoice_number} on {TERMS}: what Alpenrose owes")
    )
    story.say(
        "SO-1001 was shipped without the 4 back-ordered chairs, so invoicing on shipment bills "
        "only what left the warehouse."
    )
    return invoices


def _card_payment(story: _Story) -> None:
    story.step("Café Luna pays by card: authorised at checkout, captured once invoiced.")
    cards = story.services.cards
    authorised = cards.authorise("SO-1002", "tok_approve", idempotency_key=story.key())
    captured = cards.capture(authorised.payment_id, idempotency_key=story.key())
    grid = render.table(
        None, "payment", "status", "authorised", "captured", "receipt", right=(2, 3)
    )
    grid.add_row(
        captured.payment_id,
        captured.status.value,
        render.amount_text(captured.authorised),
        render.amount_text(captured.captured),
        captured.receipt_id or "",
    )
    story.show(grid)
    story.say(
        f"Gateway reference {captured.gateway_reference}: the captured money became a card "
        "receipt, applied straight to Café Luna's invoice."
    )


def _statement_line(
    receipt_id: str, amount: Money, on: date, payer: Customer, remittance: str
) -> Receipt:
    account = next(iter(sorted(payer.payer_accounts)))
    return Receipt(
        receipt_id,
        amount,
        on,
        f"bank-statement/{on.isoformat()}/{receipt_id}",
        Payer(name=payer.name.upper(), account=account),
        remittance=remittance,
    )


def _bank_transfers(story: _Story, invoices: dict[str, InvoiceResult]) -> None:
    cash = story.services.cash
    story.move_to(date(2026, 11, 12))
    story.step("Bank statements arrive; cash application matches each line to open items.")
    first = invoices["SO-1001"]
    offer = ALPENROSE.terms.schedule(first.gross, date(2026, 11, 3)).discount_available(story.today)
    assert offer is not None  # within the ten days of 2/10
    paid = first.gross - offer.amount
    statement = [
        _statement_line(
            "BANK-0001",
            paid,
            story.today,
            ALPENROSE,
            f"{first.invoice_number} less 2% early payment discount",
        )
    ]
    imports = [cash.import_receipts(statement, idempotency_key=story.key())]
    lines = list(statement)
    story.move_to(date(2026, 11, 30))
    second = invoices["SO-1004"]
    number = second.invoice_number
    typo = f"{number[:-3]}O{number[-2:]}"  # a letter O where a zero belongs
    later = [
        _statement_line(
            "BANK-0002", second.gross, story.today, BRICKWORKS, f"Invoice {typo} thank you"
        )
    ]
    imports.append(cash.import_receipts(later, idempotency_key=story.key()))
    lines += later
    grid = render.table(None, "receipt", "value date", "payer", "remittance", "amount", right=(4,))
    for line in lines:
        grid.add_row(
            line.receipt_id,
            line.value_date.isoformat(),
            line.payer.name,
            line.remittance,
            render.amount_text(line.amount),
        )
    story.show(grid)
    matched = render.table(
        None, "receipt", "open item", "rule", "applied", "discount", right=(3, 4)
    )
    for result in imports:
        for allocation in result.allocations:
            matched.add_row(
                allocation.receipt_id,
                allocation.item_id,
                allocation.rule.replace("_", " "),
                render.amount_text(allocation.applied),
                render.amount_text(allocation.discount),
            )
    story.show(matched)
    applied = {a.receipt_id: a for result in imports for a in result.allocations}
    first_paid = applied.get("BANK-0001")
    if first_paid is not None and first_paid.discount.amount > 0:
        story.say(
            f"Alpenrose paid within ten days and took the {render.amount_text(offer.amount)} "
            "early payment discount."
        )
    typo_paid = applied.get("BANK-0002")
    if typo_paid is not None:
        story.say(
            f"Brickworks wrote {typo} instead of {number}. Both its invoices are for the same "
            f"amount, so the amount alone cannot tell them apart; the reference that resembles "
            f"{typo_paid.item_id} settles it ({typo_paid.rule.replace('_', ' ')}). "
            f"{invoices['SO-1003'].invoice_number} stays open."
        )
    else:
        story.say(
            f"Brickworks wrote {typo} instead of {number}: the line waits on account for a "
            "person to apply it."
        )


def _dunning(story: _Story) -> None:
    story.move_to(date(2026, 12, 7))
    story.step("Dunning runs every Monday over every open item.")
    dunning = story.services.dunning
    grid = render.table(None, "run", "notices", "charges", "credit holds")
    for _ in range(4):
        summary = dunning.run_dunning(idempotency_key=story.key())
        notices = "\n".join(map(_notice_text, summary.notices)) or "-"
        grid.add_row(
            summary.on.isoformat(),
            notices,
            "\n".join(summary.charges) or "-",
            ", ".join(summary.held) or "-",
        )
        if story.today < date(2026, 12, 28):
            story.move_to(story.today + timedelta(days=7))
    story.show(grid)
    period = Period(date(2026, 11, 1), story.today)
    statement = story.services.reports.statement("BRICKWORKS", period)
    account = render.table(
        "Brickworks' statement of account (EUR)",
        "date",
        "what",
        "reference",
        "debit",
        "credit",
        "balance",
        right=(3, 4, 5),
    )
    for entry in statement.entries:
        line = entry.line
        account.add_row(
            line.on.isoformat(),
            line.kind.value.replace("_", " "),
            line.reference,
            render.plain(line.debit) if line.debit.amount else "",
            render.plain(line.credit) if line.credit.amount else "",
            render.plain(entry.balance),
        )
    story.show(account)
    story.move_to(date(2026, 12, 29))
    held = story.services.orders.place_order(
        "SO-1005",
        "BRICKWORKS",
        [OrderLine("1", "LAMP-LED", "LED desk lamp", 20, unit_price("39.90", "EUR"), VAT)],
        idempotency_key=story.key(),
    )
    story.say(
        "The second notice added a 15.00 EUR fee and 9% interest and put Brickworks' credit on "
        f"hold. Its next order, SO-1005, is [bold]{held.status.value}[/bold] "
        f"({', '.join(held.reasons)}): it ships once the overdue invoice is paid."
    )


def _trial_balance(story: _Story) -> None:
    story.move_to(date(2026, 12, 31))
    story.step("Every money-moving event was posted as balanced journal entries.")
    trial = story.app.adapters.ledger.trial_balance()
    grid = render.trial_balance_table(trial, title=None)
    story.show(grid)
    verdict = "balanced" if trial.is_balanced else "NOT balanced"
    story.say(f"The trial balance is [bold]{verdict}[/bold]: debits equal credits.")


def _aging(story: _Story) -> None:
    story.step("What is still owed, by how long it is past due.")
    reports = story.services.reports
    aging = reports.aging()
    grid = render.aging_table(aging)
    story.show(grid)
    period = Period(date(2026, 11, 1), story.today)
    dso = reports.dso(period, "EUR")
    cei = reports.cei(period, "EUR")
    story.say(
        f"November and December: DSO {'n/a' if dso is None else f'{dso:f} days'}, "
        f"CEI {'n/a' if cei is None else f'{cei:f}%'}."
    )
    story.banner(
        Panel.fit(
            "Order, credit, stock, shipping, invoicing, card and bank payments, cash "
            "application, dunning, ledger and reporting: one cycle, end to end.",
            border_style="green",
        )
    )


def _stored(story: _Story, books: Books) -> None:
    """What the database now holds, printed as ``o2c books`` prints it."""
    from o2c.cli.books import print_books  # noqa: PLC0415

    story.console.print()
    story.say(f"The books stay in {books.store.where}; `o2c books --db` prints them again:")
    story.console.print()
    print_books(render.console(file=story.console.file), books, story.today)


def _words(state: str) -> str:
    """A state name as words, so a narrow column wraps it between them."""
    return state.replace("_", " ")


def _notice_text(notice_id: str) -> str:
    """``notice:BRICKWORKS:EUR:2026-12-14:L1`` as ``BRICKWORKS L1``."""
    parts = notice_id.split(":")
    return f"{parts[1]} {parts[-1]}" if len(parts) > 2 else notice_id
