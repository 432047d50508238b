"""The tables of a SQL book: one per repository, plus number sequences and idempotency records.

Every repository table ``o2c_<repository>`` holds whole values as documents (the canonical JSON of
:mod:`o2c.codec`) beside the columns its named queries filter on:

* ``key``: the repository key (primary key);
* ``position``: increasing, the order in which keys were first stored (``values()`` and every
  query list values in this order);
* ``version``: bumped by every write, for optimistic concurrency;
* ``schema_version``: the codec's :data:`~o2c.codec.SCHEMA_VERSION` the document was written in;
* ``document``: the value itself.

The ledger's journal (``o2c_journal_entries`` and ``o2c_journal_postings``, with the daily totals
per account in ``o2c_journal_totals``, the totals per customer in ``o2c_journal_party_totals``
and the closed periods and lock date in
``o2c_ledger_periods`` and ``o2c_ledger_controls``, see :mod:`o2c.adapters.sql.ledger`) lives in
the same schema, so one database holds the whole book.

The index columns hold what :mod:`o2c.adapters.indexing` derives from the value; keys with several
values (the orders an invoice bills, the accounts a customer pays from) live in side tables. Open
amounts are integer minor units, dates are ``DATE``: never floats. The first migration creates
exactly these tables and the second adds ``o2c_calls`` (calls to other systems); a test compares
them.
"""

from __future__ import annotations

import attrs
import sqlalchemy as sa

__all__ = [
    "VERSION_TABLE",
    "LedgerTables",
    "commands",
    "customer_payer_accounts",
    "define_ledger_tables",
    "invoice_orders",
    "journal",
    "metadata",
    "open_instalments",
    "outbox_tables",
    "repository_tables",
    "sequences",
]

VERSION_TABLE = "o2c_schema"
"""Where Alembic records the schema revision of a database."""

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""Every table of a SQL book."""


def _document_table(repository: str, *columns: sa.Column[object]) -> sa.Table:
    table = sa.Table(
        f"o2c_{repository}",
        metadata,
        sa.Column("key", sa.Text, primary_key=True),
        # PostgreSQL numbers rows itself; SQLite has one writer, so the store writes max + 1.
        sa.Column("position", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        *columns,
    )
    sa.Index(None, table.c.position, unique=True)
    return table


def _receivable_table(repository: str) -> sa.Table:
    """Invoices and charges: both are open items, filtered by customer and currency while open."""
    table = _document_table(
        repository,
        sa.Column("customer_id", sa.Text),
        sa.Column("currency", sa.Text),
        sa.Column("document_date", sa.Date),
        sa.Column("open_minor", sa.BigInteger),
        sa.Column("is_open", sa.Boolean, nullable=False),
    )
    # "= true" in both the index and the queries: SQLite uses a partial index only for a query
    # whose condition is written the same way.
    is_open = table.c.is_open == sa.true()
    sa.Index(
        f"ix_{table.name}_open",
        table.c.position,
        sqlite_where=is_open,
        postgresql_where=is_open,
    )
    sa.Index(
        f"ix_{table.name}_open_of",
        table.c.customer_id,
        table.c.currency,
        table.c.position,
        sqlite_where=is_open,
        postgresql_where=is_open,
    )
    return table


customers = _document_table("customers", sa.Column("name_key", sa.Text))
sa.Index(None, customers.c.name_key, customers.c.position)
credit_accounts = _document_table("credit_accounts")
quotes = _document_table("quotes")
orders = _document_table(
    "orders",
    sa.Column("customer_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("awaiting_invoice", sa.Text),
)
sa.Index(None, orders.c.status, orders.c.position)
sa.Index(None, orders.c.awaiting_invoice, orders.c.position)
invoices = _receivable_table("invoices")
credit_notes = _document_table("credit_notes")
charges = _receivable_table("charges")
payments = _document_table(
    "payments",
    sa.Column("order_id", sa.Text, nullable=False),
    sa.Column("gateway_reference", sa.Text),
    sa.Column("unresolved", sa.Boolean, nullable=False),
)
sa.Index(None, payments.c.order_id, payments.c.position)
sa.Index(None, payments.c.gateway_reference, payments.c.position)
sa.Index(
    "ix_o2c_payments_unresolved",
    payments.c.position,
    sqlite_where=payments.c.unresolved == sa.true(),
    postgresql_where=payments.c.unresolved == sa.true(),
)
receipts = _document_table(
    "receipts",
    sa.Column("source_id", sa.Text, nullable=False),
    sa.Column("payment_id", sa.Text),
)
sa.Index(None, receipts.c.source_id, receipts.c.position)
sa.Index(None, receipts.c.payment_id, receipts.c.position)
allocations = _document_table("allocations")
shipments = _document_table("shipments", sa.Column("order_id", sa.Text, nullable=False))
sa.Index(None, shipments.c.order_id, shipments.c.position)
dunning = _document_table("dunning")
ledger_outbox = _document_table("ledger_outbox")
calls = _document_table(
    "calls",
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("unsettled", sa.Boolean, nullable=False),
)
sa.Index(None, calls.c.subject, calls.c.position)
sa.Index(
    "ix_o2c_calls_unsettled",
    calls.c.position,
    sqlite_where=calls.c.unsettled == sa.true(),
    postgresql_where=calls.c.unsettled == sa.true(),
)

exception_queue = _document_table(
    "exception_queue",
    sa.Column("customer_id", sa.Text),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("value_date", sa.Date, nullable=False),
    sa.Column("awaiting", sa.Boolean, nullable=False),
)
# Only open entries are ever queried: partial indexes keep the worked-off history out of them.
for _columns in ((), ("customer_id",), ("currency",), ("customer_id", "currency")):
    sa.Index(
        f"ix_o2c_exception_queue_open{''.join('_' + c for c in _columns)}",
        *(exception_queue.c[c] for c in _columns),
        exception_queue.c.position,
        sqlite_where=exception_queue.c.awaiting == sa.true(),
        postgresql_where=exception_queue.c.awaiting == sa.true(),
    )

customer_payer_accounts = sa.Table(
    "o2c_customers_payer_accounts",
    metadata,
    sa.Column("account", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, sa.ForeignKey(customers.c.key, ondelete="CASCADE"), primary_key=True),
)
"""The accounts each customer pays from, in normalised form (``by_payer_account``)."""
sa.Index(None, customer_payer_accounts.c.key)

invoice_orders = sa.Table(
    "o2c_invoices_orders",
    metadata,
    sa.Column("order_id", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, sa.ForeignKey(invoices.c.key, ondelete="CASCADE"), primary_key=True),
)
"""The orders each issued invoice bills (``of_order``)."""
sa.Index(None, invoice_orders.c.key)

open_instalments = sa.Table(
    "o2c_open_instalments",
    metadata,
    sa.Column("repository", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("part", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("document_date", sa.Date, nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("item_due_date", sa.Date, nullable=False),
    sa.Column("open_minor", sa.BigInteger, nullable=False),
    sa.Column("is_first", sa.Boolean, nullable=False),
)
"""The open instalments of unsettled invoices and charges (``repository`` and ``key`` name the
stored value, ``part`` the instalment), so aging sums them in the database.

``item_due_date`` is the due date of the item's oldest open instalment and ``is_first`` marks
that instalment, so aging whole items needs no second grouping.
"""

sequences = sa.Table(
    "o2c_sequences",
    metadata,
    sa.Column("series", sa.Text, primary_key=True),
    sa.Column("last", sa.BigInteger, nullable=False),
)
"""The last number committed per series."""

commands = sa.Table(
    "o2c_commands",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("result", sa.Text, nullable=False),
)
"""Idempotency records: the result of each command that ran, by idempotency key."""


def _outbox_table(outbox: str) -> sa.Table:
    """Messages waiting for delivery: only what waits is kept, delivered rows are deleted."""
    table = sa.Table(
        f"o2c_{outbox}",
        metadata,
        sa.Column("message_id", sa.Text, primary_key=True),
        # The commit order of the messages (PostgreSQL numbers rows; SQLite writes max + 1).
        sa.Column("position", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("enqueued_at", sa.Text, nullable=False, comment="ISO 8601 with offset"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("not_before", sa.Text, comment="ISO 8601 with offset"),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    sa.Index(None, table.c.position, unique=True)
    sa.Index(None, table.c.stream, table.c.position)
    return table


outbox_tables: dict[str, sa.Table] = {
    "event_outbox": _outbox_table("event_outbox"),
    "notification_outbox": _outbox_table("notification_outbox"),
}
"""The event and notification outboxes (revision 0004), by the unit of work's attribute name."""

repository_tables: dict[str, sa.Table] = {
    "customers": customers,
    "credit_accounts": credit_accounts,
    "quotes": quotes,
    "orders": orders,
    "invoices": invoices,
    "credit_notes": credit_notes,
    "charges": charges,
    "payments": payments,
    "receipts": receipts,
    "allocations": allocations,
    "shipments": shipments,
    "dunning": dunning,
    "ledger_outbox": ledger_outbox,
    "calls": calls,
    "exception_queue": exception_queue,
}
"""The table of each repository, by the unit of work's attribute name."""


# --- the ledger's journal ---------------------------------------------------------------------


def stored_text(value: str | None) -> str | None:
    """``value`` as the journal's text columns store it (see :class:`_Text`)."""
    if value is None or ("\x00" not in value and "\uffff" not in value):
        return value
    return value.replace("\uffff", "\uffff\uffff").replace("\x00", "\uffff0")


def read_text(value: str | None) -> str | None:
    """The text a journal text column holds, as it was given to :func:`stored_text`."""
    if value is None or "\uffff" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\uffff":
            out.append("\x00" if next(chars, "") == "0" else "\uffff")
        else:
            out.append(char)
    return "".join(out)


class _Text(sa.types.TypeDecorator[str]):
    """Text that may hold any Python string, NUL characters included.

    PostgreSQL refuses NUL in text, so NUL is stored as ``U+FFFF 0`` and ``U+FFFF`` itself as
    ``U+FFFF U+FFFF`` (a non-character that ordinary text never holds, so ordinary text is stored
    as it is). The same form is used in every database, so rows can be copied between them.
    """

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return stored_text(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return read_text(value)


@attrs.frozen
class LedgerTables:
    """The tables of the journal."""

    entries: sa.Table
    """``o2c_journal_entries``: one row per entry, ``position`` giving the posting order."""
    postings: sa.Table
    """``o2c_journal_postings``: one row per posting line, amounts in minor units."""
    totals: sa.Table
    """``o2c_journal_totals``: debits and credits per account, currency and entry date."""
    party_totals: sa.Table
    """``o2c_journal_party_totals``: debits and credits per account, currency and party."""
    periods: sa.Table
    """``o2c_ledger_periods``: the closed accounting periods (``YYYY-MM``)."""
    controls: sa.Table
    """``o2c_ledger_controls``: named settings of the ledger (the lock date)."""


def define_ledger_tables(metadata: sa.MetaData) -> LedgerTables:
    """Add the journal's tables (and their indexes) to ``metadata`` and return them."""
    entries = sa.Table(
        "o2c_journal_entries",
        metadata,
        sa.Column("entry_id", _Text(), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("description", _Text(), nullable=False),
        sa.Column("source", _Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False, comment="JSON: [[key, value], ...]"),
        sa.Index("ix_o2c_journal_entries_date", "entry_date"),
    )
    postings = sa.Table(
        "o2c_journal_postings",
        metadata,
        sa.Column(
            "entry_id",
            _Text(),
            sa.ForeignKey(entries.c.entry_id, ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("line", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("account", _Text(), nullable=False),
        sa.Column("side", sa.String(6), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("party", _Text(), nullable=True),
        sa.Column("document", _Text(), nullable=True),
        sa.Column("memo", _Text(), nullable=True),
        sa.CheckConstraint("side IN ('debit', 'credit')", name="ck_o2c_journal_postings_side"),
        sa.CheckConstraint("amount_minor > 0", name="ck_o2c_journal_postings_amount"),
    )
    # What the trial balance sums: a row per account, currency and day, kept by every batch.
    totals = sa.Table(
        "o2c_journal_totals",
        metadata,
        sa.Column("account", _Text(), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("entry_date", sa.Date(), primary_key=True),
        sa.Column("debit_minor", sa.BigInteger(), nullable=False),
        sa.Column("credit_minor", sa.BigInteger(), nullable=False),
    )
    # What a customer's balance on an account sums: a row per account, currency and party.
    party_totals = sa.Table(
        "o2c_journal_party_totals",
        metadata,
        sa.Column("account", _Text(), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("party", _Text(), primary_key=True),
        sa.Column("debit_minor", sa.BigInteger(), nullable=False),
        sa.Column("credit_minor", sa.BigInteger(), nullable=False),
    )
    periods = sa.Table(
        "o2c_ledger_periods",
        metadata,
        sa.Column("period", sa.String(7), primary_key=True, comment="YYYY-MM"),
        sa.Column("state", sa.String(6), nullable=False),
        sa.CheckConstraint("state IN ('open', 'closed')", name="ck_o2c_ledger_periods_state"),
    )
    controls = sa.Table(
        "o2c_ledger_controls",
        metadata,
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=True),
    )
    return LedgerTables(entries, postings, totals, party_totals, periods, controls)


journal = define_ledger_tables(metadata)
"""The journal behind :class:`~o2c.adapters.sql.SqlLedger`."""
