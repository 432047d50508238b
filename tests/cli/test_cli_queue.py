"""``o2c cash queue`` on books kept in SQLite: listing within 80 columns, and deciding."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import o2c
from o2c.cli.app import cli
from o2c.domain.customers import Address, Customer
from o2c.domain.money import money, unit_price
from o2c.domain.orders import OrderLine
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.tax import TaxCategory
from o2c.domain.worklist import DecisionKind
from o2c.ports.carriers import Parcel

sql = pytest.importorskip("o2c.adapters.sql")

CONFIG = {
    "adapters": {
        "clock": {"use": "fixed", "options": {"at": datetime(2026, 3, 2, 9, tzinfo=UTC)}},
        "inventory": {"use": "memory", "options": {"stock": {"DESK": 10}}},
    },
    "plugins": {"entry_points": False},
}


def keep_books(path: Path) -> str:
    """ACME owes one invoice of 119.00; two unknown payers sent money naming nothing."""
    with sql.SqlStore(path) as store:
        app = o2c.bootstrap(CONFIG, unit_of_work=store.unit_of_work)
        services = app.services
        customer = Customer(
            "ACME",
            "Acme Trading GmbH",
            "EUR",
            address=Address("Hafenstrasse 1", "Hamburg", "20457", "DE"),
        )
        services.customers.register_customer(customer, idempotency_key="k-1")
        services.customers.approve_credit(
            "ACME", money("5000", "EUR"), date(2027, 3, 1), reviewer="r", reason="ok",
            idempotency_key="k-2",
        )  # fmt: skip
        line = OrderLine(
            "1", "DESK", "Desk", 1, unit_price("100.00", "EUR"), TaxCategory.standard("19")
        )
        services.orders.place_order("SO-1", "ACME", [line], idempotency_key="k-3")
        services.orders.ship_order("SO-1", [Parcel(Decimal(20))], idempotency_key="k-4")
        number = services.billing.invoice_order("SO-1", idempotency_key="k-5").invoice_number
        receipts = [
            Receipt(
                "BANK-2026-03-02-0001", money("119.00", "EUR"), date(2026, 3, 1), "st/1",
                Payer(name="A very long payer name that does not fit"),
            ),
            Receipt("BANK-2", money("50.00", "EUR"), date(2026, 3, 2), "st/2", Payer(name="B")),
        ]  # fmt: skip
        services.cash.import_receipts(receipts, idempotency_key="k-6")
        return number


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_the_queue_lists_within_80_columns_and_filters(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    number = keep_books(path)
    listed = run("cash", "queue", "--db", str(path), "--as-of", "2026-03-03")
    assert "2 open" in listed
    assert "BANK-2026-03-" in listed
    assert "BANK-2" in listed
    assert number in listed  # the best suggestion for the 119.00
    assert max(len(line) for line in listed.splitlines()) <= 80
    older = run("cash", "queue", "--db", str(path), "--as-of", "2026-03-03", "--older-than", "1")
    assert "1 open" in older
    assert "BANK-2 " not in older
    assert "0 open" in run("cash", "queue", "--db", str(path), "--currency", "usd")


def test_deciding_from_the_command_line_is_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    number = keep_books(path)
    args = ["cash", "queue", "--db", str(path)]
    accepted = run(*args, "accept", "BANK-2026-03-02-0001", "--by", "ana", "--why", "amount")
    assert "applied" in accepted
    assert "out of the queue" in accepted
    again = run(*args, "accept", "BANK-2026-03-02-0001", "--by", "ana", "--why", "amount")
    assert again == accepted  # the same decision, run twice, decides once
    refunded = run(*args, "refund", "BANK-2", "--amount", "20.00 EUR", "--by", "ben", "--why", "x")
    assert "still queued" in refunded
    refused = CliRunner().invoke(cli, [*args, "accept", "BANK-2", "--by", "a", "--why", "b"])
    assert refused.exit_code == 1  # nothing suggested for 30.00: a one-line refusal
    assert "Traceback" not in refused.output
    books = run("books", "--db", str(path), "--as-of", "2026-03-02")
    assert number not in books.split("Aging")[0]  # paid
    with sql.SqlStore(path) as store, store.unit_of_work() as uow:
        entry = uow.exception_queue.get("BANK-2026-03-02-0001")
        assert [(d.kind, d.by, d.why) for d in entry.decisions] == [
            (DecisionKind.ACCEPTED, "ana", "amount")
        ]


def test_the_books_show_what_to_pay_each_item_with(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    keep_books(path)
    with sql.SqlStore(path) as store, store.unit_of_work() as uow:
        [item] = uow.open_items.open()
    assert item.reference is not None
    books = run("books", "--db", str(path), "--as-of", "2026-03-02")
    assert item.reference[:4] in books
    assert "pay with" in books
