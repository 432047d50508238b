"""``o2c report``: the services' figures over stored books, as tables, JSON and CSV, and a page."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import o2c
from o2c.cli.app import EXIT_USAGE, cli
from o2c.domain.reporting import Period

AS_OF = "2026-12-31"


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo's books in a SQLite file, written once for the module."""
    path = tmp_path_factory.mktemp("report") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(path)])
    assert result.exit_code == 0, result.output
    return str(path)


@contextmanager
def services(path: str) -> Iterator[o2c.Services]:
    config: dict[str, Any] = {
        "adapters": {"persistence": {"use": "sql", "options": {"url": path}}, "ledger": "sql"},
        "plugins": {"entry_points": False},
    }
    with o2c.bootstrap(config) as app:
        yield app.services


def report(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["report", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_aging_is_the_services_aging(books: str) -> None:
    found = report("aging", "--db", books, "--as-of", AS_OF)
    with services(books) as opened:
        expected = opened.reports.aging(date.fromisoformat(AS_OF))
    (brickworks, total) = found["rows"]
    assert brickworks["customer"] == "BRICKWORKS"
    assert Decimal(total["total"]) == expected.total_row("EUR").total.amount
    assert Decimal(brickworks["1-30"]) == Decimal("3491.46")


def test_dso_cei_and_add_are_the_services_figures(books: str) -> None:
    period = Period(date(2026, 11, 1), date.fromisoformat(AS_OF))
    with services(books) as opened:
        reports = opened.reports
        dso = report("dso", "--db", books, "--as-of", AS_OF, "--from", "2026-11-01")["rows"]
        assert dso[0]["days"] == f"{reports.dso(period, 'EUR'):f} days"
        assert dso[1]["measure"] == "count-back"
        assert [row["period"] for row in dso[2:]] == ["2026-11", "2026-12"]
        cei = report("cei", "--db", books, "--as-of", AS_OF, "--from", "2026-11-01")["rows"]
        assert cei == [{"period": "2026-11-01 to 2026-12-31", "CEI": "78.15 %"}]
        add = report("add", "--db", books, "--as-of", AS_OF, "--from", "2026-11-01")["rows"]
        assert add[0]["ADD"] == f"{reports.average_days_delinquent(period, 'EUR'):f} days"


def test_the_forecast_spreads_exactly_what_is_open(books: str) -> None:
    weeks = report("forecast", "--db", books, "--as-of", AS_OF, "--weeks", "26")["rows"]
    for column in ("expected", "if early", "if late"):
        assert sum(Decimal(w[column]) for w in weeks) == Decimal("3527.98")


def test_bad_debt_takes_rates_per_bucket(books: str) -> None:
    rows = report("bad-debt", "--db", books, "--as-of", AS_OF, "--rate", "1-30=10")["rows"]
    by_bucket = {row["bucket"]: row for row in rows}
    assert by_bucket["1-30"]["expected loss"] == "349.15"  # 10 % of 3,491.46, half up
    assert by_bucket["total"]["expected loss"] == "349.52"  # plus 1 % of 36.52


def test_the_statement_runs_from_opening_to_closing_balance(books: str) -> None:
    rows = report(
        "statement", "BRICKWORKS", "--db", books, "--as-of", AS_OF, "--from", "2026-11-01"
    )["rows"]
    assert rows[0]["what"] == "opening balance"
    assert rows[-1] == {
        "date": "",
        "what": "closing balance",
        "reference": "",
        "debit": "",
        "credit": "",
        "balance": "3527.98",
    }


def test_the_trial_balance_balances(books: str) -> None:
    rows = report("trial-balance", "--db", books)["rows"]
    total = rows[-1]
    assert total["account"] == "total"
    assert total["debit"] == total["credit"] == "40823.50"


def test_csv_has_a_header_and_the_same_rows(books: str) -> None:
    result = CliRunner().invoke(cli, ["report", "aging", "--db", books, "--as-of", AS_OF, "--csv"])
    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == ["customer", "current", "1-30", "31-60", "61-90", "over 90", "total"]
    assert table[-1][-1] == "3527.98"


def test_a_missing_database_is_refused_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.db"
    result = CliRunner().invoke(cli, ["report", "aging", "--db", str(missing)])
    assert result.exit_code == EXIT_USAGE
    assert "no database" in result.output
    assert not missing.exists()


def test_the_html_page_holds_its_charts_inline(books: str, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the charts extra is not installed")
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli, ["report", "html", "--db", books, "--as-of", AS_OF, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") == 3
    assert "Receivables as of 2026-12-31 (EUR)" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from elsewhere
    assert "<?xml" not in page


def test_the_simulation_backtest_beats_the_due_date() -> None:
    result = CliRunner().invoke(
        cli, ["simulate", "--customers", "40", "--days", "240", "--backtest", "--json"]
    )
    assert result.exit_code == 0, result.output
    prediction = json.loads(result.stdout)["prediction"]
    assert prediction["items"] > 10
    model = Decimal(prediction["model_mean_absolute_error_days"])
    naive = Decimal(prediction["naive_mean_absolute_error_days"])
    assert model < naive
    assert Decimal(prediction["interval_coverage_percent"]) >= 60
