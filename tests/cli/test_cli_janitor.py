"""``o2c janitor``: settles the calls a failure left open in configured books, and reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from o2c.cli.app import cli
from o2c.domain.calls import CallStatus, ExternalCall

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _books_with_an_open_booking(tmp_path: Path) -> tuple[Path, Path]:
    """A SQLite book holding one booking intent whose command never committed."""
    from o2c.adapters.sql import SqlStore  # noqa: PLC0415

    path = tmp_path / "books.db"
    call = ExternalCall(
        "carrier:book:SO-1-SH1", "carrier", "book", "SO-1-SH1", "SO-1", "ship_order:k", AT, AT
    )
    with SqlStore(path) as store, store.unit_of_work() as uow:
        uow.calls.add(call.call_id, call)
        uow.commit()
    config = tmp_path / "o2c.toml"
    config.write_text(
        f'[adapters.persistence]\nuse = "sql"\noptions = {{ url = "{path}" }}\n'
        "[plugins]\nentry_points = false\n",
        encoding="utf-8",
    )
    return path, config


def test_the_janitor_settles_an_open_call_once(tmp_path: Path) -> None:
    path, config = _books_with_an_open_booking(tmp_path)
    result = CliRunner().invoke(cli, ["janitor", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["examined"], report["failed"], report["settled"]) == (1, 1, True)
    again = CliRunner().invoke(cli, ["janitor", "--config", str(config)])
    assert again.exit_code == 0, again.output
    assert "examined: 0" in again.output
    from o2c.adapters.sql import SqlStore  # noqa: PLC0415

    with SqlStore(path) as store, store.unit_of_work() as uow:
        assert uow.calls.get("carrier:book:SO-1-SH1").status is CallStatus.FAILED


def test_a_recent_call_is_left_to_its_command(tmp_path: Path) -> None:
    _, config = _books_with_an_open_booking(tmp_path)
    result = CliRunner().invoke(
        cli, ["janitor", "--config", str(config), "--older-than", "1e8", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["too_recent"] == 1
