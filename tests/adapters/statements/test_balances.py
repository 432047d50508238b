"""Which balances a statement is checked with: booked balances only, the right ones for each
page of a long statement, and never a statement-level note taken for a line's details."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from o2c.adapters.statements import read_statements
from o2c.domain.statements import StatementUnbalanced, check_balances

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def _bal(code: str, amount: str, mark: str = "CRDT") -> str:
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{amount}</Amt>'
        f"<CdtDbtInd>{mark}</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>"
    )


def _camt(tmp_path: Path, balances: str, credit: str = "10.00") -> Path:
    entry = (
        f'<Ntry><Amt Ccy="EUR">{credit}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>B-1</AcctSvcrRef></Ntry>"
    )
    path = tmp_path / "page.xml"
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{NS}"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>M-1</MsgId><CreDtTm>2026-03-02T18:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>S-1</Id><CreDtTm>2026-03-02T18:00:00</CreDtTm>"
        "<Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{balances}{entry}</Stmt></BkToCstmrStmt></Document>",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("balances", "opening", "closing"),
    [
        # Available, forward and information balances are never the booked ones.
        (
            _bal("OPAV", "1.00")
            + _bal("OPBD", "100.00")
            + _bal("ITAV", "2.00")
            + _bal("CLAV", "3.00")
            + _bal("FWAV", "4.00")
            + _bal("CLBD", "110.00"),
            "100.00",
            "110.00",
        ),
        # OPBD before PRCD, whichever comes first.
        (
            _bal("PRCD", "99.00") + _bal("OPBD", "100.00") + _bal("CLBD", "110.00"),
            "100.00",
            "110.00",
        ),
        (_bal("PRCD", "100.00") + _bal("CLBD", "110.00"), "100.00", "110.00"),
        # Pages: first (OPBD, ITBD), middle (ITBD, ITBD), last (ITBD, CLBD).
        (_bal("OPBD", "100.00") + _bal("ITBD", "110.00"), "100.00", "110.00"),
        (_bal("ITBD", "100.00") + _bal("ITBD", "110.00"), "100.00", "110.00"),
        (_bal("ITBD", "100.00") + _bal("CLBD", "110.00"), "100.00", "110.00"),
        # An interim balance beside a full pair is not used.
        (
            _bal("OPBD", "100.00") + _bal("ITBD", "7.00") + _bal("CLBD", "110.00"),
            "100.00",
            "110.00",
        ),
        # Overdrawn: a debit balance is negative.
        (_bal("OPBD", "15.00", "DBIT") + _bal("CLBD", "5.00", "DBIT"), "-15.00", "-5.00"),
    ],
)
def test_camt_booked_balances_are_the_ones_checked(
    tmp_path: Path, balances: str, opening: str, closing: str
) -> None:
    (statement,) = read_statements(str(_camt(tmp_path, balances)))
    assert statement.opening is not None
    assert statement.closing is not None
    assert (statement.opening.amount, statement.closing.amount) == (
        Decimal(opening),
        Decimal(closing),
    )
    check_balances(statement)


def test_a_camt_page_that_does_not_add_up_is_refused_with_the_difference(tmp_path: Path) -> None:
    path = _camt(tmp_path, _bal("ITBD", "100.00") + _bal("ITBD", "111.00"))
    (statement,) = read_statements(str(path))
    with pytest.raises(StatementUnbalanced) as refused:
        check_balances(statement)
    assert refused.value.difference.amount == Decimal("1.00")


def test_an_mt940_statement_note_after_the_closing_balance_is_not_a_lines_details(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ing.sta"
    path.write_text(
        ":20:S-1\n:25:0001234567\n:28C:1\n:60F:C260302EUR0,00\n"
        ":61:260302C1,00NTRFNONREF\n:61:260302D0,25NCHGNONREF\n"
        ":62F:C260302EUR0,75\n:64:C260302EUR0,75\n:65:C260303EUR9,99\n"
        ":86:D000001C000001D0,25C1,00\n-\n",
        encoding="utf-8",
    )
    (statement,) = read_statements(str(path))
    assert [e.first.remittance for e in statement.entries] == ["", ""]
    # The available balances (:64:, :65:) are not the closing balance.
    assert statement.closing is not None
    assert statement.closing.amount == Decimal("0.75")
    check_balances(statement)


def test_mt940_reversal_marks_and_funds_codes(tmp_path: Path) -> None:
    path = tmp_path / "marks.sta"
    # RC reverses a credit (money out), RD a debit (money in); "R" after the mark is a funds
    # code, and the amount may leave out its decimals.
    path.write_text(
        ":20:S-1\n:25:0001234567\n:28C:1/1\n:60M:D260302EUR10,\n"
        ":61:2603020302RC5,00NRTINONREF\n:61:2603020302RDR7,5NTRFNONREF\n"
        ":61:2603020302CR100NTRFNONREF\n:61:2603020302DR2,25NCHGNONREF\n"
        ":62M:C260302EUR90,25\n-\n",
        encoding="utf-8",
    )
    (statement,) = read_statements(str(path))
    assert [e.signed.amount for e in statement.entries] == [
        Decimal("-5.00"),
        Decimal("7.50"),
        Decimal("100.00"),
        Decimal("-2.25"),
    ]
    assert [e.reversal for e in statement.entries] == [True, True, False, False]
    assert statement.opening is not None
    assert statement.opening.amount == Decimal("-10.00")
    check_balances(statement)
