"""The general ledger in a SQL database: a durable journal behind the ledger port.

Each posted entry is one row of ``o2c_journal_entries`` and one row per posting in
``o2c_journal_postings``; amounts are integer minor units (BIGINT) with their currency, never
floats. Balances and the trial balance are sums the database computes over an index on account,
currency and party, so reading them does not load the journal into memory.

A batch is posted in one transaction: its entries are checked (a known id must carry the same
content, every account must be in the chart) before anything is written, and written together or
not at all. When two writers post at the same moment, the loser's transaction fails on a unique
key and raises the retryable ``AdapterUnavailable``; posting the batch again is safe, because
posting is idempotent by entry id.

The tables are part of the SQL book's schema (:mod:`o2c.adapters.sql.schema`) and created by its
migrations: a ledger opened on a URL upgrades the database first, as the store does; a ledger given
an :class:`~sqlalchemy.engine.Engine` (a :class:`~o2c.adapters.sql.SqlStore`'s, to share the
database) expects them to exist. :func:`define_ledger_tables` adds them to any other
:class:`~sqlalchemy.MetaData`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine

from o2c.adapters.sql import schema
from o2c.adapters.sql._urls import database_url
from o2c.adapters.sql.schema import LedgerTables, define_ledger_tables
from o2c.adapters.sql.store import open_engine
from o2c.domain.errors import DomainError
from o2c.domain.ledger import (
    ChartOfAccounts,
    JournalEntry,
    Posting,
    Side,
    TrialBalance,
    TrialBalanceRow,
)
from o2c.domain.money import Money, from_minor
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest
from o2c.ports.ledger import PostingResult

__all__ = ["LedgerTables", "SqlLedger", "define_ledger_tables"]

_MAX_UNITS = 2**63 - 1

_POSTING_LOCK = 0x6F3263_4A4E4C
"""The PostgreSQL advisory lock key under which posters draw journal positions ("o2c" "JNL")."""
"""The largest amount a BIGINT column holds, in minor units."""

_IDS_PER_QUERY = 500
"""Entry ids per ``IN (...)`` list: well below every driver's limit on bound parameters."""


class _Statements:
    """The journal's statements, built once: SQLAlchemy then compiles each once per engine."""

    def __init__(self, tables: LedgerTables):
        entries, postings = tables.entries, tables.postings
        self.metadata = entries.metadata
        self.entries, self.postings = entries, postings
        ids: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
        self.entries_by_id = sa.select(entries).where(entries.c.entry_id.in_(ids))
        self.postings_by_entry = (
            sa.select(postings)
            .where(postings.c.entry_id.in_(ids))
            .order_by(postings.c.entry_id, postings.c.line)
        )
        self.last_position = sa.select(sa.func.max(entries.c.position))
        self.take_turn = sa.text("SELECT pg_advisory_xact_lock(:key)")
        self.count = sa.select(sa.func.count()).select_from(entries)
        debits = _turnover(postings, Side.DEBIT)
        credits = _turnover(postings, Side.CREDIT)
        self.balance = sa.select(debits - credits).where(
            postings.c.account == sa.bindparam("account"),
            postings.c.currency == sa.bindparam("currency"),
        )
        self.party_balance = self.balance.where(postings.c.party == sa.bindparam("party"))
        self.trial_balance = sa.select(
            postings.c.account, postings.c.currency, debits, credits
        ).group_by(postings.c.account, postings.c.currency)


def _turnover(postings: sa.Table, side: Side) -> sa.ColumnElement[Any]:
    """The sum of the amounts on ``side``, zero when there are none."""
    amount = sa.case((postings.c.side == side.value, postings.c.amount_minor), else_=0)
    return sa.func.coalesce(sa.func.sum(amount), 0)


_SQL = _Statements(schema.journal)


class SqlLedger:
    """A ledger in a SQL database over ``chart``, satisfying :class:`~o2c.ports.LedgerPort`.

    ``engine_or_url`` is an engine (the tables must exist: a :class:`~o2c.adapters.sql.SqlStore`'s
    engine shares the store's database) or a database URL such as ``sqlite:///books.db`` or
    ``postgresql+psycopg://host/books`` (the database is upgraded to this o2c's schema, as
    :func:`~o2c.adapters.sql.upgrade` does, and :meth:`close` disposes of the engine made for it).
    """

    def __init__(
        self,
        engine_or_url: Engine | URL | str,
        chart: ChartOfAccounts | None = None,
        *,
        name: str = "sql",
    ):
        self.name = name
        self.chart = chart or ChartOfAccounts.default()
        self._owns_engine = not isinstance(engine_or_url, Engine)
        self._lock = threading.Lock()  # one writer per object; other writers meet at the keys
        if isinstance(engine_or_url, Engine):
            self.engine = engine_or_url
            return
        try:
            if isinstance(engine_or_url, str) and "://" not in engine_or_url:
                raise ValueError(f"not a database URL: {engine_or_url!r}")
            url = database_url(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
        except ValueError as error:
            raise AdapterRejected(name, str(error), "invalid_url") from error
        # The journal is part of the book's schema: a URL is opened, and upgraded, like a store.
        self.engine = open_engine(url, name, upgrade=True)

    def close(self) -> None:
        """Release the database connections (only those of an engine this ledger made)."""
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> SqlLedger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlLedger({self._where()!r}, name={self.name!r})"

    # --- posting ------------------------------------------------------------------------------

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        """Post every new entry of the batch in one transaction, or none; report which were new.

        ``DuplicateRequest`` for a known id with other content, ``AdapterRejected`` for an account
        outside the chart (or an amount too large to store), ``AdapterUnavailable`` when the
        database cannot be reached or another writer posted the same ids meanwhile (post again).
        """
        entries = tuple(entries)
        if not entries:
            return PostingResult((), ())
        with self._lock, self._translated("cannot post the batch"), self._posting() as conn:
            stored = self._load(conn, {entry.entry_id for entry in entries})
            fresh = self._check(entries, stored)
            if fresh:
                self._write(conn, fresh)
        already = dict.fromkeys(e.entry_id for e in entries if e.entry_id not in fresh)
        return PostingResult(tuple(fresh), tuple(already))

    def _check(
        self, entries: Sequence[JournalEntry], stored: Mapping[str, JournalEntry]
    ) -> dict[str, JournalEntry]:
        """The entries to write, in order; refuses the batch the way the domain ledger does."""
        fresh: dict[str, JournalEntry] = {}
        for entry in entries:
            known = fresh.get(entry.entry_id) or stored.get(entry.entry_id)
            if known is not None:
                if known != entry:
                    raise DuplicateRequest(
                        self.name,
                        f"entry {entry.entry_id!r} was already posted with other content",
                        entry.entry_id,
                    )
                continue
            for posting in entry.postings:
                if not self.chart.has(posting.account):
                    raise AdapterRejected(
                        self.name,
                        f"entry {entry.entry_id!r} posts to account {posting.account!r},"
                        " which is not in the chart",
                        "unknown_account",
                    )
                if abs(posting.units) > _MAX_UNITS:
                    raise AdapterRejected(
                        self.name,
                        f"entry {entry.entry_id!r}: {posting.amount} is too large to store",
                        "amount_out_of_range",
                    )
            fresh[entry.entry_id] = entry
        return fresh

    def _write(self, conn: Connection, fresh: Mapping[str, JournalEntry]) -> None:
        last = conn.execute(_SQL.last_position).scalar_one_or_none()
        start = (last or 0) + 1
        conn.execute(
            _SQL.entries.insert(),
            [
                {
                    "entry_id": entry.entry_id,
                    "position": position,
                    "entry_date": entry.date,
                    "description": entry.description,
                    "source": entry.source,
                    "metadata": json.dumps([list(pair) for pair in entry.metadata]),
                }
                for position, entry in enumerate(fresh.values(), start)
            ],
        )
        conn.execute(
            _SQL.postings.insert(),
            [
                {
                    "entry_id": entry.entry_id,
                    "line": line,
                    "account": posting.account,
                    "side": posting.side.value,
                    "amount_minor": abs(posting.units),
                    "currency": posting.currency,
                    "party": posting.party,
                    "document": posting.document,
                    "memo": posting.memo,
                }
                for entry in fresh.values()
                for line, posting in enumerate(entry.postings, 1)
            ],
        )

    def _load(self, conn: Connection, entry_ids: Iterable[str]) -> dict[str, JournalEntry]:
        """The stored entries among ``entry_ids``, as records."""
        found: dict[str, JournalEntry] = {}
        for chunk in _chunks(sorted(entry_ids), _IDS_PER_QUERY):
            heads = conn.execute(_SQL.entries_by_id, {"ids": chunk}).all()
            if not heads:
                continue
            lines: dict[str, list[Posting]] = {}
            rows = conn.execute(_SQL.postings_by_entry, {"ids": [head.entry_id for head in heads]})
            for row in rows:
                lines.setdefault(row.entry_id, []).append(
                    Posting(
                        row.account,
                        Side(row.side),
                        from_minor(row.amount_minor, row.currency),
                        party=row.party,
                        document=row.document,
                        memo=row.memo,
                    )
                )
            for head in heads:
                found[head.entry_id] = JournalEntry(
                    head.entry_id,
                    head.entry_date,
                    head.description,
                    tuple(lines.get(head.entry_id, ())),
                    source=head.source,
                    metadata=[(key, value) for key, value in json.loads(head.metadata)],
                )
        return found

    @contextlib.contextmanager
    def _posting(self) -> Iterator[Connection]:
        """A transaction in which this poster alone reads and extends the journal.

        PostgreSQL posters take turns under an advisory lock held until commit, reading at READ
        COMMITTED so that what they read after the wait includes the last poster's entries: no
        two processes draw the same position or insert the same entry. SQLite has one writer.
        """
        if self.engine.dialect.name != "postgresql":
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as plain:
            conn = plain.execution_options(isolation_level="READ COMMITTED")
            with conn.begin():
                conn.execute(_SQL.take_turn, {"key": _POSTING_LOCK})
                yield conn

    # --- reading ------------------------------------------------------------------------------

    def get(self, entry_id: str) -> JournalEntry | None:
        """The posted entry with ``entry_id``, if any."""
        with self._translated("cannot read the journal"), self.engine.connect() as conn:
            return self._load(conn, (entry_id,)).get(entry_id)

    def __len__(self) -> int:
        """The number of posted entries."""
        with self._translated("cannot read the journal"), self.engine.connect() as conn:
            return int(conn.execute(_SQL.count).scalar_one())

    def balance(self, account: str, currency: str, party: str | None = None) -> Money:
        """Debit minus credit of ``account`` in ``currency`` (``party``'s postings only if given).

        ``AdapterRejected`` for an account outside the chart or an unknown currency.
        """
        if not self.chart.has(account):
            raise AdapterRejected(
                self.name, f"account {account!r} is not in the chart", "unknown_account"
            )
        try:
            from_minor(0, currency)
        except DomainError as error:
            raise AdapterRejected(self.name, error.describe(), "invalid_currency") from error
        query, params = _SQL.balance, {"account": account, "currency": currency}
        if party is not None:
            query, params = _SQL.party_balance, {**params, "party": party}
        with self._translated("cannot read a balance"), self.engine.connect() as conn:
            units = conn.execute(query, params).scalar_one()
        return from_minor(int(units), currency)

    def trial_balance(self) -> TrialBalance:
        """Turnover and balance of every account per currency, sorted by currency and account."""
        with self._translated("cannot read the trial balance"), self.engine.connect() as conn:
            sums = conn.execute(_SQL.trial_balance).all()
        # Sorted here, not by the database, whose collation may order codes differently.
        rows = (
            TrialBalanceRow(
                account,
                self.chart.name(account),
                currency,
                from_minor(int(debit), currency),
                from_minor(int(credit), currency),
            )
            for account, currency, debit, credit in sorted(sums, key=lambda s: (s[1], s[0]))
        )
        return TrialBalance(tuple(rows))

    # --- errors -------------------------------------------------------------------------------

    def _where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        """Turn driver errors raised inside the block into the adapter error family."""
        try:
            yield
        except sa_exc.IntegrityError as error:
            # A key another writer took between our read and our write: nothing was posted.
            raise AdapterUnavailable(
                self.name,
                f"{doing} in {self._where()}: the journal was changed by another writer"
                " meanwhile; post the batch again",
            ) from error
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError) as error:
            raise AdapterUnavailable(
                self.name, f"{doing} in {self._where()}: {_first_line(error)}"
            ) from error
        except sa_exc.SQLAlchemyError as error:
            raise AdapterRejected(
                self.name, f"{doing} in {self._where()}: {_first_line(error)}", "database"
            ) from error


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _first_line(error: sa_exc.SQLAlchemyError) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__
