"""The books kept in a SQL database, from the command line: opening them and printing them.

``--db`` takes a database URL or the path of a SQLite file. Everything that can go wrong while
opening (the ``sql`` extra missing, a file that does not exist, a schema newer than the code, a
database of another application) is a typed o2c error, which the ``o2c`` command prints as one
line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from o2c.cli import render
from o2c.domain.ledger import ChartOfAccounts
from o2c.domain.receivables import OpenItem
from o2c.domain.references import format_creditor_reference
from o2c.domain.reporting import AgingReport

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from o2c.adapters.sql import SqlLedger, SqlStore

__all__ = ["Books", "database", "open_books", "print_books"]


def database(value: str) -> URL:
    """The URL ``--db`` names (the ``sql`` extra is needed from here on)."""
    from o2c.adapters.sql import database_url  # noqa: PLC0415  (only with the sql extra)

    try:
        return database_url(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--db'") from error


def must_exist(url: URL) -> None:
    """Refuse a SQLite file that is not there: reading must not create an empty database."""
    from o2c.adapters.sql._urls import is_sqlite_file  # noqa: PLC0415

    if is_sqlite_file(url) and not Path(url.database or "").exists():
        raise click.BadParameter(f"no database at {url.database}", param_hint="'--db'")


class Books:
    """A store and the ledger over the same database, closed together."""

    def __init__(self, store: SqlStore, ledger: SqlLedger) -> None:
        self.store = store
        self.ledger = ledger

    def is_empty(self) -> bool:
        """Whether no customer has been stored yet."""
        with self.store.unit_of_work() as uow:
            return len(uow.customers) == 0

    def open_items(self) -> tuple[OpenItem, ...]:
        """Every open item, in the order the store keeps them."""
        with self.store.unit_of_work() as uow:
            return uow.open_items.open()

    def aging(self, as_of: date) -> AgingReport:
        """The aging as of ``as_of``, summed by the store."""
        with self.store.unit_of_work() as uow:
            return uow.open_items.aging(as_of)


@contextmanager
def open_books(
    value: str, *, upgrade: bool, chart: ChartOfAccounts | None = None
) -> Iterator[Books]:
    """The books at ``--db value``: upgraded (and created) if ``upgrade``, else as they are."""
    from o2c.adapters.sql import SqlLedger, SqlStore  # noqa: PLC0415

    url = database(value)
    if not upgrade:
        must_exist(url)
    store = SqlStore(url.render_as_string(hide_password=False), upgrade=upgrade)
    try:
        yield Books(store, SqlLedger(store.engine, chart))
    finally:
        store.close()


def print_books(console: Console, books: Books, as_of: date) -> None:
    """The open items per customer, the aging and the trial balance, as stored."""
    items = books.open_items()
    console.print(f"[bold]Books of {books.store.where} as of {as_of.isoformat()}[/bold]")
    console.print(_open_items(items))
    console.print(render.aging_table(books.aging(as_of)))
    console.print(render.trial_balance_table(books.ledger.trial_balance()))


def _open_items(items: tuple[OpenItem, ...]) -> object:
    grid = render.table("Open items", "customer", "item", "due", "open", "pay with", right=(3,))
    for item in sorted(items, key=lambda item: (item.customer_id, item.due_date, item.item_id)):
        grid.add_row(
            item.customer_id,
            item.item_id,
            item.due_date.isoformat(),
            render.amount_text(item.open),
            format_creditor_reference(item.reference) if item.reference else "",
        )
    if not items:
        grid.add_row("(none)", "", "", "", "")
    return grid
