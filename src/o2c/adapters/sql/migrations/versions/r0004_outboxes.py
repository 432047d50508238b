"""The event and notification outboxes: messages stored with their command, deleted once
delivered.

Revision 0004.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

_OUTBOXES = ("event_outbox", "notification_outbox")


def upgrade() -> None:
    """Create both outboxes."""
    for outbox in _OUTBOXES:
        name = f"o2c_{outbox}"
        op.create_table(
            name,
            sa.Column("message_id", sa.Text, nullable=False),
            sa.Column("position", sa.BigInteger, sa.Identity(), nullable=False),
            sa.Column("stream", sa.Text, nullable=False),
            sa.Column("enqueued_at", sa.Text, nullable=False, comment="ISO 8601 with offset"),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("not_before", sa.Text, comment="ISO 8601 with offset"),
            sa.Column("last_error", sa.Text, nullable=False),
            sa.Column("schema_version", sa.Integer, nullable=False),
            sa.Column("document", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("message_id", name=f"pk_{name}"),
        )
        op.create_index(f"ix_{name}_position", name, ["position"], unique=True)
        op.create_index(f"ix_{name}_stream_position", name, ["stream", "position"])


def downgrade() -> None:
    """Drop both outboxes (what waited in them is lost)."""
    for outbox in _OUTBOXES:
        op.drop_table(f"o2c_{outbox}")
