"""Hostile and broken files are refused whole, with an error naming the file, the place and
what was wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from bank_samples import ROOT, shared
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.adapters.statements import MissingBankExtra, StatementFiles, read_statements
from o2c.adapters.statements.camt import render_camt053
from o2c.domain.money import Money, from_minor
from o2c.domain.statements import (
    BankStatement,
    BankTransactionCode,
    Direction,
    StatementEntry,
    StatementKind,
    Transaction,
    UnreadableStatement,
)
from o2c.ports.statements import StatementFormat, StatementLimits, StatementSource

pytest.importorskip("lxml")

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def _entry(position: int, cents: int, *, remittance: str = "INV-1") -> StatementEntry:
    return StatementEntry(
        position=position,
        amount=from_minor(cents, "EUR"),
        direction=Direction.CREDIT,
        booking_date=date(2026, 3, 2),
        value_date=date(2026, 3, 2),
        bank_reference=f"B-{position}",
        code=BankTransactionCode("PMNT", "RCDT", "ESCT"),
        transactions=(
            Transaction(
                payer_name="Customer <One> & Sons",
                payer_account="DE89370400440532013000",
                remittance=remittance,
                end_to_end_id=f"E2E-{position}",
            ),
        ),
    )


def _statement(*entries: StatementEntry) -> BankStatement:
    total = sum((e.signed for e in entries), Money("0.00", "EUR"))
    return BankStatement(
        source="generated",
        statement_id="S-1",
        account="DE02120300000000202051",
        currency="EUR",
        kind=StatementKind.STATEMENT,
        entries=entries,
        opening=Money("10.00", "EUR"),
        closing=Money("10.00", "EUR") + total,
    )


def _camt(tmp_path: Path, statement: BankStatement, name: str = "s.xml") -> Path:
    path = tmp_path / name
    path.write_text("".join(render_camt053(statement, created=date(2026, 3, 2))))
    return path


def _refused(path: Path, *words: str, limits: StatementLimits | None = None) -> str:
    with pytest.raises(UnreadableStatement) as refused:
        read_statements(str(path), limits=limits)
    message = str(refused.value)
    assert path.name in message
    for word in words:
        assert word in message
    return message


GOOD = (
    f'<Document xmlns="{NS}"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>'
    "</BkToCstmrStmt></Document>"
)


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    laughs = "".join(
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' if n else '<!ENTITY l0 "lol">' for n in range(10)
    )
    path = tmp_path / "laughs.xml"
    path.write_text(f'<?xml version="1.0"?><!DOCTYPE d [{laughs}]>{GOOD.replace("M<", "&l9;<")}')
    # The parser stops the expansion itself, or the DTD is refused once the root is read.
    message = _refused(path)
    assert "DTD" in message or "entity amplification" in message


def test_external_entities_are_refused_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    path = tmp_path / "xxe.xml"
    doc = f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>' + GOOD.replace("M<", "&x;<")
    path.write_text(doc)
    message = _refused(path, "DTD")
    assert "TOP SECRET" not in message


def test_a_dtd_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dtd.xml"
    path.write_text('<!DOCTYPE Document SYSTEM "http://example.invalid/camt.dtd">' + GOOD)
    _refused(path, "DTD")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    with path.open("wb") as handle:  # sparse: 200 MB on paper, nothing on disk
        handle.truncate(200 * 1024 * 1024)
    _refused(path, "bytes allowed")
    small = _camt(tmp_path, _statement(_entry(1, 100)))
    _refused(small, "allowed", limits=StatementLimits(max_bytes=100))


def test_the_wrong_namespace_or_message_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pain.xml"
    path.write_text(GOOD.replace("camt.053.001.02", "pain.001.001.03"))
    _refused(path, "namespace", "pain.001.001.03")
    report = tmp_path / "report-in-statement.xml"
    report.write_text(GOOD.replace("BkToCstmrStmt", "BkToCstmrAcctRpt"))
    _refused(report, "BkToCstmrAcctRpt is not a BkToCstmrStmt message")
    version = tmp_path / "v12.xml"
    version.write_text(GOOD.replace("001.02", "001.12"))
    _refused(version, "versions 02 to 08")


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    whole = _camt(tmp_path, _statement(_entry(1, 100), _entry(2, 250))).read_bytes()
    path = tmp_path / "cut.xml"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    _refused(path, "not well-formed")


def test_a_wrong_encoding_is_refused(tmp_path: Path) -> None:
    text = "".join(
        render_camt053(_statement(_entry(1, 100, remittance="Müller")), created=date(2026, 3, 2))
    )
    path = tmp_path / "latin.xml"
    path.write_bytes(text.encode("latin-1"))  # declared UTF-8
    _refused(path, "not well-formed")
    mt940 = tmp_path / "latin.sta"
    mt940.write_bytes(
        ":20:X\n:25:DE1\n:60F:C260302EUR0,00\n:61:260302C1,00NTRFNONREF\n:86:Müller\n:62F:C260302EUR1,00\n".encode(
            "latin-1"
        )
    )
    _refused(mt940, "not utf-8 text", "line 5")


def test_more_decimals_than_the_currency_has_are_refused(tmp_path: Path) -> None:
    path = _camt(tmp_path, _statement(_entry(1, 100)))
    path.write_text(path.read_text().replace('Ccy="EUR">1.00<', 'Ccy="EUR">1.005<', 1))
    _refused(path, "entry 1", "more decimals than EUR allows")


def test_generated_statements_are_valid_camt(tmp_path: Path) -> None:
    validator = shared() / "validators" / "validate_camt.py"
    if not validator.is_file():
        pytest.skip("the shared camt validator is not here")
    path = _camt(tmp_path, _statement(_entry(1, 100), _entry(2, 99_999)))
    done = subprocess.run(
        [sys.executable, str(validator), str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=8))
def test_a_written_statement_reads_back_the_same(
    tmp_path_factory: pytest.TempPathFactory, cents: list[int]
) -> None:
    statement = _statement(*(_entry(n, c) for n, c in enumerate(cents, start=1)))
    path = _camt(tmp_path_factory.mktemp("roundtrip"), statement)
    (read,) = StatementFiles(StatementFormat.CAMT).read(str(path))
    assert read.entries == statement.entries
    assert (read.opening, read.closing) == (statement.opening, statement.closing)


def test_the_files_reader_is_a_statement_source() -> None:
    assert isinstance(StatementFiles(), StatementSource)


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("hello\n")
    _refused(path, "not camt XML, MT940 or BAI2")
    assert os.path.exists(path)


@pytest.mark.parametrize(
    ("page", "name"),
    [("bank-statements.md", "CAMT053"), ("how-to/import-camt.md", "CAMT054")],
)
def test_the_documented_camt_samples_are_valid(tmp_path: Path, page: str, name: str) -> None:
    validator = shared() / "validators" / "validate_camt.py"
    if not validator.is_file():
        pytest.skip("the shared camt validator is not here")
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    sample = text.split(f'{name} = """', 1)[1].split('"""', 1)[0]
    path = tmp_path / "sample.xml"
    path.write_text(sample, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(validator), str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_without_lxml_a_camt_file_asks_for_the_bank_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _camt(tmp_path, _statement(_entry(1, 100)))
    monkeypatch.setitem(sys.modules, "lxml", None)
    with pytest.raises(MissingBankExtra) as refused:
        read_statements(str(path))
    assert "o2c[bank]" in str(refused.value)
