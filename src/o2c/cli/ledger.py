"""``o2c ledger``: the journal of stored books, exported, closed by period, summed.

Every command reads the books at ``--db`` (a database URL or the path of a SQLite file), which
must exist and be at this o2c's schema revision, e.g. the books ``o2c demo --db`` keeps.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from o2c.cli import render
from o2c.domain.ledger import TrialBalance

if TYPE_CHECKING:
    from o2c.cli.books import Books
    from o2c.services.facade import Services

__all__ = ["ledger"]

_DB_HELP = "The books: a database URL, or the path of a SQLite file."


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date; write it as YYYY-MM-DD", param_hint=f"'{option}'"
        ) from None


def _range(start_text: str | None, end_text: str | None) -> tuple[date | None, date | None]:
    start, end = _day(start_text, "--from"), _day(end_text, "--to")
    if start is not None and end is not None and end < start:
        raise click.BadParameter("--to is before --from", param_hint="'--to'")
    return start, end


@click.group()
def ledger() -> None:
    """The stored journal: export it, close a period, print the trial balance."""


@ledger.command("export")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(["beancount", "csv"]),
    required=True,
    help="beancount: a file bean-check accepts; csv: journal lines, one per posting.",
)
@click.option("--from", "start_text", metavar="DATE", help="The first day to export.")
@click.option("--to", "end_text", metavar="DATE", help="The last day to export.")
@click.option("--db", "value", required=True, metavar="PATH_OR_URL", help=_DB_HELP)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    show_default=True,
    help="Write here instead of to standard output.",
)
def export(
    format_name: str, start_text: str | None, end_text: str | None, value: str, output: str
) -> None:
    """Export the journal entries dated --from to --to (both included).

    An export that starts after the first entry carries the balances of the day before as
    opening balances (Beancount) so that the file checks on its own.
    """
    from o2c.adapters.exports import exporter  # noqa: PLC0415
    from o2c.cli.books import open_books  # noqa: PLC0415

    start, end = _range(start_text, end_text)
    with open_books(value, upgrade=False) as books:
        services = _services(books)
        chosen = exporter(format_name)
        if output == "-":
            services.ledger.export(chosen, sys.stdout, start=start, end=end)
            return
        with Path(output).open("w", encoding="utf-8", newline="") as out:
            count = services.ledger.export(chosen, out, start=start, end=end)
    click.echo(f"{count} journal entries written to {output}", err=True)


@ledger.command("close")
@click.argument("period")
@click.option("--db", "value", required=True, metavar="PATH_OR_URL", help=_DB_HELP)
@click.option("--force", is_flag=True, help="Close the period even when the checks fail.")
def close(period: str, value: str, force: bool) -> None:
    """Close the accounting PERIOD (YYYY-MM) after the period-end checks.

    The checks compare the receivables control account with the open items and unapplied
    cash with the receipts, and list the clearing accounts' balances. When they fail the
    period stays open (exit status 1) unless --force. Nothing dated in a closed period
    posts afterwards.
    """
    from o2c.cli.books import open_books  # noqa: PLC0415
    from o2c.domain.periods import AccountingPeriod  # noqa: PLC0415

    chosen = AccountingPeriod.parse(period)
    with open_books(value, upgrade=False) as books:
        services = _services(books)
        report = services.ledger.close_period(chosen, force=force)
    click.echo(report.render())
    click.echo(f"period {chosen} closed")


@ledger.command("trial-balance")
@click.option("--from", "start_text", metavar="DATE", help="Only entries from this day.")
@click.option("--to", "end_text", metavar="DATE", help="Only entries up to this day.")
@click.option("--db", "value", required=True, metavar="PATH_OR_URL", help=_DB_HELP)
def trial_balance(start_text: str | None, end_text: str | None, value: str) -> None:
    """Print the trial balance: turnover and balance per account and currency."""
    from o2c.cli.books import open_books  # noqa: PLC0415

    start, end = _range(start_text, end_text)
    with open_books(value, upgrade=False) as books:
        services = _services(books)
        trial = services.ledger.trial_balance(start, end)
    render.console().print(_trial_table(trial, start, end))


def _trial_table(trial: TrialBalance, start: date | None, end: date | None) -> object:
    span = ""
    if start or end:
        span = f" {start.isoformat() if start else '...'} to {end.isoformat() if end else '...'}"
    grid = render.table(
        f"Trial balance{span}", "account", "cur", "debit", "credit", "balance", right=(2, 3, 4)
    )
    for row in trial.rows:
        grid.add_row(
            f"{row.account} {row.name}"[:32],
            row.currency,
            render.plain(row.debit),
            render.plain(row.credit),
            render.plain(row.balance),
        )
    for currency in trial.currencies:
        debit, credit = trial.totals(currency)
        grid.add_section()
        grid.add_row(
            "total",
            currency,
            render.plain(debit),
            render.plain(credit),
            render.plain(debit - credit),
            style="bold",
        )
    if not trial.rows:
        grid.add_row("(no entries)", "", "", "", "")
    return grid


def _services(books: Books) -> Services:
    """The application services over opened books (installed plugins are not loaded)."""
    import o2c  # noqa: PLC0415  (the composition root, only when a command runs)

    app = o2c.bootstrap(
        {"plugins": {"entry_points": False}},
        unit_of_work=books.store.unit_of_work,
        ledger=books.ledger,
    )
    return app.services
