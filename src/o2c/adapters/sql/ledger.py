"""The general ledger in a SQL database: a durable journal behind the ledger port.

Each posted entry is one row of ``o2c_journal_entries`` and one row per posting in
``o2c_journal_postings``; amounts are integer minor units (BIGINT) with their currency, never
floats. Each batch also adds its debits and credits to running totals: per account, currency and
day (``o2c_journal_totals``) and per account, currency and customer
(``o2c_journal_party_totals``). Balances and the trial balance, of the whole journal or of a range
of dates, are sums the database computes over those few rows, so reading them neither scans nor
loads the journal.

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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine

from o2c.adapters.sql import schema
from o2c.adapters.sql._urls import database_url
from o2c.adapters.sql.schema import LedgerTables, define_ledger_tables, read_text, stored_text
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
from o2c.domain.periods import (
    AccountingPeriod,
    ClosedPeriodPolicy,
    PeriodState,
    PostingPeriodClosed,
    PostingPeriods,
)
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest
from o2c.ports.ledger import PeriodRefused, PostingResult

__all__ = ["LedgerTables", "SqlLedger", "define_ledger_tables"]

_MAX_UNITS = 2**63 - 1
"""The largest amount a BIGINT column holds, in minor units."""

_POSTING_LOCK = 0x6F3263_4A4E4C
"""The PostgreSQL advisory lock key under which posters draw journal positions ("o2c" "JNL")."""

_IDS_PER_QUERY = 500
"""Entry ids per ``IN (...)`` list: well below every driver's limit on bound parameters."""

_ENTRIES_PER_READ = 1000
"""Entries read per query when the journal is read back in order."""

_LOCK_DATE = "lock_date"

_NO_PERIODS = PostingPeriods()


class _Statements:
    """The journal's statements, built once: SQLAlchemy then compiles each once per engine."""

    def __init__(self, tables: LedgerTables):
        entries, postings, totals = tables.entries, tables.postings, tables.totals
        party_totals = tables.party_totals
        self.metadata = entries.metadata
        self.entries, self.postings, self.totals = entries, postings, totals
        self.party_totals = party_totals
        self.periods, self.controls = tables.periods, tables.controls
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
        self.party_balance = sa.select(
            sa.func.coalesce(
                sa.func.sum(party_totals.c.debit_minor - party_totals.c.credit_minor), 0
            )
        ).where(
            party_totals.c.account == sa.bindparam("account"),
            party_totals.c.currency == sa.bindparam("currency"),
            party_totals.c.party == sa.bindparam("party"),
        )
        self.totals_balance = sa.select(
            sa.func.coalesce(sa.func.sum(totals.c.debit_minor - totals.c.credit_minor), 0)
        ).where(
            totals.c.account == sa.bindparam("account"),
            totals.c.currency == sa.bindparam("currency"),
        )
        self.trial_balance = sa.select(
            totals.c.account,
            totals.c.currency,
            sa.func.sum(totals.c.debit_minor),
            sa.func.sum(totals.c.credit_minor),
        ).group_by(totals.c.account, totals.c.currency)
        self.entries_in_order = (
            sa.select(entries)
            .where(entries.c.position > sa.bindparam("after"))
            .order_by(entries.c.position)
            .limit(_ENTRIES_PER_READ)
        )
        self.closed_periods = sa.select(self.periods.c.period).where(
            self.periods.c.state == PeriodState.CLOSED.value
        )
        self.lock_date = sa.select(self.controls.c.value).where(self.controls.c.name == _LOCK_DATE)


_SQL = _Statements(schema.journal)


class SqlLedger:
    """A ledger in a SQL database over ``chart``, satisfying :class:`~o2c.ports.LedgerPort`.

    ``engine_or_url`` is an engine (the tables must exist: a :class:`~o2c.adapters.sql.SqlStore`'s
    engine shares the store's database) or a database URL such as ``sqlite:///books.db`` or
    ``postgresql+psycopg://host/books`` (the database is upgraded to this o2c's schema, as
    :func:`~o2c.adapters.sql.upgrade` does, and :meth:`close` disposes of the engine made for it).

    It is also a :class:`~o2c.ports.ledger.JournalReader` and a
    :class:`~o2c.ports.ledger.PeriodKeeper`: the closed periods and the lock date are stored
    with the journal, and an entry dated where nothing may post is refused or moved according to
    ``policy`` (``"refuse"`` or ``"move"``).
    """

    def __init__(
        self,
        engine_or_url: Engine | URL | str,
        chart: ChartOfAccounts | None = None,
        *,
        name: str = "sql",
        policy: ClosedPeriodPolicy | str = ClosedPeriodPolicy.REFUSE,
    ):
        self.name = name
        self.chart = chart or ChartOfAccounts.default()
        self.policy = ClosedPeriodPolicy(policy)
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
        outside the chart (or an amount too large to store), ``PeriodRefused`` for a new entry
        dated where nothing may post (under the refusing policy), ``AdapterUnavailable`` when the
        database cannot be reached or another writer posted the same ids meanwhile (post again).
        """
        entries = tuple(entries)
        if not entries:
            return PostingResult((), ())
        with self._lock, self._translated("cannot post the batch"), self._posting() as conn:
            stored = self._load(conn, self._known(conn, {entry.entry_id for entry in entries}))
            periods = self._periods(conn)
            try:
                admitted = (
                    entries
                    if not stored and periods == _NO_PERIODS
                    else periods.admit_batch(entries, self.policy, stored.get)
                )
            except PostingPeriodClosed as error:
                raise PeriodRefused(
                    self.name, error.describe(), "period_closed", error.entry_id, error.entry_date
                ) from error
            fresh = self._check(admitted, stored)
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
        """Insert the entries, their postings and their daily totals, a statement per table.

        The rows go to the driver as plain tuples (one ``executemany`` per table): building them
        through SQLAlchemy's per-row parameter processing would cost more than the database's
        own work. Text is stored exactly as the tables' text type stores it.
        """
        last = conn.execute(_SQL.last_position).scalar_one_or_none()
        start = (last or 0) + 1
        # SQLAlchemy keeps SQLite dates as ISO text; other drivers take dates as they are.
        as_day: Callable[[date], object] = (
            date.isoformat if conn.dialect.name == "sqlite" else (lambda day: day)
        )
        text = stored_text
        entry_rows = []
        posting_rows = []
        totals: dict[tuple[str, str, date], list[int]] = {}
        parties: dict[tuple[str, str, str], list[int]] = {}
        for position, entry in enumerate(fresh.values(), start):
            entry_id = text(entry.entry_id)
            entry_rows.append(
                (
                    entry_id,
                    position,
                    as_day(entry.date),
                    text(entry.description),
                    text(entry.source),
                    json.dumps([list(pair) for pair in entry.metadata]) if entry.metadata else "[]",
                )
            )
            for line, posting in enumerate(entry.postings, 1):
                units = posting.units
                posting_rows.append(
                    (
                        entry_id,
                        line,
                        text(posting.account),
                        posting.side.value,
                        abs(units),
                        posting.currency,
                        text(posting.party),
                        text(posting.document),
                        text(posting.memo),
                    )
                )
                turnover = totals.setdefault(
                    (posting.account, posting.currency, entry.date), [0, 0]
                )
                by_party = (
                    None
                    if posting.party is None
                    else parties.setdefault(
                        (posting.account, posting.currency, posting.party), [0, 0]
                    )
                )
                if units > 0:
                    turnover[0] += units
                    if by_party is not None:
                        by_party[0] += units
                else:
                    turnover[1] -= units
                    if by_party is not None:
                        by_party[1] -= units
        sql = _RawStatements.of(conn)
        conn.exec_driver_sql(sql.insert_entries, entry_rows)
        conn.exec_driver_sql(sql.insert_postings, posting_rows)
        conn.exec_driver_sql(
            sql.add_totals,
            [
                (text(account), currency, as_day(day), debit, credit)
                for (account, currency, day), (debit, credit) in totals.items()
            ],
        )
        if parties:
            conn.exec_driver_sql(
                sql.add_party_totals,
                [
                    (text(account), currency, text(party), debit, credit)
                    for (account, currency, party), (debit, credit) in parties.items()
                ],
            )

    def _load(self, conn: Connection, entry_ids: Iterable[str]) -> dict[str, JournalEntry]:
        """The stored entries among ``entry_ids``, as records."""
        found: dict[str, JournalEntry] = {}
        for chunk in _chunks(sorted(entry_ids), _IDS_PER_QUERY):
            heads = conn.execute(_SQL.entries_by_id, {"ids": chunk}).all()
            for entry in self._assemble(conn, heads):
                found[entry.entry_id] = entry
        return found

    def _known(self, conn: Connection, entry_ids: Iterable[str]) -> list[str]:
        """Those of ``entry_ids`` that are posted: a plain key lookup, the common answer none."""
        sql = _RawStatements.of(conn)
        known: list[str] = []
        for chunk in _chunks(sorted(entry_ids), _IDS_PER_QUERY):
            rows = conn.exec_driver_sql(sql.known_ids(len(chunk)), tuple(map(stored_text, chunk)))
            known.extend(str(read_text(row[0])) for row in rows)
        return known

    def _assemble(self, conn: Connection, heads: Sequence[sa.Row[Any]]) -> list[JournalEntry]:
        """The entries whose head rows are ``heads``, with their postings, in the heads' order."""
        if not heads:
            return []
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
        return [
            JournalEntry(
                head.entry_id,
                head.entry_date,
                head.description,
                tuple(lines.get(head.entry_id, ())),
                source=head.source,
                metadata=[(key, value) for key, value in json.loads(head.metadata)],
            )
            for head in heads
        ]

    def _periods(self, conn: Connection) -> PostingPeriods:
        closed = [AccountingPeriod.parse(row[0]) for row in conn.execute(_SQL.closed_periods)]
        lock = conn.execute(_SQL.lock_date).scalar_one_or_none()
        return PostingPeriods(tuple(closed), None if lock is None else date.fromisoformat(lock))

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
        query, params = _SQL.totals_balance, {"account": account, "currency": currency}
        if party is not None:
            query, params = _SQL.party_balance, {**params, "party": party}
        with self._translated("cannot read a balance"), self.engine.connect() as conn:
            units = conn.execute(query, params).scalar_one()
        return from_minor(int(units), currency)

    def trial_balance(self) -> TrialBalance:
        """Turnover and balance of every account per currency, sorted by currency and account."""
        return self.trial_balance_between()

    def trial_balance_between(
        self, start: date | None = None, end: date | None = None
    ) -> TrialBalance:
        """The trial balance of the entries dated from ``start`` to ``end`` (both included).

        Summed by the database over the daily totals per account, so its cost grows with the
        number of accounts and days, not with the number of entries.
        """
        query = _SQL.trial_balance
        totals = _SQL.totals
        if start is not None:
            query = query.where(totals.c.entry_date >= start)
        if end is not None:
            query = query.where(totals.c.entry_date <= end)
        with self._translated("cannot read the trial balance"), self.engine.connect() as conn:
            sums = conn.execute(query).all()
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

    def entries(self, start: date | None = None, end: date | None = None) -> Iterator[JournalEntry]:
        """The posted entries dated from ``start`` to ``end`` (both included), in posting order.

        Read a thousand at a time, so a long journal is never held in memory at once.
        """
        query = _SQL.entries_in_order
        table = _SQL.entries
        if start is not None:
            query = query.where(table.c.entry_date >= start)
        if end is not None:
            query = query.where(table.c.entry_date <= end)
        after = 0
        while True:
            with self._translated("cannot read the journal"), self.engine.connect() as conn:
                heads = conn.execute(query, {"after": after}).all()
                found = self._assemble(conn, heads)
            yield from found
            if len(heads) < _ENTRIES_PER_READ:
                return
            after = heads[-1].position

    # --- periods ------------------------------------------------------------------------------

    def periods(self) -> PostingPeriods:
        """The closed periods and the lock date, as stored."""
        with self._translated("cannot read the periods"), self.engine.connect() as conn:
            return self._periods(conn)

    def change_periods(self, change: Callable[[PostingPeriods], PostingPeriods]) -> PostingPeriods:
        """Apply ``change`` to the stored periods in a posting transaction; return the result.

        No batch posts while the change is made, so a batch either posted before the period
        closed or meets the closed period.
        """
        with self._lock, self._translated("cannot change the periods"), self._posting() as conn:
            before = self._periods(conn)
            after = change(before)
            if after == before:
                return after
            conn.execute(sa.delete(_SQL.periods))
            if after.closed:
                conn.execute(
                    sa.insert(_SQL.periods),
                    [{"period": p.name, "state": PeriodState.CLOSED.value} for p in after.closed],
                )
            conn.execute(sa.delete(_SQL.controls).where(_SQL.controls.c.name == _LOCK_DATE))
            if after.lock_date is not None:
                conn.execute(
                    sa.insert(_SQL.controls),
                    {"name": _LOCK_DATE, "value": after.lock_date.isoformat()},
                )
            return after

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


class _RawStatements:
    """The insert statements for the driver, with its placeholders and the tables' real names."""

    def __init__(self, conn: Connection) -> None:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"

        def insert(table: sa.Table, alias: str = "") -> str:
            names = ", ".join(column.name for column in table.columns)
            marks = ", ".join(mark for _ in table.columns)
            into = f"{_table_name(conn, table)}{alias and f' AS {alias}'}"
            return f"INSERT INTO {into} ({names}) VALUES ({marks})"

        self.insert_entries = insert(_SQL.entries)
        self.insert_postings = insert(_SQL.postings)
        # Both SQLite and PostgreSQL add to existing totals with the same upsert.
        adding = (
            " DO UPDATE SET debit_minor = t.debit_minor + excluded.debit_minor,"
            " credit_minor = t.credit_minor + excluded.credit_minor"
        )
        self.add_totals = (
            insert(_SQL.totals, "t") + " ON CONFLICT (account, currency, entry_date)" + adding
        )
        self.add_party_totals = (
            insert(_SQL.party_totals, "t") + " ON CONFLICT (account, currency, party)" + adding
        )

        self._mark = mark
        self._entries = _table_name(conn, _SQL.entries)

    def known_ids(self, count: int) -> str:
        """Which of ``count`` entry ids are posted."""
        marks = ", ".join(self._mark for _ in range(count))
        return f"SELECT entry_id FROM {self._entries} WHERE entry_id IN ({marks})"

    @classmethod
    def of(cls, conn: Connection) -> _RawStatements:
        return cls(conn)


def _table_name(conn: Connection, table: sa.Table) -> str:
    """``table``'s name as the connection reaches it (its schema translated, if any)."""
    preparer = conn.dialect.identifier_preparer
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    schema = translate.get(table.schema, table.schema)
    name = preparer.quote(table.name)
    return f"{preparer.quote_schema(schema)}.{name}" if schema else name


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _first_line(error: sa_exc.SQLAlchemyError) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__
