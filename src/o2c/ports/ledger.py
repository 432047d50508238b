"""The ledger port: where journal entries are posted and balances read back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import attrs

from o2c.domain.ledger import JournalEntry, TrialBalance
from o2c.domain.money import Money

__all__ = ["LedgerPort", "PostingResult"]


@attrs.frozen
class PostingResult:
    """Which entries of a batch were posted now and which were already there."""

    posted: tuple[str, ...]
    already_posted: tuple[str, ...]


@runtime_checkable
class LedgerPort(Protocol):
    """A general ledger (in memory, a file, an accounting system).

    Contract:

    * ``post_batch`` is atomic: either every new entry of the batch is posted or none is.
    * It is idempotent by entry id: an entry already posted with the same content is reported in
      ``already_posted`` and not posted again; the same id with different content raises
      ``DuplicateRequest`` and posts nothing.
    * Entries arrive balanced per currency (``JournalEntry`` guarantees it); an account the
      ledger does not know raises ``AdapterRejected`` and posts nothing.
    * Balances are debit minus credit.
    """

    name: str

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        """Post the entries atomically and idempotently."""
        ...

    def balance(self, account: str, currency: str, party: str | None = None) -> Money:
        """An account's balance in a currency, for one party or all."""
        ...

    def trial_balance(self) -> TrialBalance:
        """Every account's debits, credits and balance per currency."""
        ...
