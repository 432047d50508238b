"""``o2c demo --json``: the story as data, one record per step, the same on every run."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.table import Table

from o2c.cli.app import cli
from o2c.cli.demo import STEPS, table_record


def run_json(*arguments: str) -> tuple[dict[str, Any], str, str]:
    result = CliRunner().invoke(cli, ["demo", "--json", *arguments])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stdout, result.stderr


@pytest.fixture(scope="module")
def story() -> tuple[dict[str, Any], str, str]:
    return run_json()


def steps_of(story: tuple[dict[str, Any], str, str]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = story[0]["steps"]
    return steps


def test_stdout_is_only_json_with_one_record_per_step(
    story: tuple[dict[str, Any], str, str],
) -> None:
    record, _, _ = story
    assert record["books"] == "memory"
    steps = steps_of(story)
    assert [step["title"] for step in steps] == list(STEPS)
    assert [step["step"] for step in steps] == list(range(1, len(STEPS) + 1))
    dates = [step["date"] for step in steps]
    assert dates[0] == "2026-11-02"
    assert dates == sorted(dates)
    assert all(set(step) == {"step", "title", "date", "note", "tables", "notes"} for step in steps)


def test_the_headings_go_to_stderr_as_progress(story: tuple[dict[str, Any], str, str]) -> None:
    _, stdout, stderr = story
    for number, title in enumerate(STEPS, 1):
        assert f"Step {number}. {title}" in stderr
        assert f"Step {number}. {title}" not in stdout


def test_tables_are_records_and_amounts_are_exact_strings_with_a_currency(
    story: tuple[dict[str, Any], str, str],
) -> None:
    steps = {step["title"]: step for step in steps_of(story)}
    invoices = steps["Invoicing on shipment"]["tables"][0]["rows"]
    assert [row["invoice"] for row in invoices] == [f"INV-00000{n}" for n in range(1, 5)]
    for row in invoices:
        assert row["gross"]["currency"] == "EUR"
        assert Decimal(row["gross"]["amount"]).as_tuple().exponent == -2
    trial = steps["Ledger: trial balance"]["tables"][0]["rows"]
    (total,) = [row for row in trial if row["account"] == "total EUR"]
    assert total["debit"] == total["credit"]
    assert (
        "The trial balance is balanced: debits equal credits."
        in (steps["Ledger: trial balance"]["notes"])
    )
    aging = steps["Receivables aging"]["tables"][0]
    assert aging["title"] == "Aging as of 2026-12-31"
    assert not any("[" in note for step in steps.values() for note in step["notes"])


def test_the_json_is_the_same_on_every_run(story: tuple[dict[str, Any], str, str]) -> None:
    assert run_json()[1] == story[1]


def test_a_table_becomes_rows_keyed_by_its_headings() -> None:
    grid = Table("item", "open", title="[bold]Open[/bold]")
    grid.add_row("INV-1", "1,234.50 EUR")
    grid.add_row("INV-2", "-7 JPY")
    grid.add_row("INV-3", "12.5")
    assert table_record(grid) == {
        "title": "Open",
        "rows": [
            {"item": "INV-1", "open": {"amount": "1234.50", "currency": "EUR"}},
            {"item": "INV-2", "open": {"amount": "-7", "currency": "JPY"}},
            {"item": "INV-3", "open": "12.5"},
        ],
    }


def test_the_json_demo_keeps_its_books_in_a_database(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    path = tmp_path / "demo.db"
    record, _, _ = run_json("--db", str(path))
    assert str(path) in record["books"]
    assert len(record["steps"]) == len(STEPS)
    again = CliRunner().invoke(cli, ["demo", "--json", "--db", str(path)])
    assert again.exit_code != 0
    assert "already holds books" in again.output
