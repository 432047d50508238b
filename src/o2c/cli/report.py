"""``o2c report``: the receivables measures over the stored books, as tables, JSON or CSV.

Every report reads through ``o2c.bootstrap().services.reports``, the same figures an application
gets; the books come from ``--db`` (a SQL database, read only) or ``--config`` (any configured
store). Each report is a title, named columns and rows of text, so the three output formats
always agree.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import click

import o2c
from o2c.cli import render
from o2c.domain.money import Money
from o2c.domain.reporting import Period
from o2c.services.reports import ReportService

__all__ = ["DEFAULT_LOSS_RATES", "Report", "report"]

DEFAULT_LOSS_RATES = {"current": 1, "1-30": 5, "31-60": 15, "61-90": 35, "over 90": 60}
"""Percent of each aging bucket expected to be lost when no ``--rate`` is given."""


@attrs.frozen
class Report:
    """What a report shows: a title, its columns and rows, and notes under the table."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: tuple[int, ...] = ()
    """Columns to right-align (amounts and counts)."""
    notes: tuple[str, ...] = ()
    bars: int | None = None
    """A column of amounts to draw as bars beside the table (terminal output only)."""
    bar_rows: int | None = None
    """How many leading rows get bars (the rest are totals); all when ``None``."""


_BAR_WIDTH = 10


def _bars(report: Report) -> list[str]:
    """One bar per row, as long as the row's amount in column ``report.bars`` relative to the
    largest; empty for rows past ``bar_rows``."""
    assert report.bars is not None
    counted = report.rows[: report.bar_rows]
    amounts = [abs(Decimal(row[report.bars] or 0)) for row in counted]
    largest = max(amounts, default=Decimal(0))
    bars = ["█" * round(_BAR_WIDTH * amount / largest) if largest else "" for amount in amounts]
    return bars + [""] * (len(report.rows) - len(counted))


@attrs.frozen
class _Request:
    """What every report was asked: where the books are, as of when, in which currency, how."""

    db: str | None
    config_path: Path | None
    as_of: date
    currency: str
    as_json: bool
    as_csv: bool

    def reports(self) -> AbstractContextManager[ReportService]:
        """The report service over the books the request names."""
        return _reports(self.db, self.config_path)

    def emit(self, report: Report) -> None:
        """Print ``report`` as a table, JSON or CSV, as asked."""
        _emit(report, self.as_json, self.as_csv)


def _options(command: Callable[..., None]) -> Callable[..., None]:
    """The options every report takes, handed to the command as one :class:`_Request`."""

    @functools.wraps(command)
    def run(
        *,
        db: str | None,
        config_path: Path | None,
        as_of: str | None,
        currency: str,
        as_json: bool,
        as_csv: bool,
        **rest: Any,
    ) -> None:
        day = _day(as_of, "'--as-of'")
        command(_Request(db, config_path, day, currency, as_json, as_csv), **rest)

    for option in reversed(
        (
            click.option("--db", metavar="PATH_OR_URL", help="Read the books in this database."),
            click.option(
                "--config",
                "config_path",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="A TOML configuration naming the store (instead of --db).",
            ),
            click.option(
                "--as-of", "as_of", metavar="DATE", help="The business date (default: today)."
            ),
            click.option("--currency", default="EUR", show_default=True, help="The currency."),
            click.option("--json", "as_json", is_flag=True, help="Print JSON."),
            click.option("--csv", "as_csv", is_flag=True, help="Print CSV."),
        )
    ):
        run = option(run)
    return run


@contextmanager
def _reports(db: str | None, config_path: Path | None) -> Iterator[ReportService]:
    """The report service over the books ``--db`` or ``--config`` name."""
    if db is not None and config_path is not None:
        raise click.UsageError("give --db or --config, not both")
    if db is not None:
        from o2c.cli.books import database, must_exist  # noqa: PLC0415  (the sql extra)

        url = database(db)
        must_exist(url)
        source: Any = {
            "adapters": {
                "persistence": {
                    "use": "sql",
                    "options": {"url": url.render_as_string(hide_password=False)},
                },
                "ledger": "sql",
            },
            "plugins": {"entry_points": False},
        }
    else:
        source = config_path
    with o2c.bootstrap(source) as app:
        yield app.services.reports


def _day(text: str | None, option: str) -> date:
    if text is None:
        # Today where the command runs: reports are read by a person, in their own time zone.
        return datetime.now().astimezone().date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def _period(start: str | None, as_of: date, days: int = 90) -> Period:
    first = _day(start, "'--from'") if start else as_of - timedelta(days=days - 1)
    if first > as_of:
        raise click.BadParameter("must not be after --as-of", param_hint="'--from'")
    return Period(first, as_of)


def _emit(report: Report, as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    if as_json:
        record = {
            "title": report.title,
            "rows": [dict(zip(report.columns, row, strict=True)) for row in report.rows],
            "notes": list(report.notes),
        }
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    if as_csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(report.columns)
        writer.writerows(report.rows)
        click.echo(out.getvalue(), nl=False)
        return
    columns = report.columns + (("",) if report.bars is not None else ())
    whole = (len(report.columns),) if report.bars is not None else ()
    grid = render.table(report.title, *columns, right=report.right, whole=whole)
    bars = _bars(report) if report.bars is not None else [None] * len(report.rows)
    for row, bar in zip(report.rows, bars, strict=True):
        grid.add_row(*row, *(() if bar is None else (bar,)))
    console = render.console()
    console.print(grid)
    for note in report.notes:
        console.print(note)


def _figure(value: Decimal | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:f}{unit}"


def _plain(value: Money) -> str:
    return render.plain(value)


@click.group()
def report() -> None:
    """Receivables reports over the stored books: aging, DSO, CEI, forecasts and more.

    Each report reads the books of --db (a SQL database, never changed) or of the store a
    --config file names, and prints a table, or JSON with --json, or CSV with --csv.
    """


@report.command("aging")
@_options
def aging(request: _Request) -> None:
    """Open amounts per customer and aging bucket (past due by due date)."""
    currency = request.currency
    day = request.as_of
    with request.reports() as reports:
        found = reports.aging(day)
    rows = tuple(
        (r.customer_id or "", *map(_plain, r.amounts), _plain(r.total))
        for r in found.rows
        if r.currency == currency
    )
    totals = tuple(
        ("total", *map(_plain, t.amounts), _plain(t.total))
        for t in found.totals
        if t.currency == currency
    )
    width = len(found.labels) + 1
    request.emit(
        Report(
            f"Aging as of {day.isoformat()} ({currency})",
            ("customer", *found.labels, "total"),
            rows + totals,
            right=tuple(range(1, width + 1)),
            bars=width,
            bar_rows=len(rows),
        ),
    )


_FROM = click.option(
    "--from", "start", metavar="DATE", help="The first day of the period (default: 90 days)."
)


@report.command("dso")
@_options
@_FROM
def dso_report(
    request: _Request,
    *,
    start: str | None,
) -> None:
    """Days sales outstanding over a period, standard and count-back, and the monthly trend."""
    currency = request.currency
    day = request.as_of
    period = _period(start, day)
    with request.reports() as reports:
        standard = reports.dso(period, currency)
        count_back = reports.count_back_dso(currency, day)
        months = reports.monthly_dso(currency, period.start, period.end)
    rows = [
        ("standard", f"{period.start} to {period.end}", _figure(standard, " days")),
        ("count-back", f"as of {day}", _figure(count_back, " days")),
    ]
    rows += [("month", f"{month.start:%Y-%m}", _figure(value, " days")) for month, value in months]
    request.emit(
        Report(f"DSO ({currency})", ("measure", "period", "days"), tuple(rows), right=(2,)),
    )


def _period_measure(
    request: _Request,
    start: str | None,
    name: str,
    unit: str,
    measure: Callable[[ReportService, Period, str], Decimal | None],
) -> None:
    """A report of one figure over a period (CEI, ADD)."""
    period = _period(start, request.as_of)
    with request.reports() as reports:
        value = measure(reports, period, request.currency)
    row = (f"{period.start} to {period.end}", _figure(value, unit))
    request.emit(Report(f"{name} ({request.currency})", ("period", name), (row,), right=(1,)))


@report.command("cei")
@_options
@_FROM
def cei_report(request: _Request, *, start: str | None) -> None:
    """Collection effectiveness over a period, in percent."""
    _period_measure(request, start, "CEI", " %", ReportService.cei)


@report.command("add")
@_options
@_FROM
def add_report(request: _Request, *, start: str | None) -> None:
    """Average days delinquent over a period: DSO minus the best possible DSO."""
    _period_measure(request, start, "ADD", " days", ReportService.average_days_delinquent)


@report.command("forecast")
@_options
@click.option("--weeks", type=click.IntRange(1, 104), default=13, show_default=True)
def forecast_report(
    request: _Request,
    *,
    weeks: int,
) -> None:
    """Cash expected per week from predicted payment dates, with an early and a late case."""
    currency = request.currency
    day = request.as_of
    with request.reports() as reports:
        found = reports.predicted_cash(day, weeks)
    rows = tuple(
        (f"{w.week_of}", _plain(w.expected), _plain(w.if_early), _plain(w.if_late))
        for w in found
        if w.currency == currency
    )
    notes = (
        (
            "expected: each item in the week of its predicted (median) date; if early / if "
            "late: in the week of its 10th / 90th percentile date."
        ),
    )
    request.emit(
        Report(
            f"Cash forecast from {day} ({currency})",
            ("week of", "expected", "if early", "if late"),
            rows,
            right=(1, 2, 3),
            notes=notes,
            bars=1,
        ),
    )


@report.command("likely-late")
@_options
def likely_late_report(request: _Request) -> None:
    """Items not yet due that are predicted to be paid late: a collector's worklist."""
    currency = request.currency
    day = request.as_of
    with request.reports() as reports:
        found = reports.likely_late(day)
    rows = tuple(
        (
            p.item_id,
            p.customer_id,
            f"{p.due_date}",
            f"{p.expected_on}",
            str(p.expected_days_late),
            _plain(p.open),
            f"{p.basis} ({p.records_used})",
        )
        for p in found
        if p.open.currency.code == currency
    )
    request.emit(
        Report(
            f"Likely late as of {day} ({currency})",
            ("item", "customer", "due", "expected", "days late", "open", "from history"),
            rows,
            right=(4, 5),
        ),
    )


def _rates(given: Sequence[str]) -> dict[str, Decimal | int | str]:
    rates: dict[str, Decimal | int | str] = dict(DEFAULT_LOSS_RATES)
    for text in given:
        label, sep, value = text.rpartition("=")
        if not sep or not label:
            raise click.BadParameter(f"{text!r}: write BUCKET=PERCENT", param_hint="'--rate'")
        rates[label] = value
    return rates


@report.command("bad-debt")
@_options
@click.option(
    "--rate",
    "rates",
    multiple=True,
    metavar="BUCKET=PERCENT",
    help="Loss rate of an aging bucket, e.g. 'over 90=75' (defaults: "
    + ", ".join(f"{k} {v}%" for k, v in DEFAULT_LOSS_RATES.items())
    + ").",
)
def bad_debt_report(
    request: _Request,
    *,
    rates: tuple[str, ...],
) -> None:
    """Expected losses: each aging bucket times its loss rate."""
    currency = request.currency
    day = request.as_of
    with request.reports() as reports:
        found = reports.bad_debt_forecast(_rates(rates), day)
    rows = tuple(
        (line.label, _plain(line.exposure), f"{line.loss_rate:f} %", _plain(line.expected_loss))
        for line in found.lines
        if line.currency == currency
    )
    if currency in found.currencies:
        rows += (("total", "", "", _plain(found.total(currency))),)
    request.emit(
        Report(
            f"Bad-debt forecast as of {day} ({currency})",
            ("bucket", "open", "loss rate", "expected loss"),
            rows,
            right=(1, 2, 3),
        ),
    )


@report.command("statement")
@_options
@_FROM
@click.argument("customer")
def statement_report(
    request: _Request,
    *,
    start: str | None,
    customer: str,
) -> None:
    """A customer's statement of account: opening balance, movements, closing balance."""
    period = _period(start, request.as_of)
    with request.reports() as reports:
        found = reports.statement(customer, period)
    rows = [("", "opening balance", "", "", "", _plain(found.opening_balance))]
    rows += [
        (
            f"{entry.line.on}",
            entry.line.kind.value.replace("_", " "),
            entry.line.reference,
            _plain(entry.line.debit) if entry.line.debit.amount else "",
            _plain(entry.line.credit) if entry.line.credit.amount else "",
            _plain(entry.balance),
        )
        for entry in found.entries
    ]
    rows.append(("", "closing balance", "", "", "", _plain(found.closing_balance)))
    request.emit(
        Report(
            f"Statement of {customer}, {period.start} to {period.end} ({found.currency})",
            ("date", "what", "reference", "debit", "credit", "balance"),
            tuple(rows),
            right=(3, 4, 5),
        ),
    )


@report.command("trial-balance")
@_options
def trial_balance_report(request: _Request) -> None:
    """The ledger's accounts: debits, credits and balance (--as-of is not used)."""
    currency = request.currency
    with request.reports() as reports:
        trial = reports.trial_balance()
    rows = tuple(
        (f"{r.account} {r.name}", _plain(r.debit), _plain(r.credit), _plain(r.balance))
        for r in trial.rows
        if r.currency == currency
    )
    if currency in trial.currencies:
        debit, credit = trial.totals(currency)
        rows += (("total", _plain(debit), _plain(credit), ""),)
    request.emit(
        Report(
            f"Trial balance ({currency})",
            ("account", "debit", "credit", "balance"),
            rows,
            right=(1, 2, 3),
        ),
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d2330; }}
h1 {{ font-size: 1.5rem; }} h2 {{ font-size: 1.15rem; margin-top: 2rem; }}
table {{ border-collapse: collapse; }} td, th {{ padding: .2rem .8rem; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }} th {{ border-bottom: 1px solid #999; }}
svg {{ max-width: 100%; height: auto; }} p.note {{ color: #555; font-size: .9rem; }}
</style>
</head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


def _html_table(found: Report) -> str:
    from html import escape  # noqa: PLC0415

    head = "".join(f"<th>{escape(c)}</th>" for c in found.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in found.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@report.command("html")
@click.option("--db", metavar="PATH_OR_URL", help="Read the books in this database.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML configuration naming the store (instead of --db).",
)
@click.option("--as-of", "as_of", metavar="DATE", help="The business date (default: today).")
@click.option("--currency", default="EUR", show_default=True, help="The currency.")
@click.option(
    "--months", type=click.IntRange(1, 60), default=12, show_default=True, help="DSO history."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="Write the page here.",
)
def html_report(
    *,
    db: str | None,
    config_path: Path | None,
    as_of: str | None,
    currency: str,
    months: int,
    out: Path,
) -> None:
    """One self-contained HTML page: key figures, the aging, DSO over time and the forecast.

    The charts are inline SVG, so the page needs nothing else to show (needs the 'charts'
    extra, matplotlib).
    """
    from o2c.cli import charts  # noqa: PLC0415  (matplotlib, only when asked)

    day = _day(as_of, "'--as-of'")
    first = (day.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    with _reports(db, config_path) as reports:
        aging_found = reports.aging(day)
        trend = reports.monthly_dso(currency, first, day)
        weeks = reports.predicted_cash(day, 13)
        late = reports.likely_late(day)
        quarter = Period(day - timedelta(days=89), day)
        figures = (
            ("DSO, last 90 days", _figure(reports.dso(quarter, currency), " days")),
            ("DSO, count-back", _figure(reports.count_back_dso(currency, day), " days")),
            ("CEI, last 90 days", _figure(reports.cei(quarter, currency), " %")),
            (
                "ADD, last 90 days",
                _figure(reports.average_days_delinquent(quarter, currency), " days"),
            ),
        )
    try:
        pictures = (
            charts.aging_chart(aging_found, currency),
            charts.dso_chart(trend, currency),
            charts.forecast_chart(weeks, currency, day),
        )
    except charts.ChartsUnavailable as error:
        raise click.ClickException(str(error)) from error
    key = Report("Key figures", ("measure", "value"), figures)
    worklist = Report(
        "Likely late",
        ("item", "customer", "due", "expected", "open"),
        tuple(
            (p.item_id, p.customer_id, f"{p.due_date}", f"{p.expected_on}", _plain(p.open))
            for p in late
            if p.open.currency.code == currency
        ),
    )
    sections = [
        "<h2>Key figures</h2>" + _html_table(key),
        "<h2>Aging</h2>" + pictures[0],
        "<h2>DSO by month</h2>" + pictures[1],
        "<h2>Cash forecast</h2>"
        + pictures[2]
        + '<p class="note">The band runs from every item paid at its 90th percentile date '
        "(if late) to every item paid at its 10th (if early), as learned from each customer's "
        "payment history.</p>",
        "<h2>Likely late</h2>"
        + (_html_table(worklist) if worklist.rows else "<p>No item is expected to be late.</p>"),
    ]
    title = f"Receivables as of {day.isoformat()} ({currency})"
    out.write_text(_PAGE.format(title=title, body="\n".join(sections)), encoding="utf-8")
    click.echo(f"wrote {out}", err=True)
