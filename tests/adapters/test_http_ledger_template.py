"""The HTTP ledger template (examples/ledger-over-http) passes the ledger contract.

The accounting system at the other end is a fake started here: a standard-library HTTP server in
a thread that keeps each book in a :class:`~o2c.adapters.memory.MemoryLedger` and answers the
template's API (batches, balances, the trial balance). Each ledger the contract builds gets a
book of its own under ``/books/<n>``.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from o2c.adapters.memory import MemoryLedger
from o2c.domain.errors import DomainError
from o2c.domain.ledger import ChartOfAccounts
from o2c.domain.money import money
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest
from o2c.ports.ledger import LedgerPort, PostingResult
from o2c.testing import LedgerCapabilities, LedgerContract
from o2c.testing.ledger import LedgerFactory, LedgerReopener, entry

TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "ledger-over-http" / "http_ledger.py"


def load_template() -> ModuleType:
    spec = importlib.util.spec_from_file_location("http_ledger_template", TEMPLATE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


template = load_template()


class FakeAccountingSystem(ThreadingHTTPServer):
    """Books by number, each a memory ledger; every request is logged as (method, path, key)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.books: dict[str, MemoryLedger] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.failing = 0
        """Answer this many next requests with 503, as a system under maintenance would."""
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeAccountingSystem

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the request log instead."""

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _book(self) -> tuple[MemoryLedger, str, dict[str, list[str]]] | None:
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.split("/")
        if len(parts) < 4 or parts[1] != "books":
            return None
        with self.server.lock:
            book = self.server.books.setdefault(parts[2], MemoryLedger())
        return book, "/" + "/".join(parts[3:]), urllib.parse.parse_qs(url.query)

    def _unavailable(self) -> bool:
        with self.server.lock:
            self.server.requests.append(
                (self.command, self.path, self.headers.get("Idempotency-Key"))
            )
            if self.server.failing:
                self.server.failing -= 1
                return True
        return False

    def do_POST(self) -> None:
        if self._unavailable():
            return self._answer(503, {"message": "under maintenance"})
        found = self._book()
        if found is None or found[1] != "/journal/batches":
            return self._answer(404, {"message": "no such resource"})
        book = found[0]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        try:
            entries = [template.entry_from_wire(data) for data in body["entries"]]
            result = book.post_batch(entries)
        except DuplicateRequest as error:
            return self._answer(409, {"message": error.message, "entry_id": error.key})
        except AdapterRejected as error:
            return self._answer(422, {"message": error.message, "code": error.code})
        except (DomainError, KeyError) as error:
            return self._answer(422, {"message": str(error), "code": "invalid_entry"})
        return self._answer(
            200, {"posted": list(result.posted), "already_posted": list(result.already_posted)}
        )

    def do_GET(self) -> None:
        if self._unavailable():
            return self._answer(503, {"message": "under maintenance"})
        found = self._book()
        if found is None:
            return self._answer(404, {"message": "no such resource"})
        book, path, query = found
        if path == "/balances":
            currency = query["currency"][0]
            party = query.get("party", [None])[0]
            try:
                amount = book.balance(query["account"][0], currency, party)
            except AdapterRejected as error:
                return self._answer(422, {"message": error.message, "code": error.code})
            return self._answer(200, {"amount": f"{amount.amount:f}", "currency": currency})
        if path == "/trial-balance":
            rows = [
                {
                    "account": row.account,
                    "name": row.name,
                    "currency": row.currency,
                    "debit": f"{row.debit.amount:f}",
                    "credit": f"{row.credit.amount:f}",
                }
                for row in book.trial_balance().rows
            ]
            return self._answer(200, {"rows": rows})
        return self._answer(404, {"message": "no such resource"})


@pytest.fixture(scope="module")
def accounting_system() -> Iterator[FakeAccountingSystem]:
    server = FakeAccountingSystem()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


_books = itertools.count(1)


class TestHttpLedgerTemplate(LedgerContract):
    @pytest.fixture
    def make_ledger(self, accounting_system: FakeAccountingSystem) -> LedgerFactory:
        def make(chart: ChartOfAccounts) -> LedgerPort:
            ledger: LedgerPort = template.HttpLedger(
                f"{accounting_system.url}/books/{next(_books)}", chart, timeout=5
            )
            return ledger

        return make

    @pytest.fixture
    def reopen_ledger(self) -> LedgerReopener:
        """The same book, reached by a new adapter object (a restarted application)."""

        def reopen(ledger: LedgerPort, chart: ChartOfAccounts) -> LedgerPort:
            assert isinstance(ledger, template.HttpLedger)
            again: LedgerPort = template.HttpLedger(ledger.base_url, chart, timeout=5)
            return again

        return reopen

    @pytest.fixture
    def capabilities(self) -> LedgerCapabilities:
        return LedgerCapabilities(durable=True)


def test_a_batch_travels_once_under_a_key_derived_from_its_content(
    accounting_system: FakeAccountingSystem,
) -> None:
    ledger = template.HttpLedger(f"{accounting_system.url}/books/keys", token="secret")
    batch = [entry("E-1"), entry("E-2", "2.00")]
    start = len(accounting_system.requests)
    assert ledger.post_batch(batch) == PostingResult(("E-1", "E-2"), ())
    assert ledger.post_batch(batch) == PostingResult((), ("E-1", "E-2"))
    sent = accounting_system.requests[start:]
    assert [method for method, _, _ in sent] == ["POST", "POST"]
    assert sent[0][2] is not None
    assert sent[0][2] == sent[1][2]
    assert ledger.post_batch([entry("E-3")]) == PostingResult(("E-3",), ())
    assert accounting_system.requests[-1][2] != sent[0][2]


def test_a_server_under_maintenance_is_retryable_and_posts_nothing(
    accounting_system: FakeAccountingSystem,
) -> None:
    ledger = template.HttpLedger(f"{accounting_system.url}/books/maintenance")
    accounting_system.failing = 1
    with pytest.raises(AdapterUnavailable) as raised:
        ledger.post_batch([entry("E-1")])
    assert raised.value.retryable
    assert ledger.balance("1200", "EUR") == money("0.00", "EUR")
    assert ledger.post_batch([entry("E-1")]).posted == ("E-1",)


def test_a_server_that_cannot_be_reached_is_retryable() -> None:
    server = FakeAccountingSystem()
    url = server.url
    server.server_close()  # nobody listens there any more
    ledger = template.HttpLedger(f"{url}/books/1", timeout=2)
    with pytest.raises(AdapterUnavailable):
        ledger.post_batch([entry("E-1")])


def test_amounts_travel_as_exact_decimal_strings() -> None:
    wire = template.entry_to_wire(entry("E-1", "0.10"))
    assert wire["lines"][0]["amount"] == "0.10"
    assert template.entry_from_wire(json.loads(json.dumps(wire))) == entry("E-1", "0.10")
