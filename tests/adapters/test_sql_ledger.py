"""The SQL ledger passes the ledger contract, durability included, on SQLite and PostgreSQL.

The PostgreSQL tests use the session's throwaway database (the ``postgres_url`` fixture), each
ledger in a schema of its own.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from o2c.adapters.memory import MemoryLedger
from o2c.adapters.sql.ledger import SqlLedger, define_ledger_tables
from o2c.domain.ledger import ChartOfAccounts, JournalEntry, Posting, Side
from o2c.domain.money import money
from o2c.ports.errors import AdapterError, AdapterRejected, AdapterUnavailable
from o2c.ports.ledger import LedgerPort, PostingResult
from o2c.testing import LedgerCapabilities, LedgerContract, strategies
from o2c.testing.ledger import LedgerFactory, LedgerReopener, entry, invoice


@pytest.fixture
def opened() -> Iterator[list[SqlLedger]]:
    """Ledgers a test opened, closed when it ends."""
    ledgers: list[SqlLedger] = []
    yield ledgers
    for ledger in ledgers:
        ledger.close()


def keep(opened: list[SqlLedger], ledger: SqlLedger) -> SqlLedger:
    opened.append(ledger)
    return ledger


class SqlChecks:
    """What the contract does not say but a SQL journal must do; run on every database."""

    def test_free_text_comes_back_as_posted(self, ledger: LedgerPort) -> None:
        assert isinstance(ledger, SqlLedger)
        value = money("1.00", "EUR")
        odd = JournalEntry(
            "E-\x00\uffff",
            date(2026, 1, 31),
            "nul \x00, non-character \uffff, both \uffff0\x00 and ünïcödé",
            (
                Posting("1200", Side.DEBIT, value, party="C\x00", document="D", memo="\uffff"),
                Posting("4000", Side.CREDIT, value, memo="\x00"),
            ),
            source="\uffff\uffff",
            metadata={"k\x00": "v\uffff", "a": ""},
        )
        assert ledger.post_batch([odd]).posted == (odd.entry_id,)
        assert ledger.get(odd.entry_id) == odd
        assert ledger.post_batch([odd]).already_posted == (odd.entry_id,)
        assert ledger.balance("1200", "EUR", "C\x00") == value
        assert len(ledger) == 1

    def test_a_writer_that_lost_a_race_may_post_again(
        self,
        ledger: LedgerPort,
        reopen_ledger: LedgerReopener,
        chart: ChartOfAccounts,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        assert isinstance(ledger, SqlLedger)
        rival = reopen_ledger(ledger, chart)
        ledger.post_batch([entry("E-0")])
        original_check = ledger._check

        def rival_posts_first(
            entries: Sequence[JournalEntry], stored: dict[str, JournalEntry]
        ) -> dict[str, JournalEntry]:
            # Between this writer's read and its write, another one posts.
            rival.post_batch([entry("E-1")])
            return original_check(entries, stored)

        if ledger.engine.dialect.name == "postgresql":
            # Posters take turns there: the rival waits for this writer's commit, then finds
            # its entry posted, and nobody has to post again.
            rival_result: list[PostingResult] = []

            def rival_waits_its_turn(
                entries: Sequence[JournalEntry], stored: dict[str, JournalEntry]
            ) -> dict[str, JournalEntry]:
                thread = threading.Thread(
                    target=lambda: rival_result.append(rival.post_batch([entry("E-1")]))
                )
                thread.start()
                thread.join(timeout=0.5)
                assert thread.is_alive()  # still waiting for this writer's turn to end
                waiting.append(thread)
                return original_check(entries, stored)

            waiting: list[threading.Thread] = []
            monkeypatch.setattr(ledger, "_check", rival_waits_its_turn)
            assert ledger.post_batch([entry("E-1"), entry("E-2", "2.00")]).posted == ("E-1", "E-2")
            waiting[0].join(timeout=10)
            assert rival_result == [PostingResult((), ("E-1",))]
        else:
            monkeypatch.setattr(ledger, "_check", rival_posts_first)
            with pytest.raises(AdapterUnavailable) as raised:
                ledger.post_batch([entry("E-1"), entry("E-2", "2.00")])
            assert raised.value.retryable
            monkeypatch.undo()
            assert ledger.post_batch([entry("E-1"), entry("E-2", "2.00")]) == PostingResult(
                ("E-2",), ("E-1",)
            )
        assert ledger.balance("1200", "EUR") == money("202.00", "EUR")

    def test_an_unknown_currency_is_refused(self, ledger: LedgerPort) -> None:
        with pytest.raises(AdapterRejected):
            ledger.balance("1200", "XYZ")
        with pytest.raises(AdapterRejected):
            ledger.balance("9999", "EUR")


# --- SQLite -------------------------------------------------------------------------------------


class TestSqlLedgerOnSqlite(LedgerContract, SqlChecks):
    @pytest.fixture
    def make_ledger(self, tmp_path: Path, opened: list[SqlLedger]) -> LedgerFactory:
        def make(chart: ChartOfAccounts) -> LedgerPort:
            path = tmp_path / f"books-{uuid.uuid4().hex}.db"
            return keep(opened, SqlLedger(f"sqlite:///{path}", chart))

        return make

    @pytest.fixture
    def reopen_ledger(self, opened: list[SqlLedger]) -> LedgerReopener:
        def reopen(ledger: LedgerPort, chart: ChartOfAccounts) -> LedgerPort:
            assert isinstance(ledger, SqlLedger)
            return keep(opened, SqlLedger(ledger.engine.url, chart))

        return reopen

    @pytest.fixture
    def capabilities(self) -> LedgerCapabilities:
        return LedgerCapabilities(durable=True)


def test_a_second_process_reads_the_same_trial_balance(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'books.db'}"
    with SqlLedger(url) as ledger:
        ledger.post_batch([invoice("INV-1", "100.00", "19.00", "C-1"), entry("E-1", "0.01")])
        here = ledger.trial_balance().render()
    script = (
        "import sys\n"
        "from o2c.adapters.sql.ledger import SqlLedger\n"
        "with SqlLedger(sys.argv[1]) as ledger:\n"
        "    print(ledger.trial_balance().render())\n"
    )
    there = subprocess.run(
        [sys.executable, "-c", script, url], capture_output=True, text=True, check=True
    )
    assert there.stdout.rstrip("\n") == here
    assert "1200 Accounts receivable" in here


def test_a_database_that_cannot_be_reached_is_unavailable() -> None:
    with pytest.raises(AdapterUnavailable) as raised:
        SqlLedger("postgresql+psycopg://nobody:secret@127.0.0.1:1/books")
    assert "secret" not in str(raised.value)


def test_a_value_that_is_no_url_is_refused() -> None:
    with pytest.raises(AdapterRejected):
        SqlLedger("not a url")


@settings(max_examples=30, deadline=None)
@given(st.lists(strategies.journal_batches(ChartOfAccounts.default()), min_size=1, max_size=6))
def test_any_batches_give_the_trial_balance_of_the_memory_ledger(
    batches: list[list[JournalEntry]],
) -> None:
    chart = ChartOfAccounts.default()
    memory = MemoryLedger(chart)
    with SqlLedger("sqlite://", chart) as sql:
        for batch in batches:
            try:
                expected = memory.post_batch(batch)
            except AdapterError as refusal:
                with pytest.raises(type(refusal)):
                    sql.post_batch(batch)
                continue
            assert sql.post_batch(batch) == expected
        assert sql.trial_balance() == memory.trial_balance()
        for row in memory.trial_balance().rows:
            for party in strategies.CUSTOMERS:
                assert sql.balance(row.account, row.currency, party) == memory.balance(
                    row.account, row.currency, party
                )


# --- PostgreSQL ---------------------------------------------------------------------------------


def in_own_schema(engine: sa.Engine) -> sa.Engine:
    """The engine, working in a new schema that holds the journal's tables and nothing else."""
    schema = f"ledger_{uuid.uuid4().hex}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    scoped = engine.execution_options(schema_translate_map={None: schema})
    metadata = sa.MetaData()
    define_ledger_tables(metadata)
    metadata.create_all(scoped)
    return scoped


class TestSqlLedgerOnPostgres(LedgerContract, SqlChecks):
    @pytest.fixture
    def make_ledger(self, postgres_engine: sa.Engine) -> LedgerFactory:
        return lambda chart: SqlLedger(in_own_schema(postgres_engine), chart)

    @pytest.fixture
    def reopen_ledger(self) -> LedgerReopener:
        def reopen(ledger: LedgerPort, chart: ChartOfAccounts) -> LedgerPort:
            assert isinstance(ledger, SqlLedger)
            return SqlLedger(ledger.engine, chart)

        return reopen

    @pytest.fixture
    def capabilities(self) -> LedgerCapabilities:
        return LedgerCapabilities(durable=True)


def test_a_postgres_url_creates_the_tables(postgres_url: str) -> None:
    with SqlLedger(postgres_url) as ledger:
        ledger.post_batch([entry("E-1")])
    with SqlLedger(postgres_url) as reopened:
        assert reopened.balance("1200", "EUR", "C-1") == money("100.00", "EUR")
        assert "postgresql" in repr(reopened)
