"""o2c finds the installed plugin through its entry point and builds the ledger from config."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from o2c_jsonl_ledger import JsonlLedger

import o2c
from o2c import JournalEntry, Posting, Side, money
from o2c.ports.errors import AdapterRejected


def sale(entry_id: str, amount: str) -> JournalEntry:
    value = money(amount, "EUR")
    return JournalEntry(
        entry_id,
        date(2026, 3, 2),
        "sale",
        (Posting("1200", Side.DEBIT, value, party="C-1"), Posting("4000", Side.CREDIT, value)),
    )


def test_bootstrap_finds_the_plugin_by_its_entry_point(tmp_path: Path) -> None:
    journal = tmp_path / "books" / "journal.jsonl"
    config = {"adapters": {"ledger": {"use": "jsonl-ledger", "options": {"path": str(journal)}}}}
    app = o2c.bootstrap(config)
    assert app.chosen["ledger"] == "jsonl-ledger"
    info = {plugin.name: plugin for plugin in app.plugins.plugins()}["jsonl-ledger"]
    assert (info.origin, info.distribution) == ("entry point", "o2c-jsonl-ledger")
    ledger = app.adapters.ledger
    assert isinstance(ledger, JsonlLedger)
    ledger.post_batch([sale("E-1", "10.00")])
    assert journal.read_text(encoding="utf-8").count("\n") == 1


def test_the_plugin_is_left_out_when_denied(tmp_path: Path) -> None:
    config = {"plugins": {"deny": ["jsonl-ledger"]}}
    app = o2c.bootstrap(config)
    assert "jsonl-ledger" not in app.plugins.names()


def test_a_missing_path_is_a_configuration_error() -> None:
    with pytest.raises(o2c.ConfigError, match="path"):
        o2c.bootstrap({"adapters": {"ledger": "jsonl-ledger"}})


def test_an_interrupted_write_is_not_a_posting(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    JsonlLedger(journal).post_batch([sale("E-1", "10.00")])
    with journal.open("ab") as file:
        file.write(b'{"batch": 2, "entries": [{"id": "E-2"')  # the crash came mid-line
    reopened = JsonlLedger(journal)
    assert reopened.balance("1200", "EUR") == money("10.00", "EUR")
    assert reopened.post_batch([sale("E-2", "5.00")]).posted == ("E-2",)
    assert JsonlLedger(journal).balance("1200", "EUR") == money("15.00", "EUR")


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    journal.write_text("not json\n", encoding="utf-8")
    with pytest.raises(AdapterRejected, match="damaged"):
        JsonlLedger(journal)


def test_two_ledgers_on_one_file_see_each_others_batches(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    first, second = JsonlLedger(journal), JsonlLedger(journal)
    first.post_batch([sale("E-1", "10.00")])
    assert second.post_batch([sale("E-1", "10.00")]).already_posted == ("E-1",)
    assert second.balance("1200", "EUR") == money("10.00", "EUR")
