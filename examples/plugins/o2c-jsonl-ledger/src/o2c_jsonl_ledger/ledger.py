"""A general ledger kept as a JSON Lines file: one line per posted batch.

Writing a batch is one ``write`` of one line, flushed and (by default) synced to disk; a line
that does not end in a newline is a batch whose write was interrupted, and is ignored when the
file is read and cut off before the next write. So a batch is in the file whole or not at all.

The accounting itself is o2c's domain :class:`~o2c.domain.ledger.Ledger`: the file is replayed
into it when the adapter opens (and whenever another writer appended meanwhile), which makes
posting idempotent by entry id across process restarts and gives the balances. Failures are
translated into the port's error family: ``DuplicateRequest`` for a known id with other content,
``AdapterRejected`` for an account outside the chart or a damaged file, ``AdapterUnavailable`` for
a file that cannot be read or written now.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from o2c.domain.errors import DomainError, DuplicateEntry, UnknownAccount
from o2c.domain.ledger import ChartOfAccounts, JournalEntry, Ledger, Posting, Side, TrialBalance
from o2c.domain.money import Money, money
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest
from o2c.ports.ledger import PostingResult

__all__ = ["JsonlLedger", "entry_from_json", "entry_to_json"]


class JsonlLedger:
    """A ledger in a JSON Lines file, satisfying :class:`~o2c.ports.ledger.LedgerPort`."""

    def __init__(
        self,
        path: Path | str,
        chart: ChartOfAccounts | None = None,
        *,
        fsync: bool = True,
        name: str = "jsonl-ledger",
    ):
        self.name = name
        self.path = Path(path)
        self._fsync = fsync
        self._ledger = Ledger.empty(chart)
        self._read_up_to = 0  # bytes of the file already replayed
        self._batches = 0
        self._lock = threading.Lock()
        with self._lock:
            self._catch_up()

    @property
    def chart(self) -> ChartOfAccounts:
        """The chart of accounts the ledger accepts."""
        return self._ledger.chart

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        """Append the new entries of the batch as one line, or nothing at all."""
        entries = tuple(entries)
        with self._lock:
            self._catch_up()
            before = self._ledger
            try:
                after = before.post_batch(entries)
            except DuplicateEntry as error:
                raise DuplicateRequest(self.name, error.describe(), error.entry_id) from error
            except UnknownAccount as error:
                raise AdapterRejected(self.name, error.describe(), "unknown_account") from error
            except DomainError as error:
                raise AdapterRejected(self.name, error.describe(), "invalid_entry") from error
            fresh = {e.entry_id: e for e in entries if e.entry_id not in before}
            if fresh:
                self._append(
                    {
                        "batch": self._batches + 1,
                        "entries": [entry_to_json(e) for e in fresh.values()],
                    }
                )
                self._ledger = after
        already = dict.fromkeys(e.entry_id for e in entries if e.entry_id not in fresh)
        return PostingResult(tuple(fresh), tuple(already))

    def balance(self, account: str, currency: str, party: str | None = None) -> Money:
        """Debit minus credit of ``account`` in ``currency`` (only ``party``'s if given)."""
        with self._lock:
            self._catch_up()
            ledger = self._ledger
        if not ledger.chart.has(account):
            raise AdapterRejected(
                self.name, f"account {account!r} is not in the chart", "unknown_account"
            )
        try:
            return ledger.balance(account, currency, party)
        except DomainError as error:
            raise AdapterRejected(self.name, error.describe(), "invalid_currency") from error

    def trial_balance(self) -> TrialBalance:
        """Turnover and balance of every account per currency."""
        with self._lock:
            self._catch_up()
            return self._ledger.trial_balance()

    # --- the file -----------------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Replay what was appended since the last read (by this or another process)."""
        try:
            with self.path.open("rb") as file:
                file.seek(self._read_up_to)
                tail = file.read()
        except FileNotFoundError:
            return
        except OSError as error:
            raise AdapterUnavailable(self.name, f"cannot read {self.path.name}: {error}") from error
        complete = tail[: tail.rfind(b"\n") + 1]  # an unterminated last line was never posted
        ledger = self._ledger
        for number, line in enumerate(complete.splitlines(), start=self._batches + 1):
            try:
                batch = json.loads(line)
                ledger = ledger.post_batch(entry_from_json(e) for e in batch["entries"])
            except (ValueError, KeyError, TypeError, DomainError) as error:
                raise AdapterRejected(
                    self.name,
                    f"{self.path.name}: batch {number} is damaged: {error}",
                    "damaged_file",
                ) from error
            self._batches = number
        self._ledger = ledger
        self._read_up_to += len(complete)

    def _append(self, batch: Mapping[str, Any]) -> None:
        line = json.dumps(batch, ensure_ascii=False, sort_keys=True).encode() + b"\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as file:
                if file.tell() > self._read_up_to:
                    # The remains of an interrupted write: cut them off before appending.
                    file.truncate(self._read_up_to)
                file.write(line)
                file.flush()
                if self._fsync:
                    os.fsync(file.fileno())
        except OSError as error:
            raise AdapterUnavailable(
                self.name, f"cannot write {self.path.name}: {error}"
            ) from error
        self._read_up_to += len(line)
        self._batches += 1


def entry_to_json(entry: JournalEntry) -> dict[str, Any]:
    """A journal entry as a JSON object (amounts as exact decimal text)."""
    return {
        "id": entry.entry_id,
        "date": entry.date.isoformat(),
        "description": entry.description,
        "source": entry.source,
        "metadata": [list(pair) for pair in entry.metadata],
        "postings": [
            {
                "account": p.account,
                "side": p.side.value,
                "amount": str(p.amount.amount),
                "currency": p.currency,
                "party": p.party,
                "document": p.document,
                "memo": p.memo,
            }
            for p in entry.postings
        ],
    }


def entry_from_json(data: Mapping[str, Any]) -> JournalEntry:
    """The journal entry :func:`entry_to_json` wrote."""
    return JournalEntry(
        data["id"],
        date.fromisoformat(data["date"]),
        data["description"],
        tuple(
            Posting(
                p["account"],
                Side(p["side"]),
                money(p["amount"], p["currency"]),
                party=p["party"],
                document=p["document"],
                memo=p["memo"],
            )
            for p in data["postings"]
        ),
        source=data["source"],
        metadata=[(key, value) for key, value in data["metadata"]],
    )
