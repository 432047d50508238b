"""``o2c demo`` tells the whole cycle deterministically; ``o2c simulate`` is repeatable per seed."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from o2c.cli.app import cli
from o2c.cli.demo import STEPS
from o2c.cli.simulate import HABITS


def test_the_demo_shows_every_step_in_order() -> None:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    positions = [result.output.find(f"Step {n}. {title}") for n, title in enumerate(STEPS, 1)]
    assert all(position >= 0 for position in positions), positions
    assert positions == sorted(positions)


def test_the_demo_walks_through_the_story() -> None:
    output = CliRunner().invoke(cli, ["demo"]).output
    assert "credit.first_time_customer" in output  # the new customer's credit review
    assert "back-ordered" in output  # one line could not be reserved in full
    assert "delivered" in output  # tracking
    assert "2% until" in output  # the invoice on 2/10 NET 30
    assert "captured" in output  # the card payment
    assert "fuzzy reference" in output  # the transfer with a typo in its reference
    assert "FEE-L2" in output  # the second dunning level's fee
    assert "INT-L2" in output  # ... and its interest
    assert "credit_hold" in output  # the late payer's next order is held


def test_the_demo_ends_with_a_balanced_trial_balance_and_the_aging() -> None:
    output = CliRunner().invoke(cli, ["demo"]).output
    assert "The trial balance is balanced" in output
    total = re.search(r"^\s*total EUR\s+([\d,.]+) EUR\s+([\d,.]+) EUR", output, re.MULTILINE)
    assert total is not None
    assert total.group(1) == total.group(2)
    assert "Aging as of 2026-12-31" in output


@pytest.mark.parametrize("columns", [80, 100, 200])
def test_the_demo_fits_the_terminal_without_cutting_ids_or_amounts(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = CliRunner().invoke(cli, ["demo"]).output.splitlines()
    assert max(map(len, lines)) == min(columns, 100)
    assert not [line for line in lines if "…" in line]
    # An amount split over two lines would leave its currency code alone on the next one.
    assert not [line for line in lines if re.fullmatch(r"\s*(EUR\s*)+", line)]
    for ident in ("INV-000003-FEE-L2", "BANK-0002/INV-000004", "credit.first_time_customer"):
        assert ident in "\n".join(lines)


def test_the_demo_prints_the_same_every_time() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["demo"]).output == runner.invoke(cli, ["demo"]).output


def simulate(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["simulate", "--json", *args])
    assert result.exit_code == 0, result.output
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def test_a_seed_gives_the_same_business() -> None:
    first = simulate("--customers", "15", "--days", "60", "--seed", "11")
    assert first == simulate("--customers", "15", "--days", "60", "--seed", "11")
    assert first != simulate("--customers", "15", "--days", "60", "--seed", "12")


def test_the_simulation_reports_the_measures_and_keeps_the_books_balanced() -> None:
    record = simulate("--customers", "20", "--days", "90", "--seed", "5")
    assert record["ledger_balanced"] is True
    assert sum(record["habits"][h] for h in HABITS) == 20
    counts = record["counts"]
    assert counts["orders_placed"] > 0
    assert counts["invoices"] == counts["shipments"]
    assert counts["dunning_notices"] > 0
    assert record["dso_days"] is not None
    assert record["cei_percent"] is not None
    buckets = record["aging"]["buckets"]
    assert list(buckets) == ["current", "1-30", "31-60", "61-90", "over 90"]
    open_total = record["open"]["amount"]
    assert record["aging"]["total"] == open_total


def test_the_simulation_prints_tables_without_json() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--customers", "5", "--days", "20"])
    assert result.exit_code == 0, result.output
    assert "What happened" in result.output
    assert "DSO" in result.output
    assert "Aging as of" in result.output


def test_simulate_refuses_nonsense_sizes() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--customers", "0"])
    assert result.exit_code == 2
    assert "--customers" in result.output
