"""The journal exports: CSV lines that read back into the same entries, and Beancount files that
Beancount's own loader and ``bean-check`` accept."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from beancount import loader
from beancount.core import data as beancount_data
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.adapters.exports import (
    COLUMNS,
    BeancountExport,
    CsvJournalExport,
    JournalFileInvalid,
    UnknownExportFormat,
    beancount_account,
    export_formats,
    exporter,
    read_csv_journal,
)
from o2c.adapters.memory import MemoryLedger
from o2c.domain.errors import InvalidInput
from o2c.domain.ledger import AccountRole, ChartOfAccounts, JournalEntry, Ledger
from o2c.domain.money import Money, money
from o2c.domain.posting import AmountLine, PostingRules
from o2c.testing import strategies

RULES = PostingRules()
CHART = RULES.chart


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def csv_text(entries: list[JournalEntry]) -> str:
    out = io.StringIO(newline="")
    assert CsvJournalExport().write(entries, out) == len(entries)
    return out.getvalue()


def as_read_back(entry: JournalEntry) -> JournalEntry:
    """``entry`` as a CSV journal gives it back: empty optional texts read as none."""
    postings = tuple(
        attrs.evolve(p, party=p.party or None, document=p.document or None, memo=p.memo or None)
        for p in entry.postings
    )
    return attrs.evolve(entry, postings=postings)


# --- the registry -------------------------------------------------------------------------------


def test_exporters_are_chosen_by_name() -> None:
    assert export_formats() == ("beancount", "csv")
    assert isinstance(exporter("beancount"), BeancountExport)
    assert isinstance(exporter("csv"), CsvJournalExport)
    with pytest.raises(UnknownExportFormat, match="known: beancount, csv"):
        exporter("xlsx")


# --- CSV ----------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(strategies.journal_batches(CHART, max_size=8))
def test_a_csv_journal_reads_back_into_the_same_entries(entries: list[JournalEntry]) -> None:
    back = list(read_csv_journal(io.StringIO(csv_text(entries), newline="")))
    assert back == [as_read_back(entry) for entry in entries]


def test_the_csv_layout_is_the_documented_one() -> None:
    entry = RULES.invoice_issued(
        "INV-1", "C-7", date(2026, 3, 2), [AmountLine(eur("100.00"))], [AmountLine(eur("19.00"))]
    )
    lines = csv_text([entry]).splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[0].startswith("date,entry_id,account,debit,credit,currency,document,customer")
    assert lines[1].startswith("2026-03-02,INV-1:invoice_issued,1200,119.00,,EUR,INV-1,C-7,")
    assert lines[2].startswith("2026-03-02,INV-1:invoice_issued,4000,,100.00,EUR,,,")
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("date,entry\n", 1, "header"),
        (",".join(COLUMNS) + "\n2026-03-02,E-1,1200,1.00\n", 2, "cells"),
        (
            ",".join(COLUMNS) + "\n2026-03-02,E-1,1200,1.00,1.00,EUR,,,,d,s,[]\n",
            2,
            "not both",
        ),
        (
            ",".join(COLUMNS)
            + "\n2026-03-02,E-1,1200,1.00,,EUR,,,,d,s,[]"
            + "\n2026-03-02,E-1,4000,,2.00,EUR,,,,d,s,[]\n",
            2,
            "debits",
        ),
        (
            ",".join(COLUMNS)
            + "\n2026-03-02,E-1,1200,1.00,,EUR,,,,d,s,[]"
            + "\n2026-03-03,E-1,4000,,1.00,EUR,,,,d,s,[]\n",
            3,
            "disagree",
        ),
        (
            ",".join(COLUMNS)
            + "\n2026-03-02,E-1,1200,1.00,,EUR,,,,d,s,[]"
            + "\n2026-03-02,E-1,4000,,1.00,EUR,,,,d,s,[]"
            + "\n2026-03-02,E-2,1200,1.00,,EUR,,,,d,s,[]"
            + "\n2026-03-02,E-2,4000,,1.00,EUR,,,,d,s,[]"
            + "\n2026-03-02,E-1,1200,1.00,,EUR,,,,d,s,[]\n",
            6,
            "lines apart",
        ),
        (",".join(COLUMNS) + "\n2026-03-02,E-1,1200,1.5x,,EUR,,,,d,s,[]\n", 2, "amount"),
        (
            ",".join(COLUMNS)
            + "\n2026-03-02,E-1,1200,1.00,,EUR,,,,d,s,{}"
            + "\n2026-03-02,E-1,4000,,1.00,EUR,,,,d,s,{}\n",
            2,
            "metadata",
        ),
    ],
)
def test_a_journal_file_that_cannot_be_read_names_the_line(
    text: str, line: int, reason: str
) -> None:
    with pytest.raises(JournalFileInvalid) as raised:
        list(read_csv_journal(io.StringIO(text)))
    assert raised.value.line == line
    assert reason in str(raised.value)


# --- Beancount ----------------------------------------------------------------------------------


def beancount_errors(text: str) -> list[object]:
    _, errors, _ = loader.load_string(text)
    return list(errors)


def cycle() -> list[JournalEntry]:
    """Two months of the cycle: invoices, a receipt, a card receipt and its payout, a reversal."""
    march, april = date(2026, 3, 2), date(2026, 4, 9)
    return [
        RULES.invoice_issued(
            "INV-1",
            "C-1",
            march,
            [AmountLine(eur("100.00"))],
            [AmountLine(eur("19.00"), memo="S 19%")],
        ),
        RULES.invoice_issued("INV-2", "C-2", march, [AmountLine(money("1000", "JPY"))]),
        RULES.receipt_recorded("R-1", april, eur("119.00"), customer_id="C-1"),
        RULES.receipt_applied("R-1", "INV-1", "C-1", april, eur("119.00")),
        RULES.receipt_recorded(
            "R-2", april, eur("50.00"), customer_id="C-3", via=AccountRole.GATEWAY_CLEARING
        ),
        RULES.gateway_settled("PO-1", april, eur("50.00"), eur("1.45")),
    ]


def test_bean_check_accepts_an_export_of_the_cycle(tmp_path: Path) -> None:
    out = io.StringIO()
    BeancountExport().write(cycle(), out, chart=CHART)
    text = out.getvalue()
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    transactions = [e for e in entries if isinstance(e, beancount_data.Transaction)]
    assert len(transactions) == len(cycle())
    opens = {e.account for e in entries if isinstance(e, beancount_data.Open)}
    assert len(opens) == len(CHART.accounts)
    invoice = next(t for t in transactions if t.meta.get("o2c-entry") == "INV-1:invoice_issued")
    assert invoice.meta["o2c-source"] == "INV-1"
    assert invoice.meta["customer"] == "C-1"
    assert "INV-1" in invoice.links
    receivable = next(p for p in invoice.postings if p.account.startswith("Assets:1200"))
    assert receivable.units.number == Decimal("119.00")
    assert receivable.meta["document"] == "INV-1"
    balances = [e for e in entries if isinstance(e, beancount_data.Balance)]
    assert {(b.date, b.amount.currency, b.amount.number) for b in balances} == {
        (date(2026, 4, 1), "EUR", Decimal("119.00")),
        (date(2026, 4, 1), "JPY", Decimal("1000")),
        (date(2026, 5, 1), "EUR", Decimal("0.00")),
        (date(2026, 5, 1), "JPY", Decimal("1000")),
    }
    path = tmp_path / "books.beancount"
    path.write_text(text, encoding="utf-8")
    checked = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_wrong_receivables_balance_fails_the_check() -> None:
    """The balance assertions are real: a journal that lost an entry no longer checks."""
    out = io.StringIO()
    BeancountExport().write(cycle(), out, chart=CHART)
    tampered = out.getvalue().replace(
        "2026-04-01 balance Assets:1200-AccountsReceivable  119.00 EUR", ""
    )
    assert beancount_errors(tampered) == []
    wrong = out.getvalue().replace(
        "balance Assets:1200-AccountsReceivable  119.00 EUR",
        "balance Assets:1200-AccountsReceivable  118.00 EUR",
    )
    assert beancount_errors(wrong)


def test_an_export_from_a_later_day_opens_with_the_balances_before_it() -> None:
    ledger = MemoryLedger()
    ledger.post_batch(cycle())
    start = date(2026, 4, 1)
    opening = ledger.trial_balance_between(None, date(2026, 3, 31))
    out = io.StringIO()
    written = BeancountExport().write(
        ledger.entries(start), out, chart=CHART, opening=opening, opening_date=date(2026, 3, 31)
    )
    assert written == 4
    entries, errors, _ = loader.load_string(out.getvalue())
    assert errors == []
    opening_entry = next(
        e
        for e in entries
        if isinstance(e, beancount_data.Transaction) and not e.meta.get("o2c-entry")
    )
    assert opening_entry.date == date(2026, 3, 31)


@settings(max_examples=25, deadline=None)
@given(strategies.journal_batches(CHART, max_size=8))
def test_any_journal_exports_to_a_file_beancount_accepts(entries: list[JournalEntry]) -> None:
    ledger = Ledger.empty(CHART).post_batch(entries)
    out = io.StringIO()
    BeancountExport().write(ledger.entries, out, chart=CHART)
    assert beancount_errors(out.getvalue()) == []


def test_account_names_follow_beancount_rules() -> None:
    assert beancount_account("1200", "Accounts receivable", "Assets") == (
        "Assets:1200-AccountsReceivable"
    )
    assert beancount_account("x-9 b", "ünïcode & co", "Expenses") == "Expenses:X-9-b-NCodeCo"
    with pytest.raises(InvalidInput):
        beancount_account("1200", "AR", "Receivables")
    chart = ChartOfAccounts.default().with_account("8100", "Other income")
    export = BeancountExport({"8100": "Income"})
    assert export.account_type("8100", chart) == "Income"
    assert export.account_type("1200", chart) == "Assets"
    assert BeancountExport().account_type("8100", chart) == "Expenses"
    assert BeancountExport().account_type("3000", chart) == "Equity"


@given(st.text(max_size=20))
def test_any_text_is_a_beancount_string(text: str) -> None:
    entry = RULES.receipt_recorded("R-1", date(2026, 3, 2), eur("1.00"))
    entry = attrs.evolve(entry, description=text, metadata={text or "k": text})
    out = io.StringIO()
    BeancountExport().write([entry], out, chart=CHART)
    assert beancount_errors(out.getvalue()) == []
