"""The exception queue as a worklist, customers found by name, invoices with their creditor
reference.

* ``o2c_exception_queue``: receipts waiting for a person, their open entries under partial
  indexes by customer and currency;
* ``o2c_customers.name_key``: the customer's name in compared form (``customers.by_name``),
  filled in for the customers already stored;
* issued invoices stored before every invoice carried its ISO 11649 creditor reference get the one
  made from their number, so books written earlier pay and match like new ones.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

_QUEUE = "o2c_exception_queue"
_QUEUE_INDEXES = ((), ("customer_id",), ("currency",), ("customer_id", "currency"))


def _name_key(name: str) -> str:
    # The compared form of a name as o2c.domain.references.normalise_payer_name writes it;
    # spelled out here so this revision means the same whatever later code does.
    return " ".join(name.upper().split())


def _creditor_reference(number: str) -> str | None:
    # ISO 11649 as o2c.domain.references.creditor_reference makes it (a standard: it does not
    # change); None where the number has no room for one.
    body = "".join(char for char in number.upper() if char.isascii() and char.isalnum())
    if not 1 <= len(body) <= 21:
        return None
    digits = "".join(str(int(char, 36)) for char in body + "RF00")
    return f"RF{98 - int(digits) % 97:02d}{body}"


def _canonical(data: object) -> str:
    # The stored documents' form (o2c.codec): sorted keys, no spaces.
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def upgrade() -> None:
    """Create the exception queue, index customers by name, reference the issued invoices."""
    op.create_table(
        _QUEUE,
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("position", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("customer_id", sa.Text),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("value_date", sa.Date, nullable=False),
        sa.Column("awaiting", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("key", name=f"pk_{_QUEUE}"),
    )
    op.create_index(f"ix_{_QUEUE}_position", _QUEUE, ["position"], unique=True)
    for columns in _QUEUE_INDEXES:
        op.create_index(
            f"ix_{_QUEUE}_open{''.join('_' + c for c in columns)}",
            _QUEUE,
            [*columns, "position"],
            sqlite_where=sa.text("awaiting = 1"),
            postgresql_where=sa.text("awaiting = true"),
        )
    op.add_column("o2c_customers", sa.Column("name_key", sa.Text))
    op.create_index("ix_o2c_customers_name_key_position", "o2c_customers", ["name_key", "position"])
    connection = op.get_bind()
    customers = sa.table(
        "o2c_customers", sa.column("key"), sa.column("document"), sa.column("name_key")
    )
    for key, document in connection.execute(sa.select(customers.c.key, customers.c.document)):
        name = json.loads(document).get("name", "")
        connection.execute(
            customers.update().where(customers.c.key == key).values(name_key=_name_key(name))
        )
    invoices = sa.table("o2c_invoices", sa.column("key"), sa.column("document"))
    for key, document in connection.execute(sa.select(invoices.c.key, invoices.c.document)):
        data = json.loads(document)
        item = data.get("open_item")
        if not item or item.get("reference") is not None or not data.get("number"):
            continue
        reference = _creditor_reference(data["number"])
        if reference is None:
            continue
        item["reference"] = reference
        connection.execute(
            invoices.update().where(invoices.c.key == key).values(document=_canonical(data))
        )


def downgrade() -> None:
    """Drop the exception queue and the name index (invoices keep their references)."""
    op.drop_index("ix_o2c_customers_name_key_position", table_name="o2c_customers")
    with op.batch_alter_table("o2c_customers") as batch:  # SQLite rebuilds the table
        batch.drop_column("name_key")
    op.drop_table(_QUEUE)
