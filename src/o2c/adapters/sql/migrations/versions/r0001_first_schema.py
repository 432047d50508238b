"""The first schema of a SQL book: a document table per repository, sequences, commands, and
the ledger's journal.

Revision 0001, the first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

_PLAIN = (
    "allocations",
    "credit_accounts",
    "credit_notes",
    "customers",
    "dunning",
    "ledger_outbox",
    "quotes",
)
"""Repositories whose named queries need no index column."""


def _document_table(repository: str, *columns: sa.Column[object]) -> str:
    name = f"o2c_{repository}"
    op.create_table(
        name,
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("position", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("key", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_position", name, ["position"], unique=True)
    return name


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def _partial_index(name: str, table: str, columns: list[str], flag: str) -> None:
    # Written as the store's queries write the condition (SQLite stores booleans as 0 and 1), so
    # that SQLite's planner sees the query's condition implies the index's.
    op.create_index(
        name,
        table,
        columns,
        sqlite_where=sa.text(f"{flag} = 1"),
        postgresql_where=sa.text(f"{flag} = true"),
    )


def _receivable_table(repository: str) -> None:
    name = _document_table(
        repository,
        sa.Column("customer_id", sa.Text),
        sa.Column("currency", sa.Text),
        sa.Column("document_date", sa.Date),
        sa.Column("open_minor", sa.BigInteger),
        sa.Column("is_open", sa.Boolean, nullable=False),
    )
    _partial_index(f"ix_{name}_open", name, ["position"], "is_open")
    _partial_index(f"ix_{name}_open_of", name, ["customer_id", "currency", "position"], "is_open")


def _side_table(name: str, value: str, parent: str) -> None:
    op.create_table(
        name,
        sa.Column(value, sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["key"], [f"{parent}.key"], name=f"fk_{name}_key", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(value, "key", name=f"pk_{name}"),
    )
    _index(name, "key")


def _open_instalments_table() -> None:
    op.create_table(
        "o2c_open_instalments",
        sa.Column("repository", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("document_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("item_due_date", sa.Date, nullable=False),
        sa.Column("open_minor", sa.BigInteger, nullable=False),
        sa.Column("is_first", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("repository", "key", "part", name="pk_o2c_open_instalments"),
    )


def upgrade() -> None:
    """Create every table of the first schema."""
    for repository in _PLAIN:
        _document_table(repository)
    orders = _document_table(
        "orders",
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("awaiting_invoice", sa.Text),
    )
    _index(orders, "status", "position")
    _index(orders, "awaiting_invoice", "position")
    _receivable_table("invoices")
    _receivable_table("charges")
    payments = _document_table(
        "payments",
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("gateway_reference", sa.Text),
        sa.Column("unresolved", sa.Boolean, nullable=False),
    )
    _index(payments, "order_id", "position")
    _index(payments, "gateway_reference", "position")
    _partial_index("ix_o2c_payments_unresolved", payments, ["position"], "unresolved")
    receipts = _document_table(
        "receipts",
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("payment_id", sa.Text),
    )
    _index(receipts, "source_id", "position")
    _index(receipts, "payment_id", "position")
    shipments = _document_table("shipments", sa.Column("order_id", sa.Text, nullable=False))
    _index(shipments, "order_id", "position")
    _side_table("o2c_customers_payer_accounts", "account", "o2c_customers")
    _side_table("o2c_invoices_orders", "order_id", "o2c_invoices")
    _open_instalments_table()
    op.create_table(
        "o2c_sequences",
        sa.Column("series", sa.Text, nullable=False),
        sa.Column("last", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("series", name="pk_o2c_sequences"),
    )
    op.create_table(
        "o2c_commands",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_o2c_commands"),
    )
    _journal()


def _journal() -> None:
    """The ledger's journal: an entry per row, its posting lines in minor units."""
    op.create_table(
        "o2c_journal_entries",
        sa.Column("entry_id", sa.Text, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("entry_date", sa.Date, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False, comment="JSON: [[key, value], ...]"),
        sa.PrimaryKeyConstraint("entry_id", name="pk_o2c_journal_entries"),
        sa.UniqueConstraint("position", name="uq_o2c_journal_entries_position"),
    )
    op.create_index("ix_o2c_journal_entries_date", "o2c_journal_entries", ["entry_date"])
    op.create_table(
        "o2c_journal_postings",
        sa.Column("entry_id", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("side", sa.String(6), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("party", sa.Text, nullable=True),
        sa.Column("document", sa.Text, nullable=True),
        sa.Column("memo", sa.Text, nullable=True),
        sa.CheckConstraint("side IN ('debit', 'credit')", name="ck_o2c_journal_postings_side"),
        sa.CheckConstraint("amount_minor > 0", name="ck_o2c_journal_postings_amount"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["o2c_journal_entries.entry_id"],
            name="fk_o2c_journal_postings_entry_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "line", name="pk_o2c_journal_postings"),
    )
    op.create_index(
        "ix_o2c_journal_postings_balance",
        "o2c_journal_postings",
        ["account", "currency", "party", "side", "amount_minor"],
    )


def downgrade() -> None:
    """Drop every table of the first schema."""
    op.drop_table("o2c_open_instalments")
    op.drop_table("o2c_journal_postings")
    op.drop_table("o2c_journal_entries")
    for name in ("o2c_commands", "o2c_sequences", "o2c_invoices_orders"):
        op.drop_table(name)
    op.drop_table("o2c_customers_payer_accounts")
    for repository in (
        *_PLAIN,
        "orders",
        "invoices",
        "charges",
        "payments",
        "receipts",
        "shipments",
    ):
        op.drop_table(f"o2c_{repository}")
