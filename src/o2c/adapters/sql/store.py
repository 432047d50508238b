"""The SQL store: units of work over SQLite or PostgreSQL with SQLAlchemy Core.

A :class:`SqlUnitOfWork` holds one connection and one transaction from its first statement to
:meth:`~SqlUnitOfWork.commit` or :meth:`~SqlUnitOfWork.rollback`; every write runs at once, so
reads and named queries see the unit of work's own writes, and nothing is visible to others before
commit. A unit of work that only read ends its transaction without committing anything.

Concurrency is optimistic. Each row carries a ``version``: saving a value read in this unit of
work updates it only if the version is still the one read, and otherwise raises the retryable
``AdapterUnavailable`` (run the command again). So does a lock held too long, a deadlock, or a
SQLite snapshot that another writer made stale. Numbers come from one row per series, incremented
in the unit of work's transaction: its row lock (PostgreSQL) or the single writer (SQLite) keeps
them gap-free across processes, and a rollback hands them out again.

Every statement is built once, when the store is created, so SQLAlchemy compiles each only once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import attrs
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, CursorResult, Engine, Row

from o2c import codec
from o2c.adapters import indexing
from o2c.adapters.sql import schema
from o2c.adapters.sql._urls import database_url, is_sqlite, is_sqlite_file, shown
from o2c.domain.calls import ExternalCall
from o2c.domain.cash import Allocation
from o2c.domain.credit import CreditAccount
from o2c.domain.customers import Customer
from o2c.domain.dunning import DunningBook
from o2c.domain.events import DomainEvent
from o2c.domain.invoicing import CreditNote, Invoice
from o2c.domain.ledger import JournalEntry
from o2c.domain.money import Money, as_currency, decimals_of, from_minor_units, to_minor
from o2c.domain.orders import Order, OrderStatus
from o2c.domain.payments import Payment
from o2c.domain.quotes import Quote
from o2c.domain.receipts import Receipt
from o2c.domain.receivables import OpenItem
from o2c.domain.references import normalise_payer_name
from o2c.domain.reporting import (
    DEFAULT_AGING,
    AgingBasis,
    AgingReport,
    AgingRow,
    AgingSchedule,
)
from o2c.domain.worklist import QueuedReceipt
from o2c.ports.carriers import Shipment
from o2c.ports.errors import (
    AdapterError,
    AdapterRejected,
    AdapterUnavailable,
    DuplicateRequest,
    NotFound,
)
from o2c.ports.notifications import Notification
from o2c.ports.outbox import OutboxBacklog, OutboxMessage, OutboxRepository
from o2c.ports.persistence import (
    CustomerRepository,
    ExceptionQueueRepository,
    ExternalCallRepository,
    IdempotencyRecord,
    InvoiceRepository,
    NumberSequence,
    OpenItemQueries,
    OrderRepository,
    PaymentRepository,
    ReceiptRepository,
    Repository,
    ShipmentRepository,
    normalise_account,
)

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "CannotOpenStore",
    "ForeignDatabase",
    "ReadOnlyStore",
    "SchemaMismatch",
    "SchemaOutdated",
    "SchemaTooNew",
    "SqlOutbox",
    "SqlStore",
    "SqlUnitOfWork",
    "UnreadableDocument",
    "current_revision",
    "open_engine",
    "upgrade",
]

T = TypeVar("T")

BUSY_TIMEOUT_SECONDS = 5.0
"""How long a SQLite writer waits for another one before giving up (retryably)."""

_MIGRATIONS = Path(__file__).with_name("migrations")


# --- errors -------------------------------------------------------------------------------------


@attrs.frozen
class CannotOpenStore(AdapterRejected):
    """The database cannot be opened: a missing directory, a bad URL, a server that refuses."""

    code: str | None = "cannot_open"


@attrs.frozen
class ReadOnlyStore(AdapterRejected):
    """The database may be read but not written (a read-only file, a standby server)."""

    code: str | None = "read_only"


@attrs.frozen
class ForeignDatabase(AdapterRejected):
    """The database holds tables but no o2c schema revision: it belongs to another application."""

    code: str | None = "foreign_database"


@attrs.frozen
class SchemaMismatch(AdapterRejected):
    """The database's schema revision is not the one this version of o2c works with."""

    revision: str | None = None
    """The revision the database is at (``None``: it has no o2c tables yet)."""
    expected: str = ""
    """The revision this version of o2c works with."""


@attrs.frozen
class SchemaOutdated(SchemaMismatch):
    """The schema is older than the code: upgrade it (``o2c db upgrade --db URL``)."""

    code: str | None = "schema_outdated"


@attrs.frozen
class SchemaTooNew(SchemaMismatch):
    """The schema is newer than the code (an unknown revision): use a newer o2c."""

    code: str | None = "schema_too_new"


@attrs.frozen
class UnreadableDocument(AdapterRejected):
    """A stored document cannot be read back: corrupt, or written by a newer o2c."""

    code: str | None = "unreadable_document"
    repository: str = ""
    key: str = ""


def _conflict(adapter: str, what: str) -> AdapterUnavailable:
    return AdapterUnavailable(
        adapter, f"{what} was changed by another unit of work meanwhile; run the command again"
    )


_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014", "57P01", "57P03"})
"""Serialization failure, deadlock, lock not available, cancelled, server shutting down."""


def _translate(error: exc.DBAPIError, adapter: str, where: str, doing: str) -> AdapterError:
    """The o2c error for a driver error met while ``doing`` something in the store ``where``."""
    original = error.orig
    sqlite_name: str = getattr(original, "sqlite_errorname", "") or ""
    sqlstate: str = getattr(original, "sqlstate", "") or ""
    detail = str(original).strip().splitlines()[0] if str(original).strip() else type(original)
    if sqlite_name.startswith("SQLITE_READONLY") or sqlstate == "25006":
        return ReadOnlyStore(adapter, f"{where} is read-only: cannot {doing} ({detail})")
    if (
        sqlite_name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
        or sqlstate in _RETRYABLE_SQLSTATES
        or sqlstate.startswith("08")
        or error.connection_invalidated
        or isinstance(error, exc.OperationalError)
    ):
        return AdapterUnavailable(
            adapter, f"{where} is busy or unreachable: cannot {doing} now ({detail}); try again"
        )
    return AdapterRejected(adapter, f"{where} refused to {doing}: {detail}", "database_error")


# --- what each repository stores besides the document -------------------------------------------

Columns = Callable[[Any], dict[str, Any]]
"""The index columns of a stored value."""


def _no_columns(value: object) -> dict[str, Any]:
    return {}


def _receivable_columns(item: OpenItem | None) -> dict[str, Any]:
    if item is None:
        return {
            "customer_id": None,
            "currency": None,
            "document_date": None,
            "open_minor": None,
            "is_open": False,
        }
    return {
        "customer_id": item.customer_id,
        "currency": item.currency,
        "document_date": item.document_date,
        "open_minor": to_minor(item.open),
        "is_open": indexing.open_item(item) is not None,
    }


def _order_columns(order: Order) -> dict[str, Any]:
    return {
        "customer_id": order.customer_id,
        "status": order.status.name,
        "awaiting_invoice": indexing.awaiting_invoice(order),
    }


def _payment_columns(payment: Payment) -> dict[str, Any]:
    return {
        "order_id": payment.reference,
        "gateway_reference": payment.gateway_reference or None,
        "unresolved": indexing.unresolved(payment),
    }


def _receipt_columns(receipt: Receipt) -> dict[str, Any]:
    return {"source_id": receipt.source_id, "payment_id": receipt.payment_id or None}


def _customer_columns(customer: Customer) -> dict[str, Any]:
    return {"name_key": indexing.customer_name(customer)}


def _queue_columns(entry: QueuedReceipt) -> dict[str, Any]:
    return {
        "customer_id": entry.customer_id,
        "currency": entry.currency,
        "value_date": entry.value_date,
        "awaiting": entry.is_open,
    }


def _shipment_columns(shipment: Shipment) -> dict[str, Any]:
    return {"order_id": shipment.order_id}


def _call_columns(call: ExternalCall) -> dict[str, Any]:
    return {"subject": call.subject, "unsettled": call.is_unsettled}


@attrs.frozen
class _Side:
    """A side table holding a multi-valued index key of a repository."""

    table: sa.Table
    column: str
    values: Callable[[Any], Sequence[str]]


@attrs.frozen
class _Kind:
    """How one repository is stored."""

    as_type: Any
    columns: Columns = _no_columns
    side: _Side | None = None
    open_item: Callable[[Any], OpenItem | None] | None = None
    """The open item of a stored value, whose open instalments aging reads from a side table."""


_KINDS: Mapping[str, _Kind] = {
    "customers": _Kind(
        Customer,
        _customer_columns,
        side=_Side(schema.customer_payer_accounts, "account", indexing.payer_accounts),
    ),
    "credit_accounts": _Kind(CreditAccount),
    "quotes": _Kind(Quote),
    "orders": _Kind(Order, _order_columns),
    "invoices": _Kind(
        Invoice,
        lambda invoice: _receivable_columns(invoice.open_item),
        _Side(schema.invoice_orders, "order_id", indexing.invoice_orders),
        lambda invoice: invoice.open_item,
    ),
    "credit_notes": _Kind(CreditNote),
    "charges": _Kind(OpenItem, _receivable_columns, open_item=lambda item: item),
    "payments": _Kind(Payment, _payment_columns),
    "receipts": _Kind(Receipt, _receipt_columns),
    "allocations": _Kind(tuple[Allocation, ...]),
    "shipments": _Kind(Shipment, _shipment_columns),
    "dunning": _Kind(DunningBook),
    "ledger_outbox": _Kind(JournalEntry),
    "calls": _Kind(ExternalCall, _call_columns),
    "exception_queue": _Kind(QueuedReceipt, _queue_columns),
}


# --- statements ---------------------------------------------------------------------------------


def _param(column: str) -> sa.BindParameter[Any]:
    # Bind names differ from column names: SQLAlchemy reserves those for its own VALUES.
    return sa.bindparam(f"p_{column}")


class _Statements:
    """Every statement on one repository table, built once per store and dialect."""

    def __init__(self, name: str, kind: _Kind, dialect: str) -> None:
        table = schema.repository_tables[name]
        c = table.c
        self.name = name
        self.kind = kind
        self.table = table
        read = sa.select(c.key, c.version, c.schema_version, c.document)
        self.read = read
        self.get = read.where(c.key == _param("key"))
        self.values = read.order_by(c.position)
        self.count = sa.select(sa.func.count()).select_from(table)
        index_columns = [column.name for column in table.columns][5:]
        written = ["schema_version", "document", *index_columns]
        fresh: dict[str, Any] = {"key": _param("key"), "version": 1}
        fresh.update({column: _param(column) for column in written})
        if dialect == "sqlite":
            # SQLite has one writer at a time, so the next position cannot be taken meanwhile.
            next_position = sa.select(sa.func.coalesce(sa.func.max(c.position), 0) + 1)
            fresh["position"] = next_position.scalar_subquery()
            insert: Any = sqlite.insert(table)
        else:
            insert = postgresql.insert(table)
        insert = insert.values(fresh)
        self.add = insert.on_conflict_do_nothing(index_elements=[c.key]).returning(c.version)
        self.upsert = insert.on_conflict_do_update(
            index_elements=[c.key],
            set_={
                "version": c.version + 1,
                **{column: insert.excluded[column] for column in written},
            },
        ).returning(c.version)
        self.update = (
            sa.update(table)
            .where(c.key == _param("key"), c.version == _param("version"))
            .values({"version": c.version + 1, **{column: _param(column) for column in written}})
        )
        self.delete = sa.delete(table).where(c.key == _param("key"))
        self.side_delete: Any = None
        self.side_insert: Any = None
        self.by_side: Any = None
        if kind.side is not None:
            side = kind.side.table
            self.side_delete = sa.delete(side).where(side.c.key == _param("key"))
            self.side_insert = sa.insert(side).values(
                {"key": _param("key"), kind.side.column: _param("value")}
            )
            self.by_side = (
                read.join(side, side.c.key == c.key)
                .where(side.c[kind.side.column] == _param("value"))
                .order_by(c.position)
            )
        self.instalments_delete: Any = None
        self.instalments_insert: Any = None
        if kind.open_item is not None:
            parts = schema.open_instalments
            self.instalments_delete = sa.delete(parts).where(
                parts.c.repository == name, parts.c.key == _param("key")
            )
            written = [column.name for column in parts.c if column.name != "repository"]
            self.instalments_insert = sa.insert(parts).values(
                {"repository": name, **{column: _param(column) for column in written}}
            )
        self.queries: dict[str, Any] = {}
        if "is_open" in c:
            is_open = c.is_open == sa.true()  # as the partial indexes say it
            self.queries["open"] = read.where(is_open).order_by(c.position)
            self.queries["open_of"] = read.where(
                is_open, c.customer_id == _param("customer"), c.currency == _param("currency")
            ).order_by(c.position)
        for flag in ("unresolved", "unsettled"):
            if flag in c:
                self.queries[flag] = read.where(c[flag] == sa.true()).order_by(c.position)
        self.queries.update(_queue_queries(read, c))
        for column in (
            "name_key",
            "status",
            "awaiting_invoice",
            "order_id",
            "gateway_reference",
            "source_id",
            "payment_id",
            "subject",
        ):
            if column in c:
                self.queries[column] = read.where(c[column] == _param("value")).order_by(c.position)

    def instalment_rows(self, key: str, value: object) -> list[dict[str, Any]]:
        """The bind parameters of the open instalments of ``value`` (none once settled)."""
        assert self.kind.open_item is not None
        item = indexing.open_item(self.kind.open_item(value))
        if item is None:
            return []
        rows: list[dict[str, Any]] = []
        item_due_date = item.due_date
        for part, instalment in enumerate(item.instalments):
            if instalment.open.amount > 0:
                rows.append(
                    {
                        "p_key": key,
                        "p_part": part,
                        "p_customer_id": item.customer_id,
                        "p_currency": item.currency,
                        "p_document_date": item.document_date,
                        "p_due_date": instalment.due_date,
                        "p_item_due_date": item_due_date,
                        "p_open_minor": to_minor(instalment.open),
                        "p_is_first": not rows,
                    }
                )
        return rows

    def row(self, key: str, value: object) -> dict[str, Any]:
        """The bind parameters that store ``value`` under ``key``."""
        params = {
            "p_key": key,
            "p_schema_version": codec.SCHEMA_VERSION,
            "p_document": codec.dumps(value, self.kind.as_type),
        }
        for column, data in self.kind.columns(value).items():
            params[f"p_{column}"] = data
        return params


def _queue_queries(read: Any, c: Any) -> dict[str, Any]:
    """The exception queue's open entries, one statement per combination of filters (customer,
    currency, arrived by), so each compiles once; none for another table."""
    queries: dict[str, Any] = {}
    if "awaiting" not in c:
        return queries
    for customer in (False, True):
        for currency in (False, True):
            for arrived in (False, True):
                query = read.where(c.awaiting == sa.true())  # as the partial indexes say it
                if customer:
                    query = query.where(c.customer_id == _param("customer"))
                if currency:
                    query = query.where(c.currency == _param("currency"))
                if arrived:
                    query = query.where(c.value_date <= _param("arrived_by"))
                queries[f"queue:{customer}:{currency}:{arrived}"] = query.order_by(c.position)
    return queries


def _sequence_statements(dialect: str) -> Any:
    table = schema.sequences
    insert: Any = (sqlite if dialect == "sqlite" else postgresql).insert(table)
    insert = insert.values(series=_param("series"), last=1)
    return insert.on_conflict_do_update(
        index_elements=[table.c.series], set_={"last": table.c["last"] + 1}
    ).returning(table.c["last"])


def _command_statements(dialect: str) -> tuple[Any, Any]:
    table = schema.commands
    recall = sa.select(table.c.result).where(table.c.key == _param("key"))
    insert: Any = (sqlite if dialect == "sqlite" else postgresql).insert(table)
    remember = (
        insert.values(key=_param("key"), result=_param("result"))
        .on_conflict_do_nothing(index_elements=[table.c.key])
        .returning(table.c.key)
    )
    return recall, remember


class _OutboxStatements:
    """Every statement on one outbox table, built once per store and dialect."""

    def __init__(self, name: str, value_type: Any, dialect: str) -> None:
        table = schema.outbox_tables[name]
        c = table.c
        self.name = name
        self.value_type = value_type
        read = sa.select(
            c.message_id,
            c.stream,
            c.enqueued_at,
            c.attempts,
            c.not_before,
            c.last_error,
            c.schema_version,
            c.document,
        )
        self.find = read.where(c.message_id == _param("message_id"))
        ordered = read.order_by(c.position)
        self.waiting = ordered
        self.waiting_limited = ordered.limit(sa.bindparam("p_limit", type_=sa.Integer))
        of_streams = ordered.where(c.stream.in_(sa.bindparam("p_streams", expanding=True)))
        self.of_streams = of_streams
        self.of_streams_limited = of_streams.limit(sa.bindparam("p_limit", type_=sa.Integer))
        fresh: dict[str, Any] = {
            column: _param(column)
            for column in (
                "message_id",
                "stream",
                "enqueued_at",
                "attempts",
                "not_before",
                "last_error",
                "schema_version",
                "document",
            )
        }
        if dialect == "sqlite":
            # One writer at a time: the next position cannot be taken meanwhile.
            fresh["position"] = sa.select(
                sa.func.coalesce(sa.func.max(c.position), 0) + 1
            ).scalar_subquery()
            insert: Any = sqlite.insert(table)
        else:
            insert = postgresql.insert(table)
        self.add = insert.values(fresh).on_conflict_do_nothing(index_elements=[c.message_id])
        self.retry_later = (
            sa.update(table)
            .where(c.message_id == _param("message_id"))
            .values(
                attempts=c.attempts + 1,
                not_before=_param("not_before"),
                last_error=_param("last_error"),
            )
        )
        self.delivered = sa.delete(table).where(
            c.message_id.in_(sa.bindparam("p_message_ids", expanding=True))
        )
        self.counts = sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((c.attempts > 0, 1), else_=0)), 0)
        ).select_from(table)
        self.oldest = sa.select(c.message_id, c.enqueued_at).order_by(c.position).limit(1)


# --- engines, revisions, upgrades ---------------------------------------------------------------


def _sqlite_connected(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling would start transactions late (before the first
    # write, after the reads); o2c begins them itself, on the first statement of a unit of work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _engine(url: URL, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> Engine:
    if is_sqlite(url):
        engine = sa.create_engine(
            url,
            # The driver's timeout is SQLite's busy timeout; connections move between threads
            # through the pool, one unit of work at a time.
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_connected)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # One snapshot per unit of work, as SQLite gives: a command must not decide on an open item
    # read before another process paid it and then load the invoice as it is after. A row
    # changed since the snapshot fails the write with a serialization error (retryable).
    return sa.create_engine(url, isolation_level="REPEATABLE READ")


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(_MIGRATIONS))


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def _revision(connection: Connection, where: str, adapter: str) -> str | None:
    """The database's o2c revision; ``None`` for an empty database; ``ForeignDatabase`` if it
    holds tables but no revision."""
    tables = set(sa.inspect(connection).get_table_names())
    if schema.VERSION_TABLE not in tables:
        # Tables of o2c's own (the SQL ledger's journal) do not make a database foreign.
        foreign = sorted(name for name in tables if not name.startswith("o2c_"))
        if foreign:
            shown_tables = ", ".join(foreign[:5])
            raise ForeignDatabase(
                adapter,
                f"{where} holds tables of another application ({shown_tables}) and no o2c "
                "schema; point o2c at an empty database or at its own",
            )
        return None
    context = MigrationContext.configure(connection, opts={"version_table": schema.VERSION_TABLE})
    return context.get_current_revision()


def _is_known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def _open(
    url: URL, adapter: str, *, upgrade: bool, busy_timeout: float = BUSY_TIMEOUT_SECONDS
) -> Engine:
    """An engine on a database whose schema is at this code's revision (upgraded if allowed)."""
    where = shown(url)
    engine = _engine(url, busy_timeout)
    try:
        scripts = _scripts()
        head = scripts.get_current_head() or ""
        with engine.connect() as connection:
            revision = _revision(connection, where, adapter)
        if revision == head:
            return engine
        if revision is not None and not _is_known(scripts, revision):
            raise SchemaTooNew(
                adapter,
                f"{where} is at schema revision {revision!r}, newer than this o2c knows "
                f"({head!r}); use the newer o2c that wrote it",
                revision,
                head,
            )
        if not upgrade:
            raise SchemaOutdated(
                adapter,
                f"{where} is at schema revision {revision!r}, older than this o2c's {head!r}; "
                f"run `o2c db upgrade --db {where}` (back it up first)",
                revision,
                head,
            )
        _upgrade(engine)
        return engine
    except exc.DBAPIError as error:
        engine.dispose()
        translated = _translate(error, adapter, where, "open the database")
        if isinstance(translated, AdapterUnavailable | ReadOnlyStore):
            raise translated from error
        raise CannotOpenStore(adapter, f"cannot open {where}: {error.orig}") from error
    except BaseException:
        engine.dispose()
        raise


def _upgrade(engine: Engine) -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_engine(url: URL, name: str = "sql", *, upgrade: bool = False) -> Engine:
    """An engine on the database at ``url``, its schema at this o2c's revision (upgraded if
    ``upgrade``); the same checks and typed errors as opening a :class:`SqlStore`."""
    return _open(url, name, upgrade=upgrade)


def upgrade(url: str | Path, *, name: str = "sql") -> str:
    """Bring the database at ``url`` to this o2c's schema revision (creating a new one); return it.

    Refuses a database of another application (:class:`ForeignDatabase`) and one newer than the
    code (:class:`SchemaTooNew`).
    """
    parsed = database_url(url)
    _open(parsed, name, upgrade=True).dispose()
    return _scripts().get_current_head() or ""


def current_revision(url: str | Path, *, name: str = "sql") -> str | None:
    """The schema revision of the database at ``url`` (``None`` if it has no o2c tables yet)."""
    parsed = database_url(url)
    engine = _engine(parsed)
    try:
        with engine.connect() as connection:
            return _revision(connection, shown(parsed), name)
    except exc.DBAPIError as error:
        raise CannotOpenStore(name, f"cannot open {shown(parsed)}: {error.orig}") from error
    finally:
        engine.dispose()


# --- the store ----------------------------------------------------------------------------------


class SqlStore:
    """A book kept in a SQL database: SQLite (a file; a bare path means one) or PostgreSQL.

    Opening checks the schema revision. A new or older SQLite file is upgraded when ``upgrade``
    is true, the default for SQLite files; for other databases run ``o2c db upgrade`` (or
    :func:`upgrade`) first, or pass ``upgrade=True``. ``busy_timeout`` is how long (seconds) a
    SQLite writer waits for another before the retryable ``AdapterUnavailable``. Close the store
    (or use it as a context manager) to release its connections.
    """

    def __init__(
        self,
        url: str | Path,
        *,
        name: str | None = None,
        upgrade: bool | None = None,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ):
        try:
            self.url = database_url(url)
        except ValueError as error:
            raise CannotOpenStore(name or "sql", str(error)) from error
        self.name = name or "sql"
        self.where = shown(self.url)
        """The URL without its password, as messages show it."""
        allowed = is_sqlite_file(self.url) if upgrade is None else upgrade
        self._engine = _open(self.url, self.name, upgrade=allowed, busy_timeout=busy_timeout)
        dialect = self._engine.dialect.name
        self._statements = {name: _Statements(name, kind, dialect) for name, kind in _KINDS.items()}
        self._next_number = _sequence_statements(dialect)
        self._recall, self._remember = _command_statements(dialect)
        self._outboxes = {
            "event_outbox": _OutboxStatements("event_outbox", DomainEvent, dialect),
            "notification_outbox": _OutboxStatements("notification_outbox", Notification, dialect),
        }

    def unit_of_work(self) -> SqlUnitOfWork:
        """A fresh unit of work over this store."""
        return SqlUnitOfWork(self)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for maintenance and tests; units of work are the API)."""
        return self._engine

    def close(self) -> None:
        """Release every connection of the store."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlStore({self.where!r})"


class _Transaction:
    """The connection and transaction of a unit of work, opened on its first statement.

    After a statement failed, the transaction can only roll back: committing the writes before
    the failure would leave the command half-written (and PostgreSQL has aborted it anyway).
    """

    __slots__ = ("_connection", "failed", "store", "wrote")

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._connection: Connection | None = None
        self.wrote = False
        self.failed = False

    def execute(self, statement: Any, params: Any = None, *, doing: str) -> CursorResult[Any]:
        """Run a statement in the unit of work's transaction; driver errors become o2c errors."""
        try:
            connection = self._connection
            if connection is None:
                connection = self._connection = self.store._engine.connect()
            return connection.execute(statement, params)
        except exc.DBAPIError as error:
            self.failed = True
            raise _translate(error, self.store.name, self.store.where, doing) from error
        except exc.TimeoutError as error:
            raise AdapterUnavailable(
                self.store.name, f"{self.store.where}: no free connection; try again"
            ) from error

    def end(self, *, commit: bool) -> None:
        """Commit (if anything was written and ``commit``) or roll back, then release."""
        connection, self._connection = self._connection, None
        wrote, self.wrote = self.wrote, False
        failed, self.failed = self.failed, False
        if connection is None:
            return
        try:
            if commit and wrote and failed:
                connection.rollback()
                raise AdapterUnavailable(
                    self.store.name,
                    f"{self.store.where}: a statement of this unit of work failed, so nothing "
                    "was committed; run the command again",
                )
            if commit and wrote:
                connection.commit()
            else:
                connection.rollback()
        except exc.DBAPIError as error:
            raise _translate(error, self.store.name, self.store.where, "commit") from error
        finally:
            connection.close()


class SqlRepository(Generic[T]):
    """One repository seen through a unit of work: reads and writes in its transaction."""

    __slots__ = ("_adapter", "_name", "_read", "_statements", "_transaction")

    def __init__(self, transaction: _Transaction, statements: _Statements) -> None:
        self._transaction = transaction
        self._statements = statements
        self._name = statements.name
        self._adapter = transaction.store.name
        # The version of each key as this unit of work saw it (None: absent), for saves.
        self._read: dict[str, int | None] = {}

    def _decode(self, row: Row[Any]) -> T:
        key, version, schema_version, document = tuple(row)
        self._read[key] = version
        if schema_version > codec.SCHEMA_VERSION:
            raise UnreadableDocument(
                self._adapter,
                f"{self._transaction.store.where}: {self._name} entry {key!r} is stored in form "
                f"{schema_version}, newer than this o2c reads ({codec.SCHEMA_VERSION})",
                repository=self._name,
                key=key,
            )
        try:
            value: T = codec.loads(document, self._statements.kind.as_type)
        except Exception as error:  # whatever the codec raises, the stored text is unreadable
            raise UnreadableDocument(
                self._adapter,
                f"{self._transaction.store.where}: {self._name} entry {key!r} is corrupt "
                f"({type(error).__name__}: {error})",
                repository=self._name,
                key=key,
            ) from error
        return value

    def _rows(self, statement: Any, params: Mapping[str, Any] | None = None) -> tuple[T, ...]:
        rows = self._transaction.execute(statement, params, doing=f"read {self._name}").all()
        return tuple(self._decode(row) for row in rows)

    def find(self, key: str) -> T | None:
        """The value under ``key``, or ``None``."""
        row = self._transaction.execute(
            self._statements.get, {"p_key": key}, doing=f"read {self._name}"
        ).first()
        if row is None:
            self._read[key] = None
            return None
        return self._decode(row)

    def get(self, key: str) -> T:
        """The value under ``key``; ``NotFound`` if there is none."""
        value = self.find(key)
        if value is None:
            raise NotFound(self._adapter, f"no {self._name} entry {key!r}", key)
        return value

    def add(self, key: str, value: T) -> None:
        """Store a value under a new key; ``DuplicateRequest`` if the key is taken."""
        statements = self._statements
        row = self._write(statements.add, statements.row(key, value), key).first()
        if row is None:
            raise DuplicateRequest(
                self._adapter, f"{self._name} already holds an entry {key!r}", key
            )
        self._read[key] = 1
        self._write_side(key, value, fresh=True)
        self._write_instalments(key, value, fresh=True)

    def save(self, key: str, value: T) -> None:
        """Store a new version of the value under ``key`` (or a first one).

        ``AdapterUnavailable`` (retry) if the value changed since this unit of work read it.
        """
        statements = self._statements
        params = statements.row(key, value)
        if key not in self._read:
            self._read[key] = self._write(statements.upsert, params, key).scalar_one()
        elif (version := self._read[key]) is None:
            if self._write(statements.add, params, key).first() is None:
                raise _conflict(self._adapter, f"{self._name} entry {key!r}")
            self._read[key] = 1
        else:
            params["p_version"] = version
            if self._write(statements.update, params, key).rowcount != 1:
                raise _conflict(self._adapter, f"{self._name} entry {key!r}")
            self._read[key] = version + 1
        self._write_side(key, value, fresh=False)
        self._write_instalments(key, value, fresh=False)

    def remove(self, key: str) -> None:
        """Delete the value under ``key``; a missing key is a no-op."""
        self._write(self._statements.delete, {"p_key": key}, key)
        if self._statements.instalments_delete is not None:
            self._write(self._statements.instalments_delete, {"p_key": key}, key)
        self._read[key] = None

    def values(self) -> Iterator[T]:
        """Every value, in the order the keys were first stored."""
        return iter(self._rows(self._statements.values))

    def __len__(self) -> int:
        count: int = self._transaction.execute(
            self._statements.count, doing=f"count {self._name}"
        ).scalar_one()
        return count

    def _query(self, name: str, **params: Any) -> tuple[T, ...]:
        return self._rows(self._statements.queries[name], {f"p_{k}": v for k, v in params.items()})

    def _write(self, statement: Any, params: Any, key: str) -> CursorResult[Any]:
        transaction = self._transaction
        transaction.wrote = True
        return transaction.execute(statement, params, doing=f"write {self._name} entry {key!r}")

    def _write_side(self, key: str, value: T, *, fresh: bool) -> None:
        side = self._statements.kind.side
        if side is None:
            return
        statements = self._statements
        if not fresh:
            self._write(statements.side_delete, {"p_key": key}, key)
        values = side.values(value)
        if values:
            self._write(statements.side_insert, [{"p_key": key, "p_value": v} for v in values], key)

    def _write_instalments(self, key: str, value: T, *, fresh: bool) -> None:
        statements = self._statements
        if statements.instalments_insert is None:
            return
        if not fresh:
            self._write(statements.instalments_delete, {"p_key": key}, key)
        rows = statements.instalment_rows(key, value)
        if rows:
            self._write(statements.instalments_insert, rows, key)

    def __repr__(self) -> str:
        return f"SqlRepository({self._name!r})"


class SqlCustomers(SqlRepository[Customer]):
    """Customers, with the accounts they pay from in a side table."""

    __slots__ = ()

    def by_payer_account(self, account: str) -> tuple[Customer, ...]:
        """The customers that pay from ``account`` (compared without spaces, upper case)."""
        return self._rows(self._statements.by_side, {"p_value": normalise_account(account)})

    def by_name(self, name: str) -> tuple[Customer, ...]:
        """The customers named ``name`` (case and spacing aside)."""
        return self._query("name_key", value=normalise_payer_name(name))


class SqlExceptionQueue(SqlRepository[QueuedReceipt]):
    """The exception queue, open entries under partial indexes by customer and currency."""

    __slots__ = ()

    def open_entries(
        self,
        *,
        customer_id: str | None = None,
        currency: str | None = None,
        arrived_by: date | None = None,
    ) -> tuple[QueuedReceipt, ...]:
        """The open entries of a customer, a currency, arrived by a date (whichever given)."""
        name = f"queue:{customer_id is not None}:{currency is not None}:{arrived_by is not None}"
        params: dict[str, Any] = {}
        if customer_id is not None:
            params["customer"] = customer_id
        if currency is not None:
            params["currency"] = currency
        if arrived_by is not None:
            params["arrived_by"] = arrived_by
        return self._query(name, **params)


class SqlOrders(SqlRepository[Order]):
    """Orders, with status and the customer of those still to invoice in indexed columns."""

    __slots__ = ()

    def with_status(self, status: OrderStatus) -> tuple[Order, ...]:
        """Every order in ``status``."""
        return self._query("status", value=status.name)

    def awaiting_invoice(self, customer_id: str) -> tuple[Order, ...]:
        """The customer's orders with a positive uninvoiced gross."""
        return self._query("awaiting_invoice", value=customer_id)


class SqlInvoices(SqlRepository[Invoice]):
    """Invoices, with the orders they bill in a side table and their open item in columns."""

    __slots__ = ()

    def of_order(self, order_id: str) -> tuple[Invoice, ...]:
        """The issued invoices billing a line of ``order_id``, in issue order."""
        return self._rows(self._statements.by_side, {"p_value": order_id})


class SqlPayments(SqlRepository[Payment]):
    """Card payments, with order, gateway reference and unresolved state in columns."""

    __slots__ = ()

    def of_order(self, order_id: str) -> tuple[Payment, ...]:
        """The payments taken for ``order_id``."""
        return self._query("order_id", value=order_id)

    def by_gateway_reference(self, reference: str) -> Payment | None:
        """The payment the gateway knows by ``reference``, or ``None``."""
        found = self._query("gateway_reference", value=reference)
        return found[0] if found else None

    def awaiting_gateway_reference(self) -> tuple[Payment, ...]:
        """Pending payments without a gateway reference yet."""
        return self._query("unresolved")


class SqlReceipts(SqlRepository[Receipt]):
    """Receipts, with source and card payment in columns."""

    __slots__ = ()

    def by_source(self, source_id: str) -> Receipt | None:
        """The receipt recorded from ``source_id``, or ``None``."""
        found = self._query("source_id", value=source_id)
        return found[0] if found else None

    def of_payment(self, payment_id: str) -> tuple[Receipt, ...]:
        """The receipts recording money of card payment ``payment_id``."""
        return self._query("payment_id", value=payment_id)


class SqlShipments(SqlRepository[Shipment]):
    """Shipments, with their order in a column."""

    __slots__ = ()

    def of_order(self, order_id: str) -> tuple[Shipment, ...]:
        """The shipments booked for ``order_id``."""
        return self._query("order_id", value=order_id)


class SqlExternalCalls(SqlRepository[ExternalCall]):
    """Calls to other systems, with subject and unsettled state in columns."""

    __slots__ = ()

    def unsettled(self) -> tuple[ExternalCall, ...]:
        """The calls whose outcome is open, oldest first."""
        return self._query("unsettled")

    def of_subject(self, subject: str) -> tuple[ExternalCall, ...]:
        """The calls made for ``subject``."""
        return self._query("subject", value=subject)


class SqlOpenItems:
    """Issued invoices and charges as open items, from the partial indexes of open rows."""

    __slots__ = ("_charges", "_invoices")

    def __init__(self, invoices: SqlInvoices, charges: SqlRepository[OpenItem]) -> None:
        self._invoices = invoices
        self._charges = charges

    def find(self, item_id: str) -> OpenItem | None:
        """The open item of invoice or charge ``item_id``, or ``None``."""
        invoice = self._invoices.find(item_id)
        if invoice is not None:
            return invoice.open_item
        return self._charges.find(item_id)

    def open(self) -> tuple[OpenItem, ...]:
        """Every unsettled item: invoices first, then charges."""
        items = [i.open_item for i in self._invoices._query("open") if i.open_item]
        items.extend(self._charges._query("open"))
        return tuple(items)

    def open_of(self, customer_id: str, currency: str) -> tuple[OpenItem, ...]:
        """The customer's unsettled items in ``currency``."""
        params = {"customer": customer_id, "currency": currency}
        items = [i.open_item for i in self._invoices._query("open_of", **params) if i.open_item]
        items.extend(self._charges._query("open_of", **params))
        return tuple(items)

    def aging(
        self,
        as_of: date,
        schedule: AgingSchedule = DEFAULT_AGING,
        basis: AgingBasis = AgingBasis.DUE_DATE,
        *,
        split_instalments: bool = False,
    ) -> AgingReport:
        """The unsettled items aged as of ``as_of``, summed per bucket in the database."""
        transaction = self._invoices._transaction
        found = transaction.execute(
            _aging_statement(as_of, schedule, basis, split_instalments), doing="age open items"
        ).all()
        width = len(schedule.buckets)
        groups: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
        for row in found:
            customer_id, currency, bucket, open_minor, count = tuple(row)
            sums, counts = groups.setdefault((currency, customer_id), ([0] * width, [0] * width))
            sums[bucket] += int(open_minor)
            counts[bucket] += int(count)
        rows: list[AgingRow] = []
        totals: list[AgingRow] = []
        grand: dict[str, tuple[list[int], list[int]]] = {}
        for (currency, customer_id), (sums, counts) in sorted(groups.items()):
            rows.append(_aging_row(customer_id, currency, sums, counts))
            grand_sums, grand_counts = grand.setdefault(currency, ([0] * width, [0] * width))
            for index in range(width):
                grand_sums[index] += sums[index]
                grand_counts[index] += counts[index]
        for currency, (grand_sums, grand_counts) in grand.items():
            totals.append(_aging_row(None, currency, grand_sums, grand_counts))
        return AgingReport(as_of, basis, schedule, tuple(rows), tuple(totals), split_instalments)


def _aging_statement(
    as_of: date, schedule: AgingSchedule, basis: AgingBasis, split_instalments: bool
) -> Any:
    """Open amounts and counts per customer, currency and bucket of the schedule."""
    parts = schema.open_instalments
    if basis is AgingBasis.DOCUMENT_DATE:
        since = parts.c.document_date
    else:
        since = parts.c.due_date if split_instalments else parts.c.item_due_date
    # An age of at most ``limit`` days is a date on or after ``as_of - limit``: comparing dates
    # needs no date arithmetic in SQL, which SQLite and PostgreSQL spell differently.
    whens: list[tuple[Any, int]] = []
    for index, bucket in enumerate(schedule.buckets[:-1]):
        assert bucket.last_day is not None
        try:
            whens.append((since >= as_of - timedelta(days=bucket.last_day), index))
        except OverflowError:
            whens.append((sa.true() if bucket.last_day > 0 else sa.false(), index))
    last = len(schedule.buckets) - 1
    bucket_of: Any = sa.case(*whens, else_=last) if whens else sa.literal(last)
    counted: Any = sa.literal(1) if split_instalments else sa.case((parts.c.is_first, 1), else_=0)
    aged = sa.select(
        parts.c.customer_id,
        parts.c.currency,
        bucket_of.label("bucket"),
        parts.c.open_minor,
        counted.label("counted"),
    ).subquery()
    # Grouping the subquery's column, not the CASE itself: PostgreSQL would see the CASE's
    # parameters in GROUP BY as other expressions than those in the select list.
    return sa.select(
        aged.c.customer_id,
        aged.c.currency,
        aged.c.bucket,
        sa.func.sum(aged.c.open_minor),
        sa.func.sum(aged.c.counted),
    ).group_by(aged.c.customer_id, aged.c.currency, aged.c.bucket)


def _aging_row(
    customer_id: str | None, currency: str, sums: list[int], counts: list[int]
) -> AgingRow:
    code = as_currency(currency)
    places = decimals_of(code)

    def amount(minor: int, count: int) -> Money:
        # An empty bucket is the plain zero the domain's report starts each sum from.
        return from_minor_units(minor, places, code) if count else Money(Decimal(0), code)

    return AgingRow(
        customer_id,
        currency,
        tuple(amount(m, c) for m, c in zip(sums, counts, strict=True)),
        tuple(counts),
        amount(sum(sums), sum(counts)),
    )


class SqlOutbox(Generic[T]):
    """An outbox in a table: a row per waiting message, deleted once it is delivered."""

    __slots__ = ("_statements", "_transaction")

    def __init__(self, transaction: _Transaction, statements: _OutboxStatements) -> None:
        self._transaction = transaction
        self._statements = statements

    def _message(self, row: Row[Any]) -> OutboxMessage[T]:
        message_id, stream, enqueued_at, attempts, not_before, last_error, version, document = (
            tuple(row)
        )
        where = self._transaction.store.where
        name = self._statements.name
        if version > codec.SCHEMA_VERSION:
            raise UnreadableDocument(
                self._transaction.store.name,
                f"{where}: {name} message {message_id!r} is stored in form {version}, newer "
                f"than this o2c reads ({codec.SCHEMA_VERSION})",
                repository=name,
                key=message_id,
            )
        try:
            value: T = codec.loads(document, self._statements.value_type)
        except Exception as error:  # whatever the codec raises, the stored text is unreadable
            raise UnreadableDocument(
                self._transaction.store.name,
                f"{where}: {name} message {message_id!r} is corrupt "
                f"({type(error).__name__}: {error})",
                repository=name,
                key=message_id,
            ) from error
        return OutboxMessage(
            message_id,
            stream,
            value,
            datetime.fromisoformat(enqueued_at),
            attempts,
            None if not_before is None else datetime.fromisoformat(not_before),
            last_error,
        )

    def _run(self, statement: Any, params: Any, doing: str) -> CursorResult[Any]:
        return self._transaction.execute(
            statement, params, doing=f"{doing} ({self._statements.name})"
        )

    def add(self, *messages: OutboxMessage[T]) -> None:
        """Store messages for delivery after commit, in this order, in one statement (an id
        already waiting keeps its message)."""
        if not messages:
            return
        self._transaction.wrote = True
        self._run(
            self._statements.add,
            [self._row(message) for message in messages],
            f"store {len(messages)} messages",
        )

    def _row(self, message: OutboxMessage[T]) -> dict[str, Any]:
        return {
            "p_message_id": message.message_id,
            "p_stream": message.stream,
            "p_enqueued_at": message.enqueued_at.isoformat(),
            "p_attempts": message.attempts,
            "p_not_before": None if message.not_before is None else message.not_before.isoformat(),
            "p_last_error": message.last_error,
            "p_schema_version": codec.SCHEMA_VERSION,
            "p_document": codec.dumps(message.value, self._statements.value_type),
        }

    def find(self, message_id: str) -> OutboxMessage[T] | None:
        """The waiting message with this id, or ``None``."""
        row = self._run(
            self._statements.find, {"p_message_id": message_id}, "read the outbox"
        ).first()
        return None if row is None else self._message(row)

    def waiting(
        self, streams: Collection[str] | None = None, limit: int | None = None
    ) -> tuple[OutboxMessage[T], ...]:
        """Waiting messages in commit order, all or those of ``streams``; the oldest ``limit``."""
        statements = self._statements
        params: dict[str, Any] = {}
        if streams is None:
            statement = statements.waiting if limit is None else statements.waiting_limited
        else:
            if not streams:
                return ()
            params["p_streams"] = sorted(set(streams))
            statement = statements.of_streams if limit is None else statements.of_streams_limited
        if limit is not None:
            params["p_limit"] = limit
        rows = self._run(statement, params or None, "read the outbox").all()
        return tuple(self._message(row) for row in rows)

    def retry_later(self, message_id: str, not_before: datetime, error: str) -> None:
        """Record a failed delivery of a message still waiting."""
        self._transaction.wrote = True
        self._run(
            self._statements.retry_later,
            {
                "p_message_id": message_id,
                "p_not_before": not_before.isoformat(),
                "p_last_error": error,
            },
            f"record a failed delivery of {message_id!r}",
        )

    def delivered(self, *message_ids: str) -> None:
        """Remove delivered messages (a missing id is a no-op), in one statement."""
        if not message_ids:
            return
        self._transaction.wrote = True
        self._run(
            self._statements.delivered,
            {"p_message_ids": list(message_ids)},
            f"remove {len(message_ids)} delivered messages",
        )

    def backlog(self) -> OutboxBacklog:
        """How many messages wait, how many failed before, and the oldest."""
        count, failing = tuple(self._run(self._statements.counts, None, "count the outbox").one())
        if not count:
            return OutboxBacklog(0)
        oldest = self._run(self._statements.oldest, None, "read the outbox").first()
        if oldest is None:  # delivered meanwhile (read committed)
            return OutboxBacklog(0)
        message_id, enqueued_at = tuple(oldest)
        return OutboxBacklog(
            int(count), datetime.fromisoformat(enqueued_at), message_id, int(failing)
        )

    def __repr__(self) -> str:
        return f"SqlOutbox({self._statements.name!r})"


class SqlNumberSequence:
    """Gap-free numbers: one row per series, incremented in the unit of work's transaction."""

    __slots__ = ("_transaction",)

    def __init__(self, transaction: _Transaction) -> None:
        self._transaction = transaction

    def next(self, series: str) -> int:
        """The next number of the series: 1 for a new series, then one more each time."""
        transaction = self._transaction
        if not series:
            raise AdapterRejected(
                transaction.store.name, "a number series needs a name", "invalid_series"
            )
        transaction.wrote = True
        number: int = transaction.execute(
            transaction.store._next_number,
            {"p_series": series},
            doing=f"draw a number of series {series!r}",
        ).scalar_one()
        return number


class SqlIdempotencyRecord:
    """Idempotency records in a table keyed by idempotency key, unique across processes."""

    __slots__ = ("_transaction",)

    def __init__(self, transaction: _Transaction) -> None:
        self._transaction = transaction

    def recall(self, key: str) -> str | None:
        """The result recorded for ``key``, or ``None`` if the command never ran."""
        transaction = self._transaction
        result: str | None = transaction.execute(
            transaction.store._recall, {"p_key": key}, doing=f"recall command {key!r}"
        ).scalar_one_or_none()
        return result

    def remember(self, key: str, result: str) -> None:
        """Record the command's result; ``DuplicateRequest`` if ``key`` holds another result."""
        transaction = self._transaction
        adapter = transaction.store.name
        known = self.recall(key)
        if known is not None:
            if known != result:
                raise DuplicateRequest(
                    adapter, f"command {key} already ran with another result", key
                )
            return
        transaction.wrote = True
        stored = transaction.execute(
            transaction.store._remember,
            {"p_key": key, "p_result": result},
            doing=f"remember command {key!r}",
        ).first()
        if stored is None:
            raise _conflict(adapter, f"command {key!r}")


class SqlUnitOfWork:
    """A unit of work over a :class:`SqlStore`, satisfying :class:`~o2c.ports.UnitOfWork`."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self.name = store.name
        self._transaction = transaction = _Transaction(store)
        statements = store._statements

        def plain(name: str) -> SqlRepository[Any]:
            return SqlRepository(transaction, statements[name])

        self._customers = SqlCustomers(transaction, statements["customers"])
        self._orders = SqlOrders(transaction, statements["orders"])
        self._invoices = SqlInvoices(transaction, statements["invoices"])
        self._charges: SqlRepository[OpenItem] = plain("charges")
        self._payments = SqlPayments(transaction, statements["payments"])
        self._receipts = SqlReceipts(transaction, statements["receipts"])
        self._shipments = SqlShipments(transaction, statements["shipments"])
        self.customers: CustomerRepository = self._customers
        self.credit_accounts: Repository[CreditAccount] = plain("credit_accounts")
        self.quotes: Repository[Quote] = plain("quotes")
        self.orders: OrderRepository = self._orders
        self.invoices: InvoiceRepository = self._invoices
        self.credit_notes: Repository[CreditNote] = plain("credit_notes")
        self.charges: Repository[OpenItem] = self._charges
        self.open_items: OpenItemQueries = SqlOpenItems(self._invoices, self._charges)
        self.payments: PaymentRepository = self._payments
        self.receipts: ReceiptRepository = self._receipts
        self.allocations: Repository[tuple[Allocation, ...]] = plain("allocations")
        self.shipments: ShipmentRepository = self._shipments
        self.dunning: Repository[DunningBook] = plain("dunning")
        self.ledger_outbox: Repository[JournalEntry] = plain("ledger_outbox")
        self.calls: ExternalCallRepository = SqlExternalCalls(transaction, statements["calls"])
        self.event_outbox: OutboxRepository[DomainEvent] = SqlOutbox(
            transaction, store._outboxes["event_outbox"]
        )
        self.notification_outbox: OutboxRepository[Notification] = SqlOutbox(
            transaction, store._outboxes["notification_outbox"]
        )
        self.exception_queue: ExceptionQueueRepository = SqlExceptionQueue(
            transaction, statements["exception_queue"]
        )
        self.sequences: NumberSequence = SqlNumberSequence(transaction)
        self.commands: IdempotencyRecord = SqlIdempotencyRecord(transaction)
        self._repositories: tuple[SqlRepository[Any], ...] = tuple(
            dict.fromkeys(
                repository
                for repository in vars(self).values()
                if isinstance(repository, SqlRepository)
            )
        )

    @property
    def store(self) -> SqlStore:
        """The store this unit of work commits to."""
        return self._store

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        """Commit every write of this unit of work at once (a unit that only read commits
        nothing). On failure nothing is committed and the error is a typed o2c error."""
        try:
            self._transaction.end(commit=True)
        except BaseException:
            self._forget()
            raise

    def rollback(self) -> None:
        """Drop every change since the unit of work began (or last committed)."""
        try:
            self._transaction.end(commit=False)
        finally:
            self._forget()

    def _forget(self) -> None:
        for repository in self._repositories:
            if repository._read:
                repository._read = {}
