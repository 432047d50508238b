"""Every shared bank sample is read, or refused whole with a clear error; camt results agree
with the independent parse results kept beside the samples."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import o2c
from o2c.adapters.statements import read_statements
from o2c.domain.money import Money, to_minor
from o2c.domain.statements import (
    Direction,
    StatementRefused,
    StatementUnbalanced,
    UnreadableStatement,
    check_balances,
    plan_statement,
)

pytest.importorskip("lxml")

CAMT = "camt/genkgo-camt"
MT940 = "mt940/wolph-mt940"
BAI2 = "bai2/moov-bai2"

READ = {
    f"{CAMT}/camt052.v2.xml": 1,
    f"{CAMT}/camt053.v2.all-balance-types.xml": 1,
    f"{CAMT}/camt053.v2.five.decimals.xml": 1,
    f"{CAMT}/camt053.v2.minimal.xml": 1,
    f"{CAMT}/camt053.v2.multi.statement.xml": 2,
    f"{CAMT}/camt053.v3.xml": 1,
    f"{CAMT}/camt053.v4.xml": 1,
    f"{CAMT}/camt053.v8.xml": 1,
    f"{CAMT}/camt054.v2.xml": 1,
    f"{CAMT}/camt054.v4.xml": 1,
    f"{CAMT}/camt054.v8.xml": 1,
    f"{CAMT}/camt054.v8-with-UETR.xml": 1,
    f"{MT940}/cmxl/mt940.sta": 3,
    f"{MT940}/jejik/abnamro.sta": 2,
    f"{MT940}/jejik/ing.sta": 1,
    f"{MT940}/jejik/knab.sta": 2,
    f"{MT940}/jejik/postfinance.sta": 2,
    f"{MT940}/jejik/rabobank-iban.sta": 2,
    f"{MT940}/jejik/triodos.sta": 1,
    f"{MT940}/self-provided/mt942.sta": 1,
    f"{BAI2}/sample1.txt": 2,
    f"{BAI2}/sample2.txt": 5,
    f"{BAI2}/sample3.txt": 15,
}
"""Samples read, with how many statements each holds."""

REFUSED = {
    f"{CAMT}/camt053.v2.wrong.xml": "holds no Stmt",
    f"{MT940}/self-provided/sparkassen.sta": "before the statement's :20:",
    f"{MT940}/self-provided/gv_codes.sta": "cut short",
    f"{BAI2}/errors/sample-parseError.txt": "not a BAI2 file",
    f"{BAI2}/sample4-continuations-newline-delimited.txt": "control total",
    f"{BAI2}/sample5-issue113.txt": "control total",
}
"""Samples refused whole, with what the refusal says (the BAI2 samples 4 and 5 carry account
control totals their amounts do not add up to)."""

UNBALANCED: dict[str, tuple[tuple[str, tuple[str, ...], str], ...]] = {
    # Anonymised snippets: amounts were changed without the balances (the samples' own notes
    # say so). Each statement as the file writes it: opening, every line (debits negative),
    # closing. ING's own totals after its :62F: (4 debits of 25.24, 2 credits of 28.71) agree
    # with its balances, not with its 5 debits and 2 credits.
    f"{MT940}/jejik/abnamro.sta": (
        (
            "3236.28",
            ("-9", "-11.59", "-11.63", "-11.8", "-13.45", "-15.49", "-107", "-141.48"),
            "876.84",
        ),
        ("2876.84", ("-9.49", "-15"), "1849.75"),
    ),
    f"{MT940}/jejik/ing.sta": (
        ("0.00", ("-25.03", "-3.03", "-1.11", "-20.00", "-1.10", "3.68", "1.00"), "3.47"),
    ),
    f"{MT940}/jejik/knab.sta": (
        ("0", ("500",), "500"),
        ("3058.98", ("-7260", "500"), "798.98"),
    ),
    f"{MT940}/jejik/postfinance.sta": (
        ("0", ("79.7", "149.5"), "229.2"),
        ("229.2", ("-79.9", "10.1"), "159.6"),
    ),
    f"{MT940}/jejik/triodos.sta": (("4975.09", ("-15.70", "-700.00"), "4370.79"),),
    # OPBD 1.01 (PRCD 2.02 is not used when OPBD is there; neither adds up), CLBD 4.04.
    f"{CAMT}/camt053.v2.all-balance-types.xml": (("1.01", ("8.85",), "4.04"),),
    # Written 18.150, 8.850 and 27.050: exact cents, and 18.15 + 8.85 is 27.00, not 27.05.
    f"{CAMT}/camt053.v2.five.decimals.xml": (("18.15", ("8.85",), "27.05"),),
}
"""Samples whose balances do not add up, with the arithmetic: import refuses them."""

TWO_CURRENCIES = {
    f"{CAMT}/camt053.v2.minimal.xml",
    f"{CAMT}/camt053.v3.xml",
    f"{CAMT}/camt053.v4.xml",
    f"{CAMT}/camt053.v8.xml",
}
"""Samples of an EUR account (``Acct/Ccy``) whose opening booked balance (``OPBD``) is 18.15 EUR
credit and whose closing booked balance (``CLBD``) is 27.00 SEK debit (their ``OPAV`` is in CHF
and ``CLAV`` in JPY; those are not checked). Import refuses them: the balances cannot be
compared, and even read as EUR, 18.15 + 8.85 is 27.00 credit, not debit."""

NOT_CHECKABLE = set(UNBALANCED) | TWO_CURRENCIES


def test_every_sample_is_listed(bank_vectors: Path) -> None:
    files = {
        str(p.relative_to(bank_vectors))
        for p in bank_vectors.rglob("*")
        if p.suffix in (".xml", ".sta", ".txt")
    }
    assert files == set(READ) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(READ))
def test_a_sample_is_read(bank_vectors: Path, name: str) -> None:
    statements = read_statements(str(bank_vectors / name))
    assert len(statements) == READ[name]
    for statement in statements:
        assert statement.account
        plan = plan_statement(statement)
        assert len(plan) == len(statement.entries)
        assert len({line.line_id for line in plan}) == len(plan)
        if name in NOT_CHECKABLE:
            continue
        check_balances(statement)


@pytest.mark.parametrize("name", sorted(UNBALANCED))
def test_a_sample_that_does_not_reconcile_is_refused_with_the_difference(
    bank_vectors: Path, name: str
) -> None:
    statements = read_statements(str(bank_vectors / name))
    written = UNBALANCED[name]
    assert len(statements) == len(written)
    refusals = 0
    for statement, (opening, lines, closing) in zip(statements, written, strict=True):
        # The reader reads what the file writes...
        assert statement.opening is not None
        assert statement.closing is not None
        assert statement.opening.amount == Decimal(opening)
        assert statement.closing.amount == Decimal(closing)
        assert [e.signed.amount for e in statement.entries] == [Decimal(a) for a in lines]
        # ...and the file's arithmetic is what does not add up.
        difference = Decimal(closing) - (Decimal(opening) + sum(map(Decimal, lines)))
        if difference == 0:
            check_balances(statement)
            continue
        refusals += 1
        with pytest.raises(StatementUnbalanced) as refused:
            check_balances(statement)
        assert refused.value.difference.amount == difference
        assert f"difference {refused.value.difference}" in str(refused.value)
        assert statement.statement_id in str(refused.value)
    assert refusals >= 1


@pytest.mark.parametrize("name", sorted(TWO_CURRENCIES))
def test_a_sample_with_balances_in_two_currencies_is_refused(bank_vectors: Path, name: str) -> None:
    (statement,) = read_statements(str(bank_vectors / name))
    assert statement.currency == "EUR"
    assert statement.opening == Money(Decimal("18.15"), "EUR")
    assert statement.closing == Money(Decimal("-27.00"), "SEK")
    assert [e.signed.amount for e in statement.entries] == [Decimal("8.85")]
    with pytest.raises(UnreadableStatement) as refused:
        check_balances(statement)
    assert "different currencies (EUR, SEK)" in str(refused.value)
    assert refused.value.where == f"statement {statement.statement_id}"


@pytest.mark.parametrize("name", sorted(NOT_CHECKABLE))
def test_import_refuses_a_sample_that_does_not_reconcile_and_applies_nothing(
    bank_vectors: Path, name: str
) -> None:
    app = o2c.bootstrap(load_entry_points=False)
    statements = read_statements(str(bank_vectors / name))
    with pytest.raises(StatementRefused):
        app.services.statements.import_statements(statements, idempotency_key=name)
    assert not app.services.statements.has_run(name)
    # Nothing was kept: taken with the check off, every line is new.
    report = app.services.statements.import_statements(
        statements, idempotency_key=f"{name} unchecked", check_balances=False
    )
    assert report.duplicates == ()


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_broken_sample_is_refused_whole(bank_vectors: Path, name: str) -> None:
    with pytest.raises(UnreadableStatement) as refused:
        read_statements(str(bank_vectors / name))
    assert REFUSED[name] in str(refused.value)
    assert name.rsplit("/", 1)[-1] in str(refused.value)


def _minor(money: dict[str, Any]) -> tuple[int, str]:
    return abs(int(money["getAmount"])), money["getCurrency"]["getCode"]


def _day(value: dict[str, str] | None) -> str | None:
    return value["0"][:10] if value else None


CAMT_JSON = sorted(n for n in READ if n.startswith(CAMT))


@pytest.mark.parametrize("name", CAMT_JSON)
def test_camt_entries_agree_with_the_independent_parse(bank_vectors: Path, name: str) -> None:
    expected = json.loads((bank_vectors / name).with_suffix(".json").read_text())["getEntries"]
    statements = read_statements(str(bank_vectors / name))
    # The independent parse lists the last statement's entries only, and writes an object it
    # has written before as a marker string instead of again.
    entries = statements[-1].entries
    assert len(entries) == len(expected)
    for entry, theirs in zip(entries, expected, strict=True):
        assert (to_minor(entry.amount), entry.amount.currency.code) == _minor(theirs["getAmount"])
        indicator = "DBIT" if entry.direction is Direction.DEBIT else "CRDT"
        assert indicator == theirs["getCreditDebitIndicator"]
        booked = entry.booking_date.isoformat() if entry.booking_date else None
        valued = entry.value_date.isoformat() if entry.value_date else None
        if _day(theirs["getBookingDate"]) is not None:
            assert booked == _day(theirs["getBookingDate"])
        assert valued == _day(theirs["getValueDate"])
        assert entry.bank_reference == (theirs["getAccountServicerReference"] or "")
        assert entry.reversal == bool(theirs.get("getReversalIndicator"))
        listed = theirs.get("getTransactionDetails") or []
        if any(isinstance(d, dict) for d in listed):
            assert len(entry.transactions) == len(listed)
        else:
            listed = [theirs["getTransactionDetail"]]
        for mine, their in zip(entry.transactions, listed, strict=False):
            if not isinstance(their, dict):
                continue
            refs = their.get("getReference") or {}
            assert mine.end_to_end_id == (refs.get("getEndToEndId") or "")
            if their.get("getAmount"):
                assert mine.amount is not None
                assert (to_minor(mine.amount), mine.amount.currency.code) == _minor(
                    their["getAmount"]
                )


def test_sample_counts(bank_vectors: Path) -> None:
    """What each sample holds, by what o2c makes of its lines (printed with ``-s``)."""
    for name in sorted(READ):
        statements = read_statements(str(bank_vectors / name))
        kinds: Counter[str] = Counter()
        for statement in statements:
            kinds.update(line.kind.value for line in plan_statement(statement))
        entries = sum(len(s.entries) for s in statements)
        balanced = "refused: balances" if name in NOT_CHECKABLE else "balanced"
        print(f"{name}: {len(statements)} statements, {entries} entries, {balanced}, {dict(kinds)}")
        assert sum(kinds.values()) == entries


def test_decimal_text_is_exact(bank_vectors: Path) -> None:
    statements = read_statements(str(bank_vectors / f"{CAMT}/camt053.v2.five.decimals.xml"))
    # Written 18.150 and 8.850: trailing zeros are exact cents.
    assert statements[0].opening is not None
    assert statements[0].opening.amount == Decimal("18.15")


@pytest.mark.parametrize("name", sorted(READ))
def test_every_readable_sample_imports(bank_vectors: Path, name: str) -> None:
    """Into empty books, balances checked (skipped only for the samples that do not reconcile,
    to show every line of them is read and applied once)."""
    app = o2c.bootstrap(load_entry_points=False)
    statements = read_statements(str(bank_vectors / name))
    report = app.services.statements.import_statements(
        statements, idempotency_key=name, check_balances=name not in NOT_CHECKABLE
    )
    applied = len(report.queued) + len(report.outgoing) + len(report.fees) + len(report.not_booked)
    assert applied >= sum(len(s.entries) for s in statements)
    again = app.services.statements.import_statements(
        statements, idempotency_key=f"{name} again", check_balances=False
    )
    assert again.queued == ()
    assert len(again.duplicates) == sum(len(s.entries) for s in statements) - len(again.not_booked)
