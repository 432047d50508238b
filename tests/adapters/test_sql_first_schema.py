"""A database written at the first schema revision is read back, unchanged, by this code.

``fixtures/first_schema.sql`` is the SQL dump of a SQLite book at revision 0001 holding what
:func:`keep_first_books` stores: a customer, an issued invoice and a receipt applied to it (and the
journal entries they posted). The test loads it into a new file, opens it with the store (which
upgrades it to the current revision) and compares every value with the same story told on the
in-memory adapters. Never regenerate the fixture to make this test pass: a failure means stored
books of the first release could no longer be read.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

import o2c
from o2c.adapters.sql import SqlLedger, SqlStore, current_revision, head_revision
from o2c.cli.app import cli
from o2c.domain.customers import Address, Customer
from o2c.domain.money import money, unit_price
from o2c.domain.orders import OrderLine
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.ports.carriers import Parcel
from o2c.ports.ledger import LedgerPort
from o2c.ports.persistence import UnitOfWork

FIXTURE = Path(__file__).parent / "fixtures" / "first_schema.sql"

CONFIG = {
    "adapters": {
        "clock": {"use": "fixed", "options": {"at": datetime(2026, 3, 2, 9, tzinfo=UTC)}},
        "inventory": {"use": "memory", "options": {"stock": {"DESK": 10}}},
    },
    "plugins": {"entry_points": False},
}

CUSTOMER = Customer(
    "ACME",
    "Acme Trading GmbH",
    "EUR",
    PaymentTerms.parse("NET 30"),
    address=Address("Hafenstrasse 1", "Hamburg", "20457", "DE"),
)


def keep_first_books(app: o2c.App) -> None:
    """The story stored in the fixture."""
    services = app.services
    services.customers.register_customer(CUSTOMER, idempotency_key="k-1")
    services.customers.approve_credit(
        "ACME",
        money("5000", "EUR"),
        date(2027, 3, 1),
        reviewer="r",
        reason="known",
        idempotency_key="k-2",
    )
    line = OrderLine(
        "1", "DESK", "Desk", 2, unit_price("450.00", "EUR"), TaxCategory.standard("19")
    )
    services.orders.place_order("SO-1", "ACME", [line], idempotency_key="k-3")
    services.orders.ship_order("SO-1", [Parcel(Decimal(20))] * 2, idempotency_key="k-4")
    invoice = services.billing.invoice_order("SO-1", idempotency_key="k-5")
    receipt = Receipt(
        "BANK-1",
        money("500.00", "EUR"),
        date(2026, 3, 2),
        "statement/1",
        Payer(name="ACME TRADING", account="DE02120300000000202051"),
        remittance=invoice.invoice_number,
    )
    services.cash.import_receipts([receipt], idempotency_key="k-6")


def told_in_memory() -> tuple[Callable[[], UnitOfWork], LedgerPort]:
    app = o2c.bootstrap(CONFIG)
    keep_first_books(app)
    return app.adapters.unit_of_work, app.adapters.ledger


def load_fixture(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.executescript(FIXTURE.read_text(encoding="utf-8"))
    connection.close()


def test_the_fixture_is_at_the_first_revision(tmp_path: Path) -> None:
    path = tmp_path / "first.db"
    load_fixture(path)
    assert current_revision(path) == "0001"


def test_books_of_the_first_schema_read_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "first.db"
    load_fixture(path)
    memory_units, memory_ledger = told_in_memory()
    with SqlStore(path) as store, store.unit_of_work() as stored, memory_units() as expected:
        assert current_revision(path) == head_revision()
        assert stored.customers.get("ACME") == CUSTOMER
        for name in ("customers", "orders", "invoices", "receipts", "allocations", "shipments"):
            assert list(getattr(stored, name).values()) == list(getattr(expected, name).values())
            assert len(getattr(stored, name)) > 0, name
        assert stored.open_items.open() == expected.open_items.open()
        for day in (date(2026, 3, 1), date(2026, 6, 30)):
            assert stored.open_items.aging(day) == expected.open_items.aging(day)
        assert stored.commands.recall("k-5") == expected.commands.recall("k-5")
        assert stored.sequences.next("INV") == expected.sequences.next("INV")
        ledger = SqlLedger(store.engine)
        assert ledger.trial_balance() == memory_ledger.trial_balance()


def test_o2c_db_upgrade_brings_the_fixture_to_this_revision(tmp_path: Path) -> None:
    path = tmp_path / "first.db"
    load_fixture(path)
    result = CliRunner().invoke(cli, ["db", "upgrade", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert head_revision() in result.output


def write_fixture(path: Path) -> None:
    """Store :func:`keep_first_books` in a new SQLite file at ``path`` and dump it as the fixture.

    Only for redoing the first schema before it is released: ``python test_sql_first_schema.py``.
    """
    store = SqlStore(path)
    app = o2c.bootstrap(CONFIG, unit_of_work=store.unit_of_work, ledger=SqlLedger(store.engine))
    keep_first_books(app)
    store.close()
    with sqlite3.connect(path) as connection:
        FIXTURE.write_text("\n".join(connection.iterdump()) + "\n", encoding="utf-8")
    connection.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        write_fixture(Path(scratch) / "first.db")
