"""References out and in, and the exception queue as a worklist, through the services on the
in-memory store and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import o2c
from o2c.domain.customers import Address, Customer
from o2c.domain.errors import InvalidInput
from o2c.domain.money import Money, money, unit_price
from o2c.domain.orders import OrderLine
from o2c.domain.receipts import Payer, Receipt, ReceiptState
from o2c.domain.references import creditor_reference, is_creditor_reference
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.domain.worklist import DecisionKind, QueueReason
from o2c.ports.carriers import Parcel
from o2c.services.errors import NotASuggestion, NotQueued

DAY = date(2026, 3, 2)
CONFIG = {
    "adapters": {
        "clock": {"use": "fixed", "options": {"at": datetime(2026, 3, 2, 9, tzinfo=UTC)}},
        "inventory": {"use": "memory", "options": {"stock": {"DESK": 100}}},
    },
    "plugins": {"entry_points": False},
}
SPACED_IBAN = "DE02 1203 0000 0000 2020 51"
COMPACT_IBAN = "DE02120300000000202051"


def eur(amount: str) -> Money:
    return money(amount, "EUR")


@pytest.fixture(params=["memory", "sqlite"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[o2c.App]:
    if request.param == "memory":
        yield o2c.bootstrap(CONFIG)
        return
    sql = pytest.importorskip("o2c.adapters.sql")
    store = sql.SqlStore(tmp_path / "books.db")
    try:
        yield o2c.bootstrap(CONFIG, unit_of_work=store.unit_of_work)
    finally:
        store.close()


class Keys:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"k-{self.count}"


key = Keys()


def register(app: o2c.App, customer_id: str, name: str, account: str = "") -> None:
    customer = Customer(
        customer_id,
        name,
        "EUR",
        PaymentTerms.parse("NET 30"),
        address=Address("Hafenstrasse 1", "Hamburg", "20457", "DE"),
        payer_accounts=frozenset({account} if account else ()),
    )
    app.services.customers.register_customer(customer, idempotency_key=key())
    app.services.customers.approve_credit(
        customer_id,
        eur("100000"),
        date(2027, 3, 1),
        reviewer="r",
        reason="known",
        idempotency_key=key(),
    )


def invoice(app: o2c.App, order_id: str, customer_id: str, desks: int = 1) -> str:
    """An invoice of ``desks`` desks at 100.00 + 19 % VAT (119.00 each)."""
    line = OrderLine(
        "1", "DESK", "Desk", desks, unit_price("100.00", "EUR"), TaxCategory.standard("19")
    )
    services = app.services
    services.orders.place_order(order_id, customer_id, [line], idempotency_key=key())
    services.orders.ship_order(order_id, [Parcel(Decimal(20))], idempotency_key=key())
    return services.billing.invoice_order(order_id, idempotency_key=key()).invoice_number


def receipt(receipt_id: str, amount: str, **fields: object) -> Receipt:
    return Receipt(receipt_id, eur(amount), DAY, f"statement/{receipt_id}", **fields)  # type: ignore[arg-type]


def reference_of(app: o2c.App, number: str) -> str:
    with app.adapters.unit_of_work() as uow:
        found = uow.invoices.get(number).payment_reference
    assert found is not None
    return found


# --- references out ----------------------------------------------------------------------------


def test_every_issued_invoice_carries_its_creditor_reference(app: o2c.App) -> None:
    register(app, "ACME", "Acme Trading GmbH")
    numbers = [invoice(app, f"SO-{n}", "ACME") for n in range(3)]
    references = [reference_of(app, number) for number in numbers]
    assert references == [creditor_reference(number) for number in numbers]
    assert all(is_creditor_reference(r) for r in references)
    assert len(set(references)) == len(references)
    with app.adapters.unit_of_work() as uow:
        assert [i.reference for i in uow.open_items.open_of("ACME", "EUR")] == references


def test_the_statement_of_account_shows_the_reference(app: o2c.App) -> None:
    register(app, "ACME", "Acme Trading GmbH")
    number = invoice(app, "SO-1", "ACME")
    reference = reference_of(app, number)
    period = o2c.Period(DAY - timedelta(days=1), DAY)
    statement = app.services.reports.statement("ACME", period)
    shown = [e.line.payment_reference for e in statement.entries if e.line.reference == number]
    assert any(reference[:4] in row for row in statement.render().splitlines())
    assert shown == [reference]


# --- references in -----------------------------------------------------------------------------


def test_a_creditor_reference_pays_its_invoice_exactly(app: o2c.App) -> None:
    register(app, "ACME", "Acme Trading GmbH")
    number = invoice(app, "SO-1", "ACME")
    paid = app.services.cash.import_receipts(
        [receipt("R-1", "119.00", reference=reference_of(app, number), payer=Payer(name="?"))],
        idempotency_key=key(),
    )
    assert [(a.item_id, a.rule) for a in paid.allocations] == [(number, "structured_reference")]


def test_a_wrong_check_digit_is_never_an_exact_match(app: o2c.App) -> None:
    register(app, "ACME", "Acme Trading GmbH")
    number = invoice(app, "SO-1", "ACME")
    good = reference_of(app, number)
    bad = f"RF{(int(good[2:4]) + 1) % 100:02d}{good[4:]}"
    assert not is_creditor_reference(bad)
    result = app.services.cash.import_receipts(
        [receipt("R-1", "119.00", reference=bad, payer=Payer(name="somebody"))],
        idempotency_key=key(),
    )
    assert result.allocations == ()
    assert result.queued == ("R-1",)
    entry = app.services.queue.entry("R-1")
    assert entry.suggestions[0].item_id == number  # still the best candidate for a person


@pytest.mark.parametrize(("registered", "on_statement"), [(SPACED_IBAN, COMPACT_IBAN)] * 1)
def test_an_iban_registered_with_spaces_matches_the_banks_compact_form(
    app: o2c.App, registered: str, on_statement: str
) -> None:
    register(app, "ACME", "Acme Trading GmbH", registered)
    number = invoice(app, "SO-1", "ACME")
    result = app.services.cash.import_receipts(
        [receipt("R-1", "119.00", payer=Payer(account=on_statement))], idempotency_key=key()
    )
    assert [(a.item_id, a.rule) for a in result.allocations] == [(number, "exact_amount")]
    result = app.services.cash.import_receipts(
        [receipt("R-2", "5.00", payer=Payer(account="de02 1203 0000 0000 2020 51"))],
        idempotency_key=key(),
    )
    assert result.on_account == ("R-2",)  # known by account, lower case and spaced too


def test_a_payers_name_finds_its_customer(app: o2c.App) -> None:
    register(app, "ACME", "Acme Trading GmbH")
    register(app, "BOLT", "Bolt Ltd")
    register(app, "BOLT-2", "Bolt Ltd")
    number = invoice(app, "SO-1", "ACME")
    invoice(app, "SO-2", "BOLT")
    result = app.services.cash.import_receipts(
        [
            receipt("R-1", "119.00", payer=Payer(name="ACME  trading gmbh")),
            receipt("R-2", "119.00", payer=Payer(name="Bolt Ltd")),  # two customers: unknown
        ],
        idempotency_key=key(),
    )
    assert [(a.receipt_id, a.item_id, a.rule) for a in result.allocations] == [
        ("R-1", number, "exact_amount")
    ]
    assert result.queued == ("R-2",)


# --- the worklist ------------------------------------------------------------------------------


def queue_two(app: o2c.App) -> tuple[str, str]:
    """ACME owes two invoices; an unknown payer pays 119.00, then 50.00, naming nothing."""
    register(app, "ACME", "Acme Trading GmbH")
    first = invoice(app, "SO-1", "ACME")
    second = invoice(app, "SO-2", "ACME", desks=2)
    result = app.services.cash.import_receipts(
        [
            receipt("R-1", "119.00", payer=Payer(name="A. Nonymous")),
            receipt("R-2", "50.00", payer=Payer(name="Somebody")),
        ],
        idempotency_key=key(),
    )
    assert result.queued == ("R-1", "R-2")
    return first, second


def test_queued_receipts_are_stored_with_ranked_suggestions(app: o2c.App) -> None:
    first, _ = queue_two(app)
    entries = app.services.queue.entries()
    assert [e.receipt_id for e in entries] == ["R-1", "R-2"]
    entry = entries[0]
    assert entry.reason is QueueReason.UNMATCHED
    assert entry.unapplied == eur("119.00")
    assert entry.suggestions[0].item_id == first  # the same amount open
    assert all(s.reason for s in entry.suggestions)
    scores = [s.score for s in entry.suggestions]
    assert scores == sorted(scores, reverse=True)
    assert app.services.queue.entries(currency="USD") == ()
    assert app.services.queue.entries(customer_id="ACME") == ()  # the payers are unknown
    assert len(app.services.queue.entries(older_than_days=0, as_of=DAY + timedelta(1))) == 2
    assert app.services.queue.entries(older_than_days=1, as_of=DAY + timedelta(1)) == ()


def test_accepting_a_suggestion_applies_it_and_records_who_and_why(app: o2c.App) -> None:
    first, second = queue_two(app)
    with pytest.raises(NotASuggestion):
        app.services.queue.accept("R-1", "INV-NONE", by="ana", why="x", idempotency_key=key())
    done = app.services.queue.accept(
        "R-1", by="ana", why="same amount as the invoice", idempotency_key="accept-1"
    )
    assert (done.state, done.still_queued) == (ReceiptState.APPLIED, False)
    again = app.services.queue.accept(
        "R-1", by="ana", why="same amount as the invoice", idempotency_key="accept-1"
    )
    assert again == done  # a retry changes nothing
    entry = app.services.queue.entry("R-1")
    assert not entry.is_open
    [decision] = entry.decisions
    assert (decision.kind, decision.by, decision.why, decision.item_id, decision.amount) == (
        DecisionKind.ACCEPTED,
        "ana",
        "same amount as the invoice",
        first,
        eur("119.00"),
    )
    with app.adapters.unit_of_work() as uow:
        assert uow.open_items.find(first).is_settled  # type: ignore[union-attr]
        [allocation] = uow.allocations.get("R-1")
        assert "ana" in allocation.explanation
    assert [e.receipt_id for e in app.services.queue.entries()] == ["R-2"]
    with pytest.raises(NotQueued):
        app.services.queue.accept("R-1", by="ana", why="twice", idempotency_key=key())
    assert second


def test_allocating_by_hand_then_refunding_the_rest(app: o2c.App) -> None:
    _, second = queue_two(app)
    part = app.services.queue.allocate(
        "R-2", second, eur("30.00"), by="ben", why="customer called", idempotency_key=key()
    )
    assert (part.state, part.unapplied, part.still_queued) == (
        ReceiptState.PARTIALLY_APPLIED,
        eur("20.00"),
        True,
    )
    assert app.services.queue.entries()[-1].unapplied == eur("20.00")
    rest = app.services.queue.refund("R-2", by="ben", why="overpaid", idempotency_key=key())
    assert (rest.unapplied, rest.still_queued) == (eur("0.00"), False)
    kinds = [(d.kind, d.by, d.amount) for d in app.services.queue.entry("R-2").decisions]
    assert kinds == [
        (DecisionKind.ALLOCATED, "ben", eur("30.00")),
        (DecisionKind.REFUNDED, "ben", eur("20.00")),
    ]


def test_putting_on_account_needs_a_customer_and_a_reason(app: o2c.App) -> None:
    queue_two(app)
    before = app.services.queue.entry("R-2")
    with pytest.raises(NotQueued, match="name the customer"):
        app.services.queue.put_on_account("R-2", by="ana", why="x", idempotency_key=key())
    with pytest.raises(InvalidInput):
        app.services.queue.put_on_account("R-2", "ACME", by="ana", why=" ", idempotency_key=key())
    assert app.services.queue.entry("R-2") == before  # refused: nothing changed
    done = app.services.queue.put_on_account(
        "R-2", "ACME", by="ana", why="ACME confirmed it", idempotency_key=key()
    )
    assert (done.state, done.still_queued) == (ReceiptState.ON_ACCOUNT, False)
    [decision] = app.services.queue.entry("R-2").decisions
    assert (decision.kind, decision.customer_id) == (DecisionKind.ON_ACCOUNT, "ACME")


def test_cash_applied_outside_the_queue_is_followed(app: o2c.App) -> None:
    first, _ = queue_two(app)
    app.services.cash.apply_receipt("R-1", first, idempotency_key=key())
    assert not app.services.queue.entry("R-1").is_open
    assert [e.receipt_id for e in app.services.queue.entries()] == ["R-2"]


def test_the_rest_of_a_partly_matched_receipt_waits_with_suggestions(app: o2c.App) -> None:
    register(app, "ACME", "Acme Trading GmbH")
    first = invoice(app, "SO-1", "ACME")
    second = invoice(app, "SO-2", "ACME", desks=2)
    result = app.services.cash.import_receipts(
        [receipt("R-1", "200.00", remittance=f"paying {first}", payer=Payer("ACME"))],
        idempotency_key=key(),
    )
    assert result.partly_matched == ("R-1",)
    [entry] = app.services.queue.entries(customer_id="ACME", currency="EUR")
    assert (entry.reason, entry.unapplied) == (QueueReason.PARTLY_MATCHED, eur("81.00"))
    assert first in entry.note
    assert [s.item_id for s in entry.suggestions] == [second]
    app.services.queue.accept("R-1", by="ana", why="the rest is for SO-2", idempotency_key=key())
    with app.adapters.unit_of_work() as uow:
        assert uow.open_items.find(second).open == eur("157.00")  # type: ignore[union-attr]
