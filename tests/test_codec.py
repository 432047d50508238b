"""The codec: every value o2c stores, remembers or publishes comes back equal from its data."""

from __future__ import annotations

import functools
import json
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import o2c
from o2c import codec
from o2c.adapters.memory.persistence import REPOSITORIES
from o2c.cli import simulate
from o2c.domain.customers import Customer
from o2c.domain.events import DomainEvent
from o2c.domain.ledger import JournalEntry
from o2c.domain.money import Money, money
from o2c.domain.orders import Order, OrderLine
from o2c.domain.quotes import Quote
from o2c.domain.receivables import OpenItem
from o2c.domain.terms import PaymentTerms
from o2c.ports import persistence
from o2c.ports.persistence import Repository, UnitOfWork
from o2c.services import results
from o2c.testing import strategies as o2c_st

DAY = date(2026, 3, 2)


def round_trips(value: object, as_type: object = None) -> None:
    text = codec.dumps(value, as_type)
    back = codec.loads(text, as_type or type(value))
    assert back == value
    assert codec.dumps(back, as_type) == text  # one stored form per value
    assert json.loads(text) == codec.to_data(value, as_type)


def _stored_type(hint: Any) -> Any:
    for base in getattr(hint, "__orig_bases__", ()):
        if typing.get_origin(base) is Repository:
            return typing.get_args(base)[0]
    return typing.get_args(hint)[0]


REPOSITORY_TYPES = {
    name: _stored_type(hint)
    for name, hint in typing.get_type_hints(UnitOfWork, vars(persistence)).items()
    if name in REPOSITORIES
}


@pytest.fixture(scope="module")
def simulated() -> tuple[o2c.App, list[DomainEvent]]:
    """A simulated business of a few months, with every event its commands published."""
    published: list[DomainEvent] = []

    class Collector:
        @o2c.hookimpl
        def o2c_domain_event(self, event: DomainEvent) -> None:
            published.append(event)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            simulate.o2c, "bootstrap", functools.partial(o2c.bootstrap, plugins=[Collector()])
        )
        simulation = simulate.Simulation(customers=25, days=150, seed=7)
        simulation.run()
    return simulation._app, published


@pytest.mark.parametrize("repository", sorted(set(REPOSITORIES) - {"ledger_outbox", "quotes"}))
def test_every_value_a_business_stores_round_trips(
    simulated: tuple[o2c.App, list[DomainEvent]], repository: str
) -> None:
    app, _ = simulated
    with app.adapters.unit_of_work() as uow:
        values = list(getattr(uow, repository).values())
    assert values, f"the simulation stored no {repository}"
    for value in values:
        round_trips(value, REPOSITORY_TYPES[repository])


def test_every_event_a_business_publishes_round_trips(
    simulated: tuple[o2c.App, list[DomainEvent]],
) -> None:
    _, published = simulated
    kinds = {type(event).__name__ for event in published}
    assert len(kinds) > 20
    for event in published:
        round_trips(event, DomainEvent)  # declared as the base: the class travels by name
        round_trips(event)


@given(o2c_st.receipts())
def test_receipts_round_trip(receipt: Any) -> None:
    round_trips(receipt)


@given(o2c_st.open_items())
def test_open_items_round_trip(item: OpenItem) -> None:
    round_trips(item)


@given(o2c_st.journal_entries())
def test_journal_entries_round_trip(entry: JournalEntry) -> None:
    round_trips(entry)


@given(o2c_st.payment_terms())
def test_payment_terms_round_trip(terms: PaymentTerms) -> None:
    round_trips(terms)
    round_trips(Customer("C-1", "Acme", "EUR", terms=terms))


@given(o2c_st.order_lines())
def test_orders_and_quotes_round_trip(lines: list[OrderLine]) -> None:
    order, _ = Order.create("SO-1", "C-1", lines, on=DAY)
    round_trips(order)
    quote, _ = Quote.create("Q-1", "C-1", lines, valid_until=DAY, on=DAY)
    round_trips(quote)


@given(o2c_st.terms_notations())
def test_every_notation_of_terms_round_trips(notation: str) -> None:
    round_trips(PaymentTerms.parse(notation))


def test_results_round_trip_as_the_services_remember_them() -> None:
    placed = results.OrderPlacement(
        "SO-1", o2c.OrderStatus.APPROVED, o2c.CreditOutcome.APPROVE, ("credit.ok",)
    )
    round_trips(placed)


def test_the_stored_form_is_plain_and_exact() -> None:
    data = codec.to_data(money("12.50", "EUR"))
    assert data == {"amount": "12.50", "currency": "EUR"}
    assert codec.dumps(Decimal("0.10")) == '"0.10"'
    assert codec.dumps(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)) == '"2026-03-02T09:30:00+00:00"'
    assert codec.loads('{"amount":"12.50","currency":"EUR"}', Money) == money("12.50", "EUR")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('{"amount": 12.5, "currency": "EUR"}', Money),  # a float: not our data
        ('{"amount": "x", "currency": "EUR"}', Money),
        ('{"amount": "1"}', Money),
        ("not json", Money),
        ('{"type": "NoSuchEvent"}', DomainEvent),
        ('{"customer_id": "C-1"}', Customer),
        ('{"customer_id": "C-1", "name": "A", "currency": "EUR", "colour": "red"}', Customer),
    ],
)
def test_data_that_is_not_a_stored_value_is_refused(text: str, kind: type) -> None:
    with pytest.raises(codec.CodecError):
        codec.loads(text, kind)


def test_the_class_still_validates_what_it_is_given() -> None:
    text = codec.dumps(Customer("C-1", "Acme", "EUR")).replace('"EUR"', '"XXX"')
    with pytest.raises(o2c.UnknownCurrency):
        codec.loads(text, Customer)


def test_equivalent_requests_have_one_fingerprint() -> None:
    first = ("SO-1", {"1": Decimal("2"), "2": 3}, money("10.00", "EUR"))
    second = ("SO-1", {"2": Decimal("3.0"), "1": 2}, money("10", "EUR"))
    assert codec.fingerprint(first) == codec.fingerprint(second)
    assert codec.fingerprint(first) != codec.fingerprint(("SO-1", {"1": 2}, money("10", "EUR")))
    assert codec.fingerprint((True,)) != codec.fingerprint((1,))


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, max_value=10**9))
def test_a_number_has_one_fingerprint_however_it_is_written(number: Decimal) -> None:
    assert codec.fingerprint((number,)) == codec.fingerprint((Decimal(f"{number}00"),))
