"""Many processes, one book: three OS processes invoice and apply cash on the same database.

Each child builds its own services on the shared store (and the shared SQL ledger) and wraps
every command in ``retrying``. They draw invoice numbers at once, pay the same invoices with
receipts of their own, and all run the same commands under the same idempotency keys. Afterwards
the book holds no over-application, no double effect and a gap-free run of invoice numbers, and
the ledger agrees with it.
"""

from __future__ import annotations

import multiprocessing
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from many_processes_worker import (
    CUSTOMERS,
    ORDERS,
    SHARED_ORDER,
    SHARED_RECEIPT,
    Job,
    run_child,
    set_up,
)

from o2c.adapters.sql import SqlLedger, SqlStore
from o2c.domain.ledger import AccountRole
from o2c.domain.money import total
from o2c.services import Settings

CHILDREN = 3
TIMEOUT = 120.0
TESTS = str(Path(__file__).resolve().parent)


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def book_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The store's and the ledger's URL: a fresh PostgreSQL database, or one SQLite file."""
    if request.param == "sqlite":
        path = tmp_path / "book.db"
        yield str(path), f"sqlite:///{path}"
        return
    server = request.getfixturevalue("postgres_url")
    # One database per run of the scenario: the session database is shared with other tests.
    name = f"o2c_test_many_{secrets.token_hex(6)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url, url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _run_children(store_url: str, ledger_url: str) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(CHILDREN, timeout=TIMEOUT)
    results = context.Queue()
    paths = (TESTS, *sys.path)
    processes = [
        context.Process(
            target=run_child,
            args=(Job(store_url, ledger_url, index, CHILDREN, paths), start, results),
        )
        for index in range(CHILDREN)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=TIMEOUT) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=TIMEOUT)
            if process.is_alive():
                process.kill()
    failures = [detail for status, detail in outcomes if status != "ok"]
    assert not failures, failures
    return sorted((detail for _, detail in outcomes), key=lambda tally: tally["child"])


def test_three_processes_keep_one_book(
    book_urls: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    store_url, ledger_url = book_urls
    set_up(store_url, ledger_url)

    tallies = _run_children(store_url, ledger_url)

    settings = Settings()
    invoiced_orders = (*ORDERS, SHARED_ORDER)
    expected_numbers = [
        settings.number_format.format(series=settings.invoice_series, number=n)
        for n in range(1, len(invoiced_orders) + 1)
    ]
    with SqlStore(store_url) as store, store.unit_of_work() as uow:
        invoices = {invoice.number: invoice for invoice in uow.invoices.values()}
        receipts = list(uow.receipts.values())
        allocations = [a for batch in uow.allocations.values() for a in batch]
        open_items = list(uow.open_items.open())
        outbox = len(uow.ledger_outbox)
        for order_id in invoiced_orders:
            assert len(uow.invoices.of_order(order_id)) == 1, order_id  # invoiced once

    # invoice numbers: unique and gap-free, exactly the invoices issued
    assert sorted(invoices) == expected_numbers
    drawn = [number for tally in tallies for number in tally["numbers"]]
    shared_numbers = {tally["numbers"][0] for tally in tallies}
    assert len(shared_numbers) == 1, "the shared invoice command took effect more than once"
    assert sorted(set(drawn)) == expected_numbers

    # no over-application: per receipt, per invoice, per open item
    applied_to: dict[str, list[Any]] = {}
    for allocation in allocations:
        applied_to.setdefault(allocation.item_id, []).append(allocation.applied)
    for receipt in receipts:
        assert receipt.applied <= receipt.amount, receipt.receipt_id
        assert receipt.unapplied.amount >= 0, receipt.receipt_id
        mine = [a.applied for a in allocations if a.receipt_id == receipt.receipt_id]
        assert total(mine, "EUR") == receipt.applied, receipt.receipt_id
    for number, invoice in invoices.items():
        received = total(applied_to.get(number, ()), "EUR")
        assert received <= invoice.gross, number
        assert invoice.open.amount == 0, number  # each invoice was paid in full, once
    assert all(item.open.amount >= 0 for item in open_items)

    # no double effect: the shared batch recorded one receipt, every child's receipts once each
    assert [r.receipt_id for r in receipts].count(SHARED_RECEIPT) == 1
    assert len(receipts) == 1 + CHILDREN * len(invoices)
    cash = total((r.amount for r in receipts), "EUR")
    assert total((r.applied for r in receipts), "EUR") == total(
        (i.gross for i in invoices.values()), "EUR"
    )

    # the ledger: nothing waits in the outbox, the books balance and agree with the store
    assert outbox == 0
    if ledger_url.startswith("postgresql"):
        # posters take turns on PostgreSQL: every entry was posted right after its command
        assert all(tally["flushed"] == 0 for tally in tallies)
    with SqlLedger(ledger_url) as ledger:
        assert ledger.trial_balance().is_balanced
        chart = ledger.chart
        assert ledger.balance(chart.code(AccountRole.BANK), "EUR") == cash
        receivable = ledger.balance(chart.code(AccountRole.RECEIVABLE), "EUR")
        assert receivable == total((item.open for item in open_items), "EUR")

    with capsys.disabled():
        print()
        for tally in tallies:
            print(
                f"  child {tally['child']}: {tally['commands']} commands, "
                f"{tally['retries']} retries, numbers drawn {', '.join(tally['numbers'])}; "
                f"{tally['flushed']} ledger entries flushed from the outbox"
            )
        print(
            f"  {len(CUSTOMERS)} customers, {len(invoices)} invoices, {len(receipts)} receipts, "
            f"{len(allocations)} allocations"
        )
