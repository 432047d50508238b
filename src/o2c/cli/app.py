"""The click commands of ``o2c`` and how their failures become one-line messages and exit codes.

Exit codes: 0 success; 1 the domain or the services refused (a ``DomainError``, an
``ApplicationError``, an adapter's refusal); 2 a usage or configuration mistake (click's usage
errors, a bad option value, a ``ConfigError``, an unknown adapter); 3 a plugin failed
(``PluginError``, two plugins registering one adapter name). No traceback is ever shown for
these: the message names what was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from o2c.cli import render
from o2c.cli.ledger import ledger as ledger_commands
from o2c.config import ConfigError
from o2c.domain.calendar import BusinessCalendar
from o2c.domain.errors import DomainError, O2CError
from o2c.domain.lifecycles import LIFECYCLES
from o2c.domain.money import Money, money, parse_money
from o2c.domain.terms import PaymentTerms
from o2c.ports.errors import AdapterError, PluginError
from o2c.ports.registry import DuplicateAdapter, UnknownAdapter
from o2c.ports.statements import StatementFormat
from o2c.services.errors import ApplicationError

if TYPE_CHECKING:
    from o2c.cli.books import Books

__all__ = ["EXIT_PLUGIN", "EXIT_REFUSED", "EXIT_USAGE", "cli"]

EXIT_REFUSED = 1
"""The domain or the services refused what was asked."""
EXIT_USAGE = 2
"""The command line or the configuration is wrong (click uses 2 for usage errors too)."""
EXIT_PLUGIN = 3
"""A plugin failed."""


# click's exit signals are o2c errors too: whoever runs the commands without click's standalone
# mode catches every refusal, however it surfaced, with ``except O2CError``.
class Refused(click.ClickException, O2CError):
    """A refusal by the domain, the services or an adapter (exit code 1)."""

    exit_code = EXIT_REFUSED


class BadConfiguration(click.ClickException, O2CError):
    """A configuration mistake (exit code 2)."""

    exit_code = EXIT_USAGE


class PluginFailed(click.ClickException, O2CError):
    """A plugin failed (exit code 3)."""

    exit_code = EXIT_PLUGIN


def _describe(error: BaseException) -> str:
    describe = getattr(error, "describe", None)
    text = describe() if callable(describe) else str(error)
    return str(text) or type(error).__name__


class _Commands(click.Group):
    """The ``o2c`` group: turns o2c's errors into click exceptions with their exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (PluginError, DuplicateAdapter) as error:
            raise PluginFailed(str(error)) from error
        except (ConfigError, UnknownAdapter) as error:
            raise BadConfiguration(f"configuration: {error}") from error
        except (DomainError, ApplicationError, AdapterError) as error:
            raise Refused(_describe(error)) from error


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="o2c", prog_name="o2c")
def cli() -> None:
    """The order-to-cash cycle from the command line.

    Start with `o2c demo`: a whole cycle, narrated, on the built-in in-memory adapters.
    """


# --- o2c demo -------------------------------------------------------------------------------


_DB_HELP = "A database URL, or the path of a SQLite file."


@cli.command()
@click.option(
    "--db",
    metavar="PATH_OR_URL",
    default=None,
    help="Keep the books in this database (a new SQLite file is created) instead of in memory.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the story as JSON, one record per step; the step headings go to stderr.",
)
def demo(db: str | None, as_json: bool) -> None:
    """Run a narrated order-to-cash scenario on the built-in in-memory adapters.

    Customers and a credit review, an order with a short line, shipping and tracking, invoices
    on "2/10 NET 30", a card payment, bank transfers matched to invoices (one with a typo in
    its reference), weeks of dunning with fees, interest and a credit hold, then the trial
    balance and the receivables aging. The dates are fixed: the output is the same every run.

    With --db the books are kept in a SQL database and outlive the run: `o2c books --db` reads
    them back. The database must not hold books yet.

    With --json the story is printed as JSON: each step with its title, date, notes and tables
    (one record per row, amounts as exact decimal strings with their currency).
    """
    from o2c.cli.demo import demo_record, run_demo  # noqa: PLC0415  (the services, when asked)

    console = render.console()
    if as_json:
        progress = render.console(stderr=True)
        if db is None:
            click.echo(render.dumps(demo_record(progress)))
            return
        from o2c.cli.books import open_books  # noqa: PLC0415  (the sql extra, only when asked)

        with open_books(db, upgrade=True) as books:
            _refuse_used_books(books)
            click.echo(render.dumps(demo_record(progress, books)))
        return
    if db is None:
        run_demo(console)
        return
    from o2c.cli.books import open_books  # noqa: PLC0415  (the sql extra, only when asked)

    with open_books(db, upgrade=True) as books:
        _refuse_used_books(books)
        run_demo(console, books)


def _refuse_used_books(books: Books) -> None:
    if not books.is_empty():
        raise click.BadParameter(
            f"{books.store.where} already holds books; run the demo on a new database",
            param_hint="'--db'",
        )


# --- o2c db and o2c books -------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Look after the database that keeps the books: its schema revision and upgrades."""


@db.command("upgrade")
@click.option("--db", "value", required=True, metavar="URL", help=_DB_HELP)
def db_upgrade(value: str) -> None:
    """Bring the database to this o2c's schema revision (a new SQLite file is created).

    Back the database up first. A database newer than this o2c, or of another application, is
    refused and left as it is.
    """
    from o2c.adapters.sql import current_revision, upgrade  # noqa: PLC0415
    from o2c.cli.books import database  # noqa: PLC0415

    url = database(value)
    shown = url.render_as_string(hide_password=True)
    before = current_revision(value)
    after = upgrade(value)
    if before == after:
        click.echo(f"{shown}: already at revision {after}")
    else:
        click.echo(f"{shown}: revision {before or 'none (empty)'} -> {after}")


@db.command("status")
@click.option("--db", "value", required=True, metavar="URL", help=_DB_HELP)
def db_status(value: str) -> None:
    """Show the database's schema revision, this o2c's, and whether an upgrade is needed.

    The exit status is 0 when the database is at this o2c's revision and 1 otherwise.
    """
    from o2c.adapters.sql import current_revision, head_revision, known_revisions  # noqa: PLC0415
    from o2c.cli.books import database, must_exist  # noqa: PLC0415

    url = database(value)
    must_exist(url)
    shown = url.render_as_string(hide_password=True)
    revision, head = current_revision(value), head_revision()
    click.echo(f"database: {shown}")
    click.echo(f"revision: {revision or 'none (empty)'}")
    click.echo(f"this o2c: {head}")
    if revision == head:
        click.echo("up to date")
        return
    if revision is None or revision in known_revisions():
        click.echo(f"upgrade needed: o2c db upgrade --db {shown}")
    else:
        click.echo("newer than this o2c: use the o2c that wrote it")
    raise SystemExit(EXIT_REFUSED)


@cli.command()
@click.option("--db", "value", required=True, metavar="PATH_OR_URL", help=_DB_HELP)
@click.option(
    "--as-of", "as_of", default=None, metavar="DATE", help="Age the open items as of this date."
)
def books(value: str, as_of: str | None) -> None:
    """Print the stored books: open items per customer, the aging and the trial balance.

    Reads only: the database must exist and be at this o2c's schema revision.
    """
    from o2c.cli.books import open_books, print_books  # noqa: PLC0415

    # Today where the command runs: the books are read by a person, in their own time zone.
    day = datetime.now().astimezone().date() if as_of is None else _date(as_of, "--as-of")
    with open_books(value, upgrade=False) as opened:
        print_books(render.console(), opened, day)


# --- o2c statements -------------------------------------------------------------------------


@cli.group()
def statements() -> None:
    """Bank statement files into the books: camt.052/053/054, MT940/MT942, BAI2, CSV."""


@statements.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice([f.value for f in StatementFormat]),
    default="auto",
    show_default=True,
    help="The file's format; auto tells camt, MT940 and BAI2 by the first bytes.",
)
@click.option("--db", "value", default=None, metavar="PATH_OR_URL", help=_DB_HELP)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="For CSV: a TOML file saying which column holds what.",
)
@click.option(
    "--on",
    "on",
    default=None,
    metavar="DATE",
    help="The business date to apply on (default today).",
)
@click.option(
    "--skip-balance-check",
    is_flag=True,
    help="Import even if opening balance and lines do not give the closing balance.",
)
def statements_import(
    file: Path,
    *,
    file_format: str,
    value: str | None,
    mapping: Path | None,
    on: str | None,
    skip_balance_check: bool,
) -> None:
    """Import a bank file: receipts matched to open items, returns, bank fees.

    Every line is applied once, however often it is imported. A file that is broken, hostile
    or does not reconcile is refused whole. Without --db the books are in memory (and empty).
    """
    import o2c  # noqa: PLC0415
    from o2c.adapters.memory.clock import FixedClock  # noqa: PLC0415
    from o2c.cli.statements import (  # noqa: PLC0415
        STATEMENTS_WIDTH,
        csv_mapping,
        import_file,
        print_report,
    )

    clock = None if on is None else FixedClock(datetime.combine(_date(on, "--on"), time(12), UTC))
    chosen = StatementFormat(file_format)
    read_mapping = csv_mapping(mapping) if mapping is not None else None
    console = Console(highlight=False, width=STATEMENTS_WIDTH)
    errors = Console(stderr=True, width=STATEMENTS_WIDTH)
    if value is None:
        app = o2c.bootstrap(clock=clock)
        report, before = import_file(
            app.services,
            file,
            chosen,
            errors=errors,
            mapping=read_mapping,
            check_balances=not skip_balance_check,
        )
    else:
        from o2c.cli.books import open_books  # noqa: PLC0415

        with open_books(value, upgrade=False) as opened:
            app = o2c.bootstrap(
                unit_of_work=opened.store.unit_of_work, ledger=opened.ledger, clock=clock
            )
            report, before = import_file(
                app.services,
                file,
                chosen,
                errors=errors,
                mapping=read_mapping,
                check_balances=not skip_balance_check,
            )
    print_report(console, file, report, before)


# --- o2c terms ------------------------------------------------------------------------------


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date; write it as YYYY-MM-DD", param_hint=f"'{option}'"
        ) from None


def _dates(text: str, option: str) -> tuple[date, ...]:
    return tuple(_date(part, option) for part in text.split(",") if part.strip())


_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def _amount(text: str, currency: str | None, trailing: Sequence[str]) -> Money:
    """The amount from ``--amount``, ``--currency`` and a currency word after ``--amount``."""
    extra = list(trailing)
    if extra and currency is None and len(extra) == 1 and _CURRENCY.match(extra[0]):
        currency = extra.pop()
    if extra:
        raise click.UsageError(f"unexpected argument {extra[0]!r}")
    words = text.split()
    try:
        if len(words) == 2:
            given = parse_money(text)
            if currency is not None and given.currency.code != currency.upper():
                raise click.BadParameter(
                    f"{text!r} is in {given.currency.code}, but --currency says {currency}",
                    param_hint="'--amount'",
                )
            return given
        if currency is None:
            raise click.BadParameter(
                f"{text!r} has no currency; write --amount '1000 EUR' or add --currency EUR",
                param_hint="'--amount'",
            )
        return money(text.strip(), currency.upper())
    except DomainError as error:
        raise click.BadParameter(error.describe(), param_hint="'--amount'") from error


@cli.command()
@click.argument("notation")
@click.argument("trailing", nargs=-1, metavar="")
@click.option(
    "--amount",
    "amount_text",
    required=True,
    metavar="AMOUNT",
    help="The invoice total: '1000 EUR' (or 1000 with --currency EUR).",
)
@click.option("--currency", metavar="CODE", help="The currency, when --amount is a bare number.")
@click.option(
    "--date",
    "invoice_date",
    required=True,
    metavar="DATE",
    help="The invoice date, YYYY-MM-DD.",
)
@click.option(
    "--calendar-holidays",
    "holidays",
    default=None,
    metavar="DATES",
    help="Comma-separated holidays; due dates and deadlines then move off weekends and these.",
)
@click.option(
    "--business-days",
    is_flag=True,
    help="Move dates off weekends even without holidays.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as JSON.")
def terms(
    *,
    notation: str,
    trailing: tuple[str, ...],
    amount_text: str,
    currency: str | None,
    invoice_date: str,
    holidays: str | None,
    business_days: bool,
    as_json: bool,
) -> None:
    """Show the payment schedule that NOTATION gives an invoice.

    \b
    Examples:
      o2c terms "2/10 NET 30" --amount "1000 EUR" --date 2026-11-23
      o2c terms "30/60/90" --amount 1000 --currency EUR --date 2026-11-23 --json
      o2c terms "NET 30" --amount "250 EUR" --date 2026-11-25 --calendar-holidays 2026-12-25
    """
    total = _amount(amount_text, currency, trailing)
    invoiced_on = _date(invoice_date, "--date")
    free_days = None if holidays is None else _dates(holidays, "--calendar-holidays")
    try:
        parsed = PaymentTerms.parse(notation)
    except DomainError as error:
        raise click.BadParameter(error.describe(), param_hint="'NOTATION'") from error
    calendar = (
        BusinessCalendar(holidays=frozenset(free_days or ()))
        if free_days is not None or business_days
        else None
    )
    schedule = parsed.schedule(total, invoiced_on, calendar=calendar)
    if as_json:
        click.echo(render.dumps(render.schedule_record(schedule)))
        return
    moved = "" if calendar is None else " (business days)"
    title = f"{parsed.code}: {render.amount_text(total)} invoiced {invoiced_on.isoformat()}{moved}"
    Console(highlight=False).print(render.schedule_table(schedule, title))


# --- o2c states -----------------------------------------------------------------------------


@cli.command()
@click.argument("lifecycle", required=False, metavar="[LIFECYCLE]")
@click.option("--mermaid", is_flag=True, help="Print Mermaid state diagrams instead of tables.")
@click.option("--json", "as_json", is_flag=True, help="Print the lifecycles as JSON.")
def states(lifecycle: str | None, mermaid: bool, as_json: bool) -> None:
    """Print the lifecycle tables: every lifecycle, or the one named.

    The names are those of the catalogue: quote, order, credit-account, invoice, payment,
    receipt, dunning-case.
    """
    if lifecycle is None:
        chosen = dict(LIFECYCLES)
    elif lifecycle in LIFECYCLES:
        chosen = {lifecycle: LIFECYCLES[lifecycle]}
    else:
        names = ", ".join(LIFECYCLES)
        raise click.BadParameter(
            f"no lifecycle named {lifecycle!r}; known: {names}", param_hint="'LIFECYCLE'"
        )
    if as_json:
        click.echo(render.dumps({name: render.lifecycle_record(lc) for name, lc in chosen.items()}))
        return
    if mermaid:
        for name, found in chosen.items():
            click.echo(f"%% {name}\n{found.mermaid()}\n")
        return
    console = Console(highlight=False)
    for name, found in chosen.items():
        console.print(render.lifecycle_table(name, found))


# --- o2c plugins ----------------------------------------------------------------------------


@cli.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML configuration file (default: the built-in setup).",
)
@click.option(
    "--entry-points/--no-entry-points",
    default=None,
    help="Load installed plugins or not (default: as configured, which is yes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plugins as JSON.")
def plugins(config_path: Path | None, entry_points: bool | None, as_json: bool) -> None:
    """List the plugins found, the adapters each contributes and the port each serves."""
    import o2c  # noqa: PLC0415  (the composition root is loaded only by commands that need it)

    with o2c.bootstrap(config_path, load_entry_points=entry_points) as app:
        found = app.plugins.plugins()
        chosen = dict(app.chosen)
    if as_json:
        records = [
            {
                "name": info.name,
                "origin": info.origin,
                "distribution": info.distribution,
                "version": info.version,
                "adapters": [
                    {
                        "port": adapter.port.value,
                        "name": adapter.name,
                        "description": adapter.description,
                        "in_use": chosen.get(adapter.port.value) == adapter.name,
                    }
                    for adapter in info.adapters
                ],
            }
            for info in found
        ]
        click.echo(render.dumps({"plugins": records, "chosen": chosen}))
        return
    console = Console(highlight=False)
    for info in found:
        origin = ", ".join(
            part
            for part in (info.origin, info.distribution, info.version and f"version {info.version}")
            if part
        )
        grid = render.table(f"{info.name} ({origin})", "port", "adapter", "in use", "description")
        for adapter in info.adapters:
            in_use = "yes" if chosen.get(adapter.port.value) == adapter.name else ""
            grid.add_row(adapter.port.value, adapter.name, in_use, adapter.description)
        if not info.adapters:
            grid.add_row("", "(no adapters)", "", "")
        console.print(grid)


# --- o2c simulate ---------------------------------------------------------------------------


@cli.command()
@click.option(
    "--customers",
    type=click.IntRange(1, 2000),
    default=50,
    show_default=True,
    help="How many customers trade.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 730),
    default=90,
    show_default=True,
    help="How many days to run.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="The random seed.")
@click.option(
    "--backtest",
    "with_backtest",
    is_flag=True,
    help="Also judge the payment-date predictions made two thirds into the run.",
)
@click.option(
    "--db",
    metavar="PATH_OR_URL",
    default=None,
    help="Keep the books in this database (a new SQLite file is created) instead of in memory.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def simulate(  # noqa: PLR0917  (click passes each option)
    customers: int, days: int, seed: int, with_backtest: bool, db: str | None, as_json: bool
) -> None:
    """Run a synthetic business day by day through the real services.

    Customers who pay early, on time, late or never place orders that are shipped, invoiced,
    sometimes disputed, paid by card or bank transfer, dunned and written off. The run ends
    with DSO, CEI, the aging and the write-offs. The same seed gives the same result.
    """
    from o2c.cli.simulate import Simulation  # noqa: PLC0415  (loads the services only when asked)

    console = render.console()
    if db is not None:
        from o2c.cli.books import open_books  # noqa: PLC0415  (the sql extra, only when asked)

        with open_books(db, upgrade=True) as books:
            if not books.is_empty():
                raise click.BadParameter(
                    f"{books.store.where} already holds books; simulate into a new database",
                    param_hint="'--db'",
                )
    simulation = Simulation(customers=customers, days=days, seed=seed, db=db)
    # Progress goes to standard error, so it shows with --json too without spoiling the JSON.
    outcome = simulation.run(console=render.console(stderr=True))
    judged = simulation.backtest() if with_backtest else None
    if as_json:
        record = outcome.record()
        if with_backtest:
            record["prediction"] = render.backtest_record(judged)
        click.echo(render.dumps(record))
        return
    outcome.print(console)
    if with_backtest:
        console.print(render.backtest_table(judged))


# --- o2c report -----------------------------------------------------------------------------

from o2c.cli.report import report  # noqa: E402  (the group lives in its own module)

cli.add_command(report)


# --- o2c janitor ----------------------------------------------------------------------------


@cli.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML configuration file naming the store and adapters (default: the built-in setup).",
)
@click.option(
    "--older-than",
    "older_than",
    type=click.FloatRange(min=0, max=1e9),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Leave calls younger than this to their command (it may still be running).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def janitor(config_path: Path | None, older_than: float, as_json: bool) -> None:
    """Settle calls to other systems that a failure left open, and say what was done.

    Calls whose command never committed are undone (stock released, bookings cancelled); calls
    due after a commit are made; pending card authorisations are asked after; journal entries
    waiting for the ledger are posted. Exits with 1 when something could not be settled yet.
    """
    from datetime import timedelta  # noqa: PLC0415

    import attrs  # noqa: PLC0415

    import o2c  # noqa: PLC0415  (the composition root is loaded only by commands that need it)

    with o2c.bootstrap(config_path) as app:
        report = app.services.janitor.run(older_than=timedelta(seconds=older_than))
    counts = attrs.asdict(report)
    if as_json:
        click.echo(render.dumps({**counts, "settled": report.settled}))
    else:
        for name, count in counts.items():
            click.echo(f"{name.replace('_', ' ')}: {count}")
        click.echo("everything settled" if report.settled else "some calls are still open")
    if not report.settled:
        raise SystemExit(EXIT_REFUSED)


# --- o2c ledger -----------------------------------------------------------------------------

cli.add_command(ledger_commands)


# --- o2c outbox -----------------------------------------------------------------------------

from o2c.cli.outbox import outbox  # noqa: E402  (its own module; registered here)

cli.add_command(outbox)


# --- o2c cash queue -------------------------------------------------------------------------

from o2c.cli.queue import cash  # noqa: E402  (its own module; registered here)

cli.add_command(cash)
