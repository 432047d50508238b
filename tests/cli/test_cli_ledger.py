"""``o2c ledger``: the demo's stored journal exported (bean-check accepts it), summed, closed."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from beancount import loader
from click.testing import CliRunner

from o2c.adapters.exports import read_csv_journal
from o2c.adapters.sql import SqlLedger
from o2c.cli.app import EXIT_REFUSED, EXIT_USAGE, cli


@pytest.fixture(scope="module")
def demo_books(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The books of ``o2c demo --db``, made once for the module."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_bean_check_accepts_the_demo_export(demo_books: Path, tmp_path: Path) -> None:
    target = tmp_path / "demo.beancount"
    code, _, err = run(
        "ledger", "export", "--format", "beancount", "--db", str(demo_books), "-o", str(target)
    )
    assert code == 0
    with SqlLedger(f"sqlite:///{demo_books}") as ledger:
        count = len(ledger)
    assert f"{count} journal entries written" in err
    checked = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    entries, errors, _ = loader.load_file(str(target))
    assert errors == []
    assert sum(1 for e in entries if type(e).__name__ == "Transaction") == count


def test_an_export_of_part_of_the_year_checks_on_its_own(demo_books: Path) -> None:
    code, out, _ = run(
        "ledger",
        "export",
        "--format",
        "beancount",
        "--from",
        "2026-11-12",
        "--to",
        "2026-11-30",
        "--db",
        str(demo_books),
    )
    assert code == 0
    assert "Opening balances" in out
    entries, errors, _ = loader.load_string(out)
    assert errors == []
    dates = {e.date.isoformat() for e in entries if type(e).__name__ == "Transaction"}
    assert min(dates) >= "2026-11-11"
    assert max(dates) <= "2026-11-30"


def test_the_csv_export_reads_back_into_the_stored_journal(demo_books: Path) -> None:
    code, out, _ = run("ledger", "export", "--format", "csv", "--db", str(demo_books))
    assert code == 0
    with SqlLedger(f"sqlite:///{demo_books}") as ledger:
        assert list(read_csv_journal(io.StringIO(out, newline=""))) == list(ledger.entries())


def test_the_trial_balance_fits_80_columns_and_balances(demo_books: Path) -> None:
    code, out, _ = run("ledger", "trial-balance", "--db", str(demo_books))
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "1200 Accounts receivable" in out
    total = next(line for line in out.splitlines() if line.strip().startswith("total"))
    numbers = total.split()
    assert numbers[2] == numbers[3]
    assert numbers[4] == "0.00"
    code, part, _ = run(
        "ledger",
        "trial-balance",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-31",
        "--db",
        str(demo_books),
    )
    assert code == 0
    assert "2026-12-01 to 2026-12-31" in part
    assert "Dunning fee income" in part
    assert "Revenue" not in part


def test_closing_a_period_checks_the_books_and_then_refuses_postings(
    demo_books: Path, tmp_path: Path
) -> None:
    books = tmp_path / "books.db"
    books.write_bytes(demo_books.read_bytes())
    code, out, _ = run("ledger", "close", "2026-11", "--db", str(books))
    assert code == 0
    assert "checks passed" in out
    assert "period 2026-11 closed" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    with SqlLedger(f"sqlite:///{books}") as ledger:
        assert [p.name for p in ledger.periods().closed] == ["2026-11"]


def test_mistakes_are_one_line_messages(demo_books: Path, tmp_path: Path) -> None:
    assert run("ledger", "close", "November", "--db", str(demo_books))[0] == EXIT_REFUSED
    missing = str(tmp_path / "missing.db")
    assert run("ledger", "trial-balance", "--db", missing)[0] == EXIT_USAGE
    code, _, err = run(
        "ledger",
        "export",
        "--format",
        "csv",
        "--from",
        "2026-12-01",
        "--to",
        "2026-11-01",
        "--db",
        str(demo_books),
    )
    assert code == EXIT_USAGE
    assert "--to is before --from" in err
    assert run("ledger", "export", "--format", "xlsx", "--db", str(demo_books))[0] == EXIT_USAGE
