"""Calls to other systems: ``o2c_calls``, the intents recorded before each call and their outcome.

Revision 0002, after the first schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

_TABLE = "o2c_calls"


def upgrade() -> None:
    """Create ``o2c_calls`` with its subject index and the partial index of unsettled calls."""
    op.create_table(
        _TABLE,
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("position", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("unsettled", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("key", name=f"pk_{_TABLE}"),
    )
    op.create_index(f"ix_{_TABLE}_position", _TABLE, ["position"], unique=True)
    op.create_index(f"ix_{_TABLE}_subject_position", _TABLE, ["subject", "position"])
    # Written as the store's query writes the condition, so SQLite's planner uses the index.
    op.create_index(
        f"ix_{_TABLE}_unsettled",
        _TABLE,
        ["position"],
        sqlite_where=sa.text("unsettled = 1"),
        postgresql_where=sa.text("unsettled = true"),
    )


def downgrade() -> None:
    """Drop ``o2c_calls``."""
    op.drop_table(_TABLE)
