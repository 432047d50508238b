"""``o2c demo --db``, ``o2c books``, ``o2c db``: books that outlive the process that kept them."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from click.testing import CliRunner, Result

import o2c
from o2c.adapters.sql import head_revision
from o2c.cli.app import EXIT_REFUSED, EXIT_USAGE, cli

AS_OF = "2026-12-31"
"""The demo's last day, the date its books are printed as of."""


def o2c_command(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``o2c`` in a process of its own, on the sources under test."""
    sources = str(Path(o2c.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": sources if not path else f"{sources}{os.pathsep}{path}"}
    return subprocess.run(
        [sys.executable, "-m", "o2c.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def total_line(text: str, title: str) -> list[str]:
    """The amounts on the first ``total`` line after ``title``, commas and currency dropped."""
    after = text[text.index(title) :]
    found = re.search(r"^\s*total\b(.*)$", after, re.MULTILINE)
    assert found is not None, title
    return [n.replace(",", "") for n in re.findall(r"-?[\d,]+\.\d\d", found.group(1))]


def test_the_demo_books_are_read_back_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    demo = o2c_command("demo", "--db", str(path))
    assert demo.returncode == 0, demo.stderr
    books = o2c_command("books", "--db", str(path), "--as-of", AS_OF)
    assert books.returncode == 0, books.stderr
    printed = lines(books.stdout)
    reported = lines(demo.stdout)
    # The demo ends with its books as stored; a new process prints exactly the same.
    start = reported.index(printed[0])
    assert reported[start : start + len(printed)] == printed
    assert "INV-000003" in books.stdout  # Brickworks' forgotten invoice is still open
    # ... and they are the figures the demo's own steps reported.
    assert total_line(books.stdout, f"Aging as of {AS_OF}") == total_line(
        demo.stdout, f"Aging as of {AS_OF}"
    )
    assert total_line(books.stdout, "Trial balance") == total_line(demo.stdout, "Step 10.")
    assert all(len(line) <= 80 for line in printed)


def test_the_demo_refuses_a_database_that_already_holds_books(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "--db", str(path)]).exit_code == 0
    again = runner.invoke(cli, ["demo", "--db", str(path)])
    assert again.exit_code == EXIT_USAGE
    assert "already holds books" in again.output


def one_line_refusal(result: Result, fragment: str) -> None:
    assert result.exit_code == EXIT_REFUSED, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    [message] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert fragment in message


def test_upgrading_an_empty_database_then_its_status(tmp_path: Path) -> None:
    path = str(tmp_path / "books.db")
    runner = CliRunner()
    upgraded = runner.invoke(cli, ["db", "upgrade", "--db", path])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"revision none (empty) -> {head_revision()}" in upgraded.output
    again = runner.invoke(cli, ["db", "upgrade", "--db", path])
    assert f"already at revision {head_revision()}" in again.output
    status = runner.invoke(cli, ["db", "status", "--db", path])
    assert status.exit_code == 0
    assert "up to date" in status.output
    books = runner.invoke(cli, ["books", "--db", path, "--as-of", AS_OF])
    assert books.exit_code == 0, books.output
    assert "(none)" in books.output


def test_a_schema_newer_than_the_code_is_refused_by_every_command(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade", "--db", str(path)]).exit_code == 0
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE o2c_schema SET version_num = '9999'")
    status = runner.invoke(cli, ["db", "status", "--db", str(path)])
    assert status.exit_code == EXIT_REFUSED
    assert "newer than this o2c" in status.output
    for command in (["db", "upgrade"], ["books"], ["demo"]):
        result = runner.invoke(cli, [*command, "--db", str(path)])
        one_line_refusal(result, "newer than this o2c knows")
    with closing(sqlite3.connect(path)) as connection, connection:
        assert connection.execute("SELECT version_num FROM o2c_schema").fetchall() == [("9999",)]


def test_a_database_of_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
    result = CliRunner().invoke(cli, ["db", "upgrade", "--db", str(path)])
    one_line_refusal(result, "another application")


def test_reading_books_that_are_not_there_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    runner = CliRunner()
    for command in (["books"], ["db", "status"]):
        result = runner.invoke(cli, [*command, "--db", str(path)])
        assert result.exit_code == EXIT_USAGE
        assert "no database at" in result.output
    assert not path.exists()


def test_a_server_that_cannot_be_reached_is_one_line_without_the_password() -> None:
    result = CliRunner().invoke(cli, ["books", "--db", "postgresql://ann:secret@127.0.0.1:1/x"])
    one_line_refusal(result, "unreachable")
    assert "secret" not in result.output
