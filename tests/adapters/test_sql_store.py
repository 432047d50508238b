"""The SQL store: the unit-of-work contract on a SQLite file and on PostgreSQL, and its failures."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from o2c.adapters.sql import (
    ForeignDatabase,
    ReadOnlyStore,
    SchemaOutdated,
    SchemaTooNew,
    SqlLedger,
    SqlStore,
    UnreadableDocument,
    current_revision,
    head_revision,
    upgrade,
)
from o2c.adapters.sql import schema as tables
from o2c.domain.customers import Customer
from o2c.ports.errors import AdapterUnavailable
from o2c.ports.persistence import UnitOfWork
from o2c.testing.persistence import (
    VARIANTS,
    UnitOfWorkCapabilities,
    UnitOfWorkContract,
    UnitOfWorkFactory,
    UnitOfWorkReopener,
)


def _wipe(store: SqlStore) -> None:
    """Empty every table: fresh storage for the next example, without a new database."""
    with store.engine.begin() as connection:
        for table in reversed(tables.metadata.sorted_tables):
            connection.execute(table.delete())


def customer(key: str, name: str = "Acme") -> Customer:
    return Customer(key, name, "EUR")


@pytest.fixture(scope="module")
def postgres_store(postgres_url: str) -> Iterator[SqlStore]:
    with SqlStore(postgres_url, upgrade=True) as store:
        yield store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    with SqlStore(tmp_path / "books.db") as store:
        yield store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> SqlStore:
    """Each store, emptied (the PostgreSQL one on the session's throwaway database)."""
    chosen: SqlStore = request.getfixturevalue(f"{request.param}_store")
    _wipe(chosen)
    return chosen


class _DurableContract(UnitOfWorkContract):
    """The contract for a store whose committed work outlives the store object."""

    @pytest.fixture
    def capabilities(self) -> UnitOfWorkCapabilities:
        return UnitOfWorkCapabilities(durable=True)

    @pytest.fixture
    def reopen_unit_of_work(self, store_under_test: SqlStore) -> Iterator[UnitOfWorkReopener]:
        opened: list[SqlStore] = []

        def reopen(factory: Callable[[], UnitOfWork]) -> Callable[[], UnitOfWork]:
            url = store_under_test.url.render_as_string(hide_password=False)
            opened.append(SqlStore(url, upgrade=False))
            return opened[-1].unit_of_work

        yield reopen
        for store in opened:
            store.close()


class TestSqliteUnitOfWork(_DurableContract):
    @pytest.fixture
    def store_under_test(self, sqlite_store: SqlStore) -> SqlStore:
        return sqlite_store

    @pytest.fixture
    def make_unit_of_work(self, sqlite_store: SqlStore) -> UnitOfWorkFactory:
        def fresh() -> Callable[[], UnitOfWork]:
            _wipe(sqlite_store)
            return sqlite_store.unit_of_work

        return fresh


class TestPostgresUnitOfWork(_DurableContract):
    @pytest.fixture
    def store_under_test(self, postgres_store: SqlStore) -> SqlStore:
        return postgres_store

    @pytest.fixture
    def make_unit_of_work(self, postgres_store: SqlStore) -> UnitOfWorkFactory:
        def fresh() -> Callable[[], UnitOfWork]:
            _wipe(postgres_store)
            return postgres_store.unit_of_work

        return fresh


# --- durability ---------------------------------------------------------------------------------


def test_a_new_store_on_the_same_file_sees_what_was_committed(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    with SqlStore(path) as store, store.unit_of_work() as uow:
        uow.customers.add("C-1", customer("C-1"))
        assert uow.sequences.next("INV") == 1
        uow.commands.remember("cmd-1", "INV-1")
        uow.commit()
        uow.customers.add("C-2", customer("C-2"))  # never committed
    assert current_revision(path) == head_revision()
    with SqlStore(str(path)) as again, again.unit_of_work() as uow:
        assert list(uow.customers.values()) == [customer("C-1")]
        assert uow.sequences.next("INV") == 2
        assert uow.commands.recall("cmd-1") == "INV-1"


def test_a_unit_of_work_that_only_reads_commits_nothing(sqlite_store: SqlStore) -> None:
    commits: list[object] = []
    sa.event.listen(sqlite_store.engine, "commit", commits.append)
    with sqlite_store.unit_of_work() as uow:
        assert uow.customers.find("C-1") is None
        assert uow.open_items.open() == ()
        uow.commit()
    assert commits == []


def test_a_conflicting_concurrent_save_is_retryable(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.add("C-1", customer("C-1"))
        uow.commit()
    with store.unit_of_work() as first, store.unit_of_work() as second:
        first.customers.get("C-1")
        second.customers.get("C-1")
        first.customers.save("C-1", customer("C-1", "First"))
        first.commit()
        with pytest.raises(AdapterUnavailable) as caught:
            second.customers.save("C-1", customer("C-1", "Second"))
        assert caught.value.retryable
    with store.unit_of_work() as uow:
        assert uow.customers.get("C-1").name == "First"


def test_a_locked_sqlite_file_is_a_retryable_error(tmp_path: Path) -> None:
    with SqlStore(tmp_path / "books.db", busy_timeout=0.05) as store:
        with store.unit_of_work() as writer, store.unit_of_work() as other:
            writer.customers.add("C-1", customer("C-1"))
            with pytest.raises(AdapterUnavailable, match="busy") as caught:
                other.customers.add("C-2", customer("C-2"))
            assert caught.value.retryable
            writer.commit()
            with pytest.raises(AdapterUnavailable, match="nothing was committed"):
                other.commit()  # a unit of work with a failed statement commits nothing
        with store.unit_of_work() as uow:
            assert [c.customer_id for c in uow.customers.values()] == ["C-1"]


# --- refusals -----------------------------------------------------------------------------------


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    assert upgrade(path) == head_revision()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE o2c_schema SET version_num = 'from-the-future'"))
    engine.dispose()
    with pytest.raises(SchemaTooNew, match="newer than this o2c") as caught:
        SqlStore(path)
    assert caught.value.revision == "from-the-future"
    assert str(path) in str(caught.value)
    with pytest.raises(SchemaTooNew):
        upgrade(path)


def test_a_database_of_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE accounts (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(ForeignDatabase, match="accounts"):
        SqlStore(path)
    with pytest.raises(ForeignDatabase):
        upgrade(path)


def test_the_ledger_journal_in_the_same_file_is_not_a_foreign_database(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    SqlLedger(f"sqlite:///{path}").close()
    with SqlStore(path) as store, store.unit_of_work() as uow:
        assert len(uow.customers) == 0


def test_an_older_database_is_upgraded_only_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    with pytest.raises(SchemaOutdated, match="o2c db upgrade"):
        SqlStore(path, upgrade=False)
    assert current_revision(path) is None
    assert upgrade(path) == head_revision()
    with SqlStore(path, upgrade=False) as store, store.unit_of_work() as uow:
        assert len(uow.customers) == 0


def test_a_corrupt_document_names_the_repository_and_the_key(sqlite_store: SqlStore) -> None:
    with sqlite_store.unit_of_work() as uow:
        uow.customers.add("C-1", customer("C-1"))
        uow.commit()
    with sqlite_store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE o2c_customers SET document = 'garbage{'"))
    with sqlite_store.unit_of_work() as uow, pytest.raises(UnreadableDocument) as caught:
        uow.customers.get("C-1")
    assert (caught.value.repository, caught.value.key) == ("customers", "C-1")
    assert "'C-1'" in str(caught.value)


def test_writing_to_a_read_only_file_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    with SqlStore(path) as store, store.unit_of_work() as uow:
        uow.customers.add("C-1", customer("C-1"))
        uow.commit()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    with SqlStore(read_only) as store, store.unit_of_work() as uow:
        assert uow.customers.get("C-1") == customer("C-1")
        uow.commands.recall("cmd-1")
        with pytest.raises(ReadOnlyStore, match="read-only"):
            uow.customers.add("C-2", customer("C-2"))
        with pytest.raises(ReadOnlyStore):
            uow.sequences.next("INV")
    with SqlStore(path) as store, store.unit_of_work() as uow:
        assert list(uow.customers.values()) == [customer("C-1")]
        assert uow.sequences.next("INV") == 1


# --- the schema ---------------------------------------------------------------------------------


def _ours(name: str | None, kind: str, parents: Mapping[str, str | None]) -> bool:
    """Compare the store's tables only (the database may hold the ledger's journal too)."""
    if kind == "schema":
        return True
    table = name if kind == "table" else parents.get("table_name")
    return table in tables.metadata.tables


def test_the_first_migration_creates_exactly_the_declared_schema(store: SqlStore) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": "o2c_schema", "include_name": _ours}
        )
        assert compare_metadata(context, tables.metadata) == []


def test_named_queries_never_scan_a_table(sqlite_store: SqlStore) -> None:
    """Every lookup and named query is answered through an index, already in order."""
    with sqlite_store.unit_of_work() as uow:
        for name, build in VARIANTS.items():
            repository = getattr(uow, name)
            for n in range(8):
                repository.save(f"K-{n}", build(f"K-{n}", n))
        uow.commit()
    statements = sqlite_store._statements  # the store's prepared statements, as the store runs
    lookups = [s.get for s in statements.values()]
    lookups += [q for s in statements.values() for q in s.queries.values()]
    lookups += [s.by_side for s in statements.values() if s.by_side is not None]
    with sqlite_store.engine.connect() as connection:
        # No ANALYZE: the store never runs it, and statistics of a handful of rows favour scans
        # that a large book would pay for.
        for statement in lookups:
            compiled = statement.compile(dialect=connection.dialect)
            sql = compiled.string
            params = tuple("x" for _ in compiled.positiontup or ())
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
            details = [detail for *_, detail in plan]
            scans = [d for d in details if d.startswith("SCAN")]
            for detail in scans:  # reads a whole index: only a partial one (open items) will do
                assert re.search(r"USING INDEX ix_\w+_(open|unresolved)\b", detail), (sql, detail)
            for detail in details:
                if "TEMP B-TREE" in detail:  # sorting what index searches found is bounded
                    assert not scans, (sql, detail)
                else:
                    assert "INDEX" in detail or "PRIMARY KEY" in detail, (sql, detail)
