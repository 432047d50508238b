"""What the memory and SQL ledgers add to the port: periods, the lock date, the journal read back.

Every test runs on the memory ledger, a SQLite file and PostgreSQL (a schema of its own in the
session's throwaway database; skipped without a server).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import o2c
from o2c.adapters.memory import MemoryLedger
from o2c.adapters.sql import SqlLedger
from o2c.adapters.sql.ledger import define_ledger_tables
from o2c.config import ConfigError
from o2c.domain.ledger import ChartOfAccounts, JournalEntry, Ledger, TrialBalance
from o2c.domain.money import Money, money
from o2c.domain.periods import ORIGINAL_DATE, AccountingPeriod, ClosedPeriodPolicy, PostingPeriods
from o2c.domain.posting import AmountLine, PostingRules
from o2c.ports.errors import DuplicateRequest
from o2c.ports.ledger import JournalReader, LedgerPort, PeriodKeeper, PeriodRefused, PostingResult
from o2c.testing import strategies

RULES = PostingRules()
MARCH, APRIL = AccountingPeriod(2026, 3), AccountingPeriod(2026, 4)

Keeper = MemoryLedger | SqlLedger
Factory = Callable[[ClosedPeriodPolicy], Keeper]
"""Builds a new, empty ledger under a policy."""


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def invoice(number: str, on: date, net: str = "100.00") -> JournalEntry:
    return RULES.invoice_issued(number, "C-1", on, [AmountLine(eur(net))])


def in_own_schema(engine: sa.Engine) -> sa.Engine:
    schema = f"periods_{uuid.uuid4().hex}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    scoped = engine.execution_options(schema_translate_map={None: schema})
    metadata = sa.MetaData()
    define_ledger_tables(metadata)
    metadata.create_all(scoped)
    return scoped


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    opened: list[SqlLedger] = []
    files = iter(range(10**6))

    def build(policy: ClosedPeriodPolicy) -> Keeper:
        if request.param == "memory":
            return MemoryLedger(policy=policy)
        if request.param == "sqlite":
            ledger = SqlLedger(f"sqlite:///{tmp_path / f'books-{next(files)}.db'}", policy=policy)
        else:
            engine = request.getfixturevalue("postgres_engine")
            ledger = SqlLedger(in_own_schema(engine), policy=policy)
        opened.append(ledger)
        return ledger

    yield build
    for ledger in opened:
        ledger.close()


def test_both_ledgers_read_their_journal_and_keep_periods(make: Factory) -> None:
    ledger = make(ClosedPeriodPolicy.REFUSE)
    assert isinstance(ledger, LedgerPort)
    assert isinstance(ledger, JournalReader)
    assert isinstance(ledger, PeriodKeeper)


def test_an_entry_dated_in_a_closed_period_is_refused_and_nothing_posts(make: Factory) -> None:
    ledger = make(ClosedPeriodPolicy.REFUSE)
    ledger.post_batch([invoice("INV-1", date(2026, 3, 30))])
    assert ledger.change_periods(lambda p: p.close(MARCH)).closed == (MARCH,)
    with pytest.raises(PeriodRefused) as refused:
        ledger.post_batch([invoice("INV-2", date(2026, 4, 1)), invoice("INV-3", date(2026, 3, 31))])
    assert refused.value.code == "period_closed"
    assert refused.value.entry_id == "INV-3:invoice_issued"
    assert refused.value.entry_date == date(2026, 3, 31)
    assert len(list(ledger.entries())) == 1
    # What was posted before the close may be sent again: it is already there.
    assert ledger.post_batch([invoice("INV-1", date(2026, 3, 30))]).already_posted == (
        "INV-1:invoice_issued",
    )
    assert ledger.post_batch([invoice("INV-2", date(2026, 4, 1))]).posted == (
        "INV-2:invoice_issued",
    )


def test_the_lock_date_refuses_what_is_dated_before_it(make: Factory) -> None:
    ledger = make(ClosedPeriodPolicy.REFUSE)
    ledger.change_periods(lambda p: p.lock_until(date(2026, 4, 10)))
    with pytest.raises(PeriodRefused):
        ledger.post_batch([invoice("INV-1", date(2026, 4, 9))])
    assert ledger.post_batch([invoice("INV-1", date(2026, 4, 10))]).posted
    assert ledger.periods() == PostingPeriods(lock_date=date(2026, 4, 10))


def test_the_move_policy_posts_late_entries_on_the_first_open_day(make: Factory) -> None:
    ledger = make(ClosedPeriodPolicy.MOVE_TO_FIRST_OPEN_DATE)
    ledger.change_periods(lambda p: p.close(MARCH).close(APRIL))
    late = invoice("INV-1", date(2026, 3, 15))
    assert ledger.post_batch([late]).posted == (late.entry_id,)
    stored = ledger.get(late.entry_id)
    assert stored is not None
    assert stored.date == date(2026, 5, 1)
    assert stored.meta(ORIGINAL_DATE) == "2026-03-15"
    # Sent again (a retry), it is the same entry; other content under its id is refused.
    assert ledger.post_batch([late]) == PostingResult((), (late.entry_id,))
    with pytest.raises(DuplicateRequest):
        ledger.post_batch([invoice("INV-1", date(2026, 3, 15), net="1.00")])
    assert len(list(ledger.entries())) == 1


def test_reopening_a_period_lets_it_post_again(make: Factory) -> None:
    ledger = make(ClosedPeriodPolicy.REFUSE)
    ledger.change_periods(lambda p: p.close(MARCH))
    ledger.change_periods(lambda p: p.reopen(MARCH))
    assert ledger.periods() == PostingPeriods()
    assert ledger.post_batch([invoice("INV-1", date(2026, 3, 31))]).posted


def test_entries_and_trial_balances_by_date(make: Factory) -> None:
    ledger = make(ClosedPeriodPolicy.REFUSE)
    batch = [
        invoice("INV-1", date(2026, 3, 1)),
        invoice("INV-2", date(2026, 3, 31), "50.00"),
        invoice("INV-3", date(2026, 4, 1), "7.00"),
    ]
    ledger.post_batch(batch)
    assert list(ledger.entries()) == batch
    assert list(ledger.entries(date(2026, 3, 31), date(2026, 4, 1))) == batch[1:]
    assert list(ledger.entries(end=date(2026, 3, 31))) == batch[:2]
    march = ledger.trial_balance_between(MARCH.start, MARCH.end)
    assert march == TrialBalance.of(batch[:2], ledger.chart)
    assert ledger.trial_balance_between() == ledger.trial_balance()
    assert ledger.trial_balance_between(date(2027, 1, 1)).rows == ()


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=strategies.journal_batches(ChartOfAccounts.default(), max_size=12),
    bounds=st.tuples(st.integers(0, 3000), st.integers(0, 3000)).map(sorted),
)
def test_the_journal_by_date_agrees_with_the_domain(
    make: Factory, entries: list[JournalEntry], bounds: list[int]
) -> None:
    ledger = make(ClosedPeriodPolicy.REFUSE)
    ledger.post_batch(entries)
    model = Ledger.empty(ledger.chart).post_batch(entries)
    start, end = (strategies.DAY_ZERO + timedelta(days=n) for n in bounds)
    expected = [e for e in model if start <= e.date <= end]
    assert list(ledger.entries(start, end)) == expected
    assert ledger.trial_balance_between(start, end) == TrialBalance.of(expected, ledger.chart)
    assert ledger.trial_balance() == model.trial_balance()


def test_sql_periods_outlive_the_adapter(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'books.db'}"
    with SqlLedger(url) as first:
        first.change_periods(lambda p: p.close(MARCH).lock_until(date(2026, 1, 5)))
    with SqlLedger(url) as again:
        assert again.periods() == PostingPeriods((MARCH,), date(2026, 1, 5))
        with pytest.raises(PeriodRefused):
            again.post_batch([invoice("INV-1", date(2026, 3, 3))])


def test_a_first_revision_book_upgraded_keeps_its_balances(tmp_path: Path) -> None:
    """Revision 0004 fills the running totals from the journal already posted."""
    fixture = Path(__file__).parent / "fixtures" / "first_schema.sql"
    path = tmp_path / "first.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(fixture.read_text(encoding="utf-8"))
    connection.close()
    with SqlLedger(f"sqlite:///{path}") as ledger:
        entries = list(ledger.entries())
        assert entries
        model = Ledger.empty(ledger.chart).post_batch(entries)
        assert ledger.trial_balance() == model.trial_balance()
        for entry in entries:
            for posting in entry.postings:
                for party in (None, posting.party):
                    assert ledger.balance(posting.account, posting.currency, party) == (
                        model.balance(posting.account, posting.currency, party)
                    )


@pytest.mark.parametrize(
    ("ledger_name", "options"),
    [("memory", {"closed_periods": "move"}), ("sql", {"closed_periods": "move"})],
)
def test_the_closed_period_policy_is_configured(
    ledger_name: str, options: dict[str, str], tmp_path: Path
) -> None:
    url = str(tmp_path / "books.db")
    adapters: dict[str, object] = {"ledger": {"use": ledger_name, "options": options}}
    if ledger_name == "sql":
        adapters["persistence"] = {"use": "sql", "options": {"url": url}}
    app = o2c.bootstrap({"adapters": adapters, "plugins": {"entry_points": False}})
    ledger = app.adapters.ledger
    assert isinstance(ledger, PeriodKeeper)
    assert ledger.policy is ClosedPeriodPolicy.MOVE_TO_FIRST_OPEN_DATE
    if isinstance(ledger, SqlLedger):
        ledger.close()
    with pytest.raises(ConfigError, match="closed_periods"):
        o2c.bootstrap(
            {"adapters": {"ledger": {"use": "memory", "options": {"closed_periods": "x"}}}}
        )
