"""``o2c outbox status`` and ``o2c outbox deliver`` on books kept in a SQLite file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

import o2c
from o2c.cli.app import cli


def _books_with_waiting_events(tmp_path: Path) -> tuple[Path, Path]:
    """A SQLite book whose events wait: the broker was down while the command ran."""
    path = tmp_path / "books.db"
    config = tmp_path / "o2c.toml"
    config.write_text(
        "[adapters.persistence]\n"
        'use = "sql"\n'
        f"options = {{ url = {json.dumps(str(path))} }}\n"
        "[adapters.relay]\n"
        'use = "rabbitmq"\n'
        'options = { url = "amqp://guest:guest@127.0.0.1:1/%2F" }\n'
        "[plugins]\n"
        "entry_points = false\n",
        encoding="utf-8",
    )
    with o2c.bootstrap(config) as app:
        app.services.customers.register_customer(
            o2c.Customer("C-1", "Acme", "EUR"), idempotency_key="c-1"
        )
        app.services.customers.approve_credit(
            "C-1",
            o2c.money("100", "EUR"),
            date(2027, 3, 1),
            reviewer="ana",
            reason="known",
            idempotency_key="credit",
        )
    return path, config


def test_status_shows_the_backlog_and_deliver_drains_it(tmp_path: Path) -> None:
    path, config = _books_with_waiting_events(tmp_path)
    runner = CliRunner()

    status = runner.invoke(cli, ["outbox", "status", "--db", str(path), "--json"])
    assert status.exit_code == 0, status.output
    events = json.loads(status.output)["events"]
    assert events["count"] == 3
    assert events["failing"] >= 1
    assert events["oldest_id"] == "approve_credit:credit#1"

    still_down = runner.invoke(cli, ["outbox", "deliver", "--config", str(config), "--now"])
    assert still_down.exit_code == 1
    assert "1 failed; 3 waiting" in still_down.output

    table = runner.invoke(cli, ["outbox", "status", "--db", str(path)])
    assert table.exit_code == 0, table.output
    assert "approve_credit:credit#1" in table.output

    # With the built-in setup (no relay), the plugins are the only destination: all delivered.
    drained = runner.invoke(cli, ["outbox", "deliver", "--db", str(path), "--now", "--json"])
    assert drained.exit_code == 0, drained.output
    report = json.loads(drained.output)
    assert report["events_delivered"] == [f"approve_credit:credit#{n}" for n in (1, 2, 3)]
    assert report["waiting"] == 0
    empty = runner.invoke(cli, ["outbox", "status", "--db", str(path), "--json"])
    assert json.loads(empty.output)["events"]["count"] == 0


def test_config_and_db_together_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "o2c.toml"
    config.write_text("", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["outbox", "status", "--config", str(config), "--db", str(tmp_path / "x.db")]
    )
    assert result.exit_code == 2
    assert "not both" in result.output
