"""``o2c statements import``: a bank file into the books kept in memory or in a database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from o2c.adapters.sql import SqlStore
from o2c.adapters.statements.camt import render_camt053
from o2c.cli.app import EXIT_REFUSED, cli
from o2c.domain.money import Money
from o2c.domain.statements import (
    BankStatement,
    Direction,
    StatementEntry,
    StatementKind,
    Transaction,
)

pytest.importorskip("lxml")


def _camt(path: Path, reference: str, amount: Money) -> Path:
    entry = StatementEntry(
        position=1,
        amount=amount,
        direction=Direction.CREDIT,
        booking_date=date(2026, 12, 31),
        value_date=date(2026, 12, 31),
        bank_reference="BANK-REF-1",
        transactions=(Transaction(payer_name="Brickworks", remittance=reference),),
    )
    statement = BankStatement(
        source="test",
        statement_id="STMT-1",
        account="DE02120300000000202051",
        currency=amount.currency.code,
        kind=StatementKind.STATEMENT,
        entries=(entry,),
        opening=Money("0.00", amount.currency),
        closing=amount,
    )
    path.write_text("".join(render_camt053(statement, created=date(2026, 12, 31))))
    return path


def test_a_statement_pays_an_invoice_in_the_stored_books_once(tmp_path: Path) -> None:
    db = tmp_path / "books.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "--db", str(db)]).exit_code == 0
    store = SqlStore(str(db))
    with store.unit_of_work() as uow:
        item = next(i for i in uow.open_items.open() if i.item_id == "INV-000003")
    store.close()
    path = _camt(tmp_path / "stmt.xml", item.item_id, item.open)

    command = ["statements", "import", str(path), "--db", str(db), "--on", "2026-12-31"]
    first = runner.invoke(cli, command)
    assert first.exit_code == 0, first.output
    assert "matched" in first.output
    matched = next(line for line in first.output.splitlines() if " matched " in f" {line} ")
    assert matched.split()[1] == "1"
    assert max(len(line) for line in first.output.splitlines()) <= 80

    again = runner.invoke(cli, command)
    assert again.exit_code == 0, again.output
    assert "imported before" in again.output
    store = SqlStore(str(db))
    with store.unit_of_work() as uow:
        assert uow.open_items.find("INV-000003").is_settled  # type: ignore[union-attr]
        from_file = [r for r in uow.receipts.values() if r.source_id.endswith("|BANK-REF-1")]
        assert len(from_file) == 1
    store.close()


def test_a_csv_file_is_read_with_its_mapping(tmp_path: Path) -> None:
    data = tmp_path / "export.csv"
    data.write_text(
        "Datum;Betrag;Soll/Haben;Name;Verwendungszweck\n"
        "02.03.2026;1.234,50;H;Kunde Eins;INV-000001\n"
        "03.03.2026;12,00;S;Bank;Kontoführung\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'account = "DE02120300000000202051"\ncurrency = "EUR"\ndelimiter = ";"\n'
        'date_column = "Datum"\ndate_format = "%d.%m.%Y"\namount_column = "Betrag"\n'
        'decimal_comma = true\nsign = "indicator"\nindicator_column = "Soll/Haben"\n'
        'credit_marks = ["H"]\npayer_column = "Name"\nremittance_column = "Verwendungszweck"\n'
    )
    result = CliRunner().invoke(
        cli, ["statements", "import", str(data), "--format", "csv", "--mapping", str(mapping)]
    )
    assert result.exit_code == 0, result.output
    assert "1,234.50" in result.output
    assert "outgoing" in result.output


def test_a_broken_file_is_refused_and_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.sta"
    path.write_text(":20:X\n:25:DE1\n:60F:C260302EUR0,00\n:61:260302C1,00NTRFNONREF\n")
    result = CliRunner().invoke(cli, ["statements", "import", str(path)])
    assert result.exit_code == EXIT_REFUSED
    assert "broken.sta" in result.output
    assert "cut short" in result.output
