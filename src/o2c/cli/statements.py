"""``o2c statements import``: a bank file into the books, and what became of its lines.

The file is read whole first (a refused file changes nothing), then every statement in it is
imported in one command under a key derived from the file's content: importing the same file
again changes nothing and says so. Progress goes to standard error, the summary to standard
output, at 80 columns.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

from o2c.adapters.statements import read_statements
from o2c.adapters.statements.delimited import CsvMapping, SignConvention
from o2c.cli import render
from o2c.domain.errors import InvalidInput
from o2c.domain.money import Money
from o2c.ports.statements import StatementFormat
from o2c.services import Services
from o2c.services.statements import StatementReport

__all__ = ["STATEMENTS_WIDTH", "csv_mapping", "import_file", "print_report"]

STATEMENTS_WIDTH = 80
"""The summary prints at this width everywhere."""

_BIG = 1024 * 1024
"""Files from this size on show a progress bar while they are read."""

_ALWAYS = 4
_OUTCOMES = (
    ("matched", "matched"),
    ("partly matched", "partly matched"),
    ("on account", "on account"),
    ("queued", "queued for review"),
    ("reversed", "receipts reversed (returns)"),
    ("unmatched return", "returns of unknown receipts"),
    ("bank fee", "bank fees posted"),
    ("outgoing", "outgoing payments (not applied)"),
    ("returned outgoing", "outgoing payments returned"),
    ("not booked", "not booked yet (skipped)"),
    ("duplicate", "imported before (skipped)"),
)


def csv_mapping(path: Path) -> CsvMapping:
    """A :class:`CsvMapping` from a TOML file of its fields (``sign = "split"`` and so on)."""
    try:
        fields = tomllib.loads(path.read_text(encoding="utf-8"))
        if "sign" in fields:
            fields["sign"] = SignConvention(fields["sign"])
        for name in ("credit_marks", "charge_codes"):
            if name in fields:
                fields[name] = tuple(fields[name])
        return CsvMapping(**fields)
    except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError) as error:
        raise InvalidInput(field="CSV mapping", value=str(path), reason=str(error)) from error


@contextmanager
def _progress(errors: Console, path: Path) -> Iterator[Progress | None]:
    if path.stat().st_size < _BIG:
        yield None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=errors,
        transient=True,
    )
    with bar:
        yield bar


def import_file(
    services: Services,
    path: Path,
    file_format: StatementFormat,
    *,
    errors: Console,
    mapping: CsvMapping | None = None,
    check_balances: bool = True,
) -> tuple[StatementReport, bool]:
    """Read and import the file; returns the report and whether it was imported before."""
    with _progress(errors, path) as bar:
        if bar is None:
            statements = read_statements(str(path), file_format, csv_mapping=mapping)
        else:
            task = bar.add_task(f"reading {path.name}", total=path.stat().st_size)
            statements = read_statements(
                str(path),
                file_format,
                csv_mapping=mapping,
                progress=lambda done, size: bar.update(task, completed=done, total=size),
            )
            bar.update(task, description="applying")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        key = f"file:{digest}"
        before = services.statements.has_run(key)
        report = services.statements.import_statements(
            statements, idempotency_key=key, check_balances=check_balances
        )
    return report, before


def print_report(console: Console, path: Path, report: StatementReport, before: bool) -> None:
    """The counts and totals of each outcome."""
    console.print(f"[bold]{path.name}[/bold]: {len(report.statements)} statement(s)")
    if before:
        console.print("This file was imported before: nothing was applied again.")
    grid = render.table("Lines", "outcome", "count", "total", right=(1, 2))
    sums: dict[str, list[tuple[int, Money | None]]] = {}
    for line in report.totals:
        sums.setdefault(line.outcome, []).append((line.count, line.total))
    for number, (outcome, label) in enumerate(_OUTCOMES):
        # The four outcomes of cash application always show; the others when they happened.
        rows = sums.get(outcome) or ([(0, None)] if number < _ALWAYS else [])
        for count, total in rows:
            grid.add_row(label, str(count), render.amount_text(total) if total else "")
    console.print(grid)
