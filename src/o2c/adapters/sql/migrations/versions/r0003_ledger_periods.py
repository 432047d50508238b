"""The ledger beyond the journal: daily totals per account, totals per customer, closed periods
and the lock date.

Revision 0003. ``o2c_journal_totals`` and ``o2c_journal_party_totals`` are filled from the journal
already posted, so a book upgraded from an earlier revision reads the same balances as before;
the postings' balance index, which they replace, is dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "o2c_journal_totals",
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("entry_date", sa.Date, nullable=False),
        sa.Column("debit_minor", sa.BigInteger, nullable=False),
        sa.Column("credit_minor", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account", "currency", "entry_date", name="pk_o2c_journal_totals"),
    )
    op.execute(
        "INSERT INTO o2c_journal_totals (account, currency, entry_date, debit_minor, credit_minor)"
        " SELECT p.account, p.currency, e.entry_date,"
        " SUM(CASE WHEN p.side = 'debit' THEN p.amount_minor ELSE 0 END),"
        " SUM(CASE WHEN p.side = 'credit' THEN p.amount_minor ELSE 0 END)"
        " FROM o2c_journal_postings p JOIN o2c_journal_entries e ON e.entry_id = p.entry_id"
        " GROUP BY p.account, p.currency, e.entry_date"
    )
    op.create_table(
        "o2c_journal_party_totals",
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("party", sa.Text, nullable=False),
        sa.Column("debit_minor", sa.BigInteger, nullable=False),
        sa.Column("credit_minor", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account", "currency", "party", name="pk_o2c_journal_party_totals"),
    )
    op.execute(
        "INSERT INTO o2c_journal_party_totals"
        " (account, currency, party, debit_minor, credit_minor)"
        " SELECT account, currency, party,"
        " SUM(CASE WHEN side = 'debit' THEN amount_minor ELSE 0 END),"
        " SUM(CASE WHEN side = 'credit' THEN amount_minor ELSE 0 END)"
        " FROM o2c_journal_postings WHERE party IS NOT NULL"
        " GROUP BY account, currency, party"
    )
    # The totals answer every balance now; keeping the index would only slow posting down.
    op.drop_index("ix_o2c_journal_postings_balance", table_name="o2c_journal_postings")
    op.create_table(
        "o2c_ledger_periods",
        sa.Column("period", sa.String(7), nullable=False, comment="YYYY-MM"),
        sa.Column("state", sa.String(6), nullable=False),
        sa.CheckConstraint("state IN ('open', 'closed')", name="ck_o2c_ledger_periods_state"),
        sa.PrimaryKeyConstraint("period", name="pk_o2c_ledger_periods"),
    )
    op.create_table(
        "o2c_ledger_controls",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_o2c_ledger_controls"),
    )


def downgrade() -> None:
    op.drop_table("o2c_ledger_controls")
    op.drop_table("o2c_ledger_periods")
    op.create_index(
        "ix_o2c_journal_postings_balance",
        "o2c_journal_postings",
        ["account", "currency", "party", "side", "amount_minor"],
    )
    op.drop_table("o2c_journal_party_totals")
    op.drop_table("o2c_journal_totals")
