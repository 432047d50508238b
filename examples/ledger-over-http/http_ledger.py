"""A TEMPLATE for an o2c ledger adapter that posts to an accounting system over HTTP.

Copy this file into your own package and adapt the requests to your accounting system's API.
It is not a client of any particular product: the endpoints below are the smallest HTTP API a
general ledger needs, chosen to show how to satisfy o2c's ledger port. It uses the standard
library only (:mod:`urllib.request`).

The API it expects, under ``base_url``:

``POST /journal/batches``
    Body ``{"entries": [...]}`` (each entry as :func:`entry_to_wire` writes it) with the header
    ``Idempotency-Key`` (a digest of the body, the same on every retry of the batch). The server
    posts every new entry of the batch or none and answers ``200`` with
    ``{"posted": [ids], "already_posted": [ids]}``; ``409`` when a known entry id arrives with
    other content (``{"entry_id": ...}``); ``422`` when it refuses the batch
    (``{"code": ..., "message": ...}``).
``GET /balances?account=...&currency=...[&party=...]``
    ``{"amount": "119.00", "currency": "EUR"}``: debit minus credit.
``GET /trial-balance``
    ``{"rows": [{"account", "name", "currency", "debit", "credit"}]}``.

How the port's contract is kept:

* **Atomic and idempotent by entry id**: the server's job; the adapter sends a whole batch in one
  request under one idempotency key, so a request retried after a timeout cannot post twice.
* **Errors**: every failure becomes one of the port's errors. ``409`` is ``DuplicateRequest``,
  ``422`` (and an account outside the chart, checked before sending) ``AdapterRejected``; a
  timeout, a refused connection, ``429`` and ``5xx`` are the retryable ``AdapterUnavailable``,
  which leaves the services' entries in their outbox until ``flush_ledger_outbox``.
* **Exact amounts**: amounts travel as decimal strings, never as JSON numbers (floats).

o2c's contract kit checks an adapter like this one against a server: see the test that runs
``o2c.testing.LedgerContract`` against a small fake server started in the test itself.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from o2c import (
    ChartOfAccounts,
    DomainError,
    JournalEntry,
    Money,
    Posting,
    Side,
    TrialBalance,
    TrialBalanceRow,
    money,
)
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest
from o2c.ports.ledger import PostingResult

__all__ = ["HttpLedger", "entry_from_wire", "entry_to_wire"]


def entry_to_wire(entry: JournalEntry) -> dict[str, Any]:
    """A journal entry as the API's JSON: amounts as decimal strings, dates ISO."""
    return {
        "id": entry.entry_id,
        "date": entry.date.isoformat(),
        "description": entry.description,
        "source": entry.source,
        "metadata": [list(pair) for pair in entry.metadata],
        "lines": [
            {
                "account": posting.account,
                "side": posting.side.value,
                "amount": f"{posting.amount.amount:f}",
                "currency": posting.currency,
                "party": posting.party,
                "document": posting.document,
                "memo": posting.memo,
            }
            for posting in entry.postings
        ],
    }


def entry_from_wire(data: Mapping[str, Any]) -> JournalEntry:
    """The journal entry :func:`entry_to_wire` wrote (raises ``DomainError`` or ``KeyError``)."""
    return JournalEntry(
        data["id"],
        date.fromisoformat(data["date"]),
        data["description"],
        tuple(
            Posting(
                line["account"],
                Side(line["side"]),
                money(line["amount"], line["currency"]),
                party=line["party"],
                document=line["document"],
                memo=line["memo"],
            )
            for line in data["lines"]
        ),
        source=data["source"],
        metadata=[(key, value) for key, value in data["metadata"]],
    )


class HttpLedger:
    """A ledger adapter over HTTP (a template), satisfying :class:`~o2c.ports.ledger.LedgerPort`."""

    def __init__(
        self,
        base_url: str,
        chart: ChartOfAccounts | None = None,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        name: str = "http-ledger",
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.chart = chart or ChartOfAccounts.default()
        self._token = token
        self._timeout = timeout

    # --- the port -----------------------------------------------------------------------------

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        """Send the batch in one request under an idempotency key derived from its content."""
        entries = tuple(entries)
        if not entries:
            return PostingResult((), ())
        for entry in entries:  # refuse early what the books cannot take
            for posting in entry.postings:
                if not self.chart.has(posting.account):
                    raise AdapterRejected(
                        self.name,
                        f"entry {entry.entry_id!r} posts to account {posting.account!r},"
                        " which is not in the chart",
                        "unknown_account",
                    )
        body = json.dumps({"entries": [entry_to_wire(e) for e in entries]}, sort_keys=True).encode()
        key = hashlib.sha256(body).hexdigest()
        answer = self._request("POST", "/journal/batches", body, {"Idempotency-Key": key})
        return PostingResult(tuple(answer["posted"]), tuple(answer["already_posted"]))

    def balance(self, account: str, currency: str, party: str | None = None) -> Money:
        """Debit minus credit of ``account`` in ``currency``, as the accounting system says."""
        if not self.chart.has(account):
            raise AdapterRejected(
                self.name, f"account {account!r} is not in the chart", "unknown_account"
            )
        query = {"account": account, "currency": currency}
        if party is not None:
            query["party"] = party
        answer = self._request("GET", "/balances?" + urllib.parse.urlencode(query))
        return self._money(answer["amount"], answer["currency"])

    def trial_balance(self) -> TrialBalance:
        """Every account's debits and credits per currency, as the accounting system says."""
        answer = self._request("GET", "/trial-balance")
        return TrialBalance(
            tuple(
                TrialBalanceRow(
                    row["account"],
                    row["name"],
                    row["currency"],
                    self._money(row["debit"], row["currency"]),
                    self._money(row["credit"], row["currency"]),
                )
                for row in answer["rows"]
            )
        )

    # --- HTTP -----------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        for header, value in (headers or {}).items():
            request.add_header(header, value)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as error:
            raise self._refusal(error) from error
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise AdapterUnavailable(
                self.name, f"{method} {path} could not reach the ledger: {error}"
            ) from error
        except ValueError as error:  # not JSON: the server is not the ledger we expect
            raise AdapterUnavailable(self.name, f"{method} {path}: unreadable answer") from error

    def _refusal(self, error: urllib.error.HTTPError) -> Exception:
        try:
            detail: dict[str, Any] = json.loads(error.read() or b"{}")
        except ValueError:
            detail = {}
        message = str(detail.get("message") or error.reason)
        if error.code == 409:
            entry_id = str(detail.get("entry_id", ""))
            return DuplicateRequest(self.name, message, entry_id)
        if error.code == 429 or error.code >= 500:
            return AdapterUnavailable(self.name, f"the ledger answered {error.code}: {message}")
        return AdapterRejected(self.name, message, str(detail.get("code") or error.code))

    def _money(self, amount: str, currency: str) -> Money:
        try:
            return money(amount, currency)
        except DomainError as error:
            raise AdapterRejected(self.name, error.describe(), "bad_answer") from error
