"""Quotes: lifecycle, validity dates and conversion into an order."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.errors import (
    CurrencyMismatch,
    DuplicateLine,
    EmptyOrder,
    IllegalTransition,
    InvalidInput,
    QuoteNoLongerValid,
    QuoteStillValid,
)
from o2c.domain.money import money, unit_price
from o2c.domain.orders import InvoicingPolicy, OrderCreated, OrderLine, OrderPlaced, OrderStatus
from o2c.domain.quotes import (
    QUOTE_LIFECYCLE,
    Quote,
    QuoteAccepted,
    QuoteConverted,
    QuoteCreated,
    QuoteExpired,
    QuoteRejected,
    QuoteSent,
    QuoteStatus,
)
from o2c.domain.tax import TaxCategory

DAY = date(2026, 3, 2)
UNTIL = date(2026, 3, 31)


def a_line(line_id: str = "1", currency: str = "EUR") -> OrderLine:
    return OrderLine(
        line_id,
        "P-1",
        "widget",
        quantity=2,
        unit_price=unit_price("50.00", currency),
        tax=TaxCategory.standard("19"),
    )


def a_sent_quote() -> Quote:
    quote, _ = Quote.create("Q-1", "C-1", [a_line()], valid_until=UNTIL, on=DAY)
    return quote.send(on=DAY).state


def test_create_send_accept() -> None:
    quote, events = Quote.create("Q-1", "C-1", [a_line()], valid_until=UNTIL, on=DAY)
    assert events == (QuoteCreated("Q-1", "C-1", DAY),)
    assert quote.totals.gross == money("119.00", "EUR")
    quote, events = quote.send(on=DAY)
    assert events == (QuoteSent("Q-1", UNTIL, DAY),)
    quote, events = quote.accept(on=UNTIL)  # the last valid day still counts
    assert quote.status is QuoteStatus.ACCEPTED
    assert events == (QuoteAccepted("Q-1", UNTIL),)


def test_create_refuses_bad_line_sets_and_dates() -> None:
    with pytest.raises(EmptyOrder):
        Quote.create("Q-1", "C-1", [], valid_until=UNTIL, on=DAY)
    with pytest.raises(DuplicateLine):
        Quote.create("Q-1", "C-1", [a_line(), a_line()], valid_until=UNTIL, on=DAY)
    with pytest.raises(CurrencyMismatch):
        Quote.create("Q-1", "C-1", [a_line(), a_line("2", "USD")], valid_until=UNTIL, on=DAY)
    with pytest.raises(InvalidInput, match="valid until"):
        Quote.create("Q-1", "C-1", [a_line()], valid_until=DAY - timedelta(days=1), on=DAY)


def test_accept_after_validity_is_refused() -> None:
    quote = a_sent_quote()
    with pytest.raises(QuoteNoLongerValid) as caught:
        quote.accept(on=UNTIL + timedelta(days=1))
    assert caught.value.valid_until == "2026-03-31"
    assert quote.status is QuoteStatus.SENT


def test_expire_only_after_validity() -> None:
    quote = a_sent_quote()
    with pytest.raises(QuoteStillValid):
        quote.expire(on=UNTIL)
    expired, events = quote.expire(on=UNTIL + timedelta(days=1))
    assert expired.status is QuoteStatus.EXPIRED
    assert events == (QuoteExpired("Q-1", UNTIL, UNTIL + timedelta(days=1)),)
    with pytest.raises(IllegalTransition):
        expired.accept(on=UNTIL)


def test_reject() -> None:
    quote, events = a_sent_quote().reject(on=DAY, reason="too expensive")
    assert quote.status is QuoteStatus.REJECTED
    assert events == (QuoteRejected("Q-1", "too expensive", DAY),)
    with pytest.raises(IllegalTransition):
        quote.accept(on=DAY)


def test_a_draft_must_be_sent_before_acceptance() -> None:
    quote, _ = Quote.create("Q-1", "C-1", [a_line()], valid_until=UNTIL, on=DAY)
    with pytest.raises(IllegalTransition):
        quote.accept(on=DAY)


def test_to_order_builds_a_draft_order_once() -> None:
    quote = a_sent_quote().accept(on=DAY).state
    (converted, order), events = quote.to_order("SO-1", on=DAY)
    assert converted.status is QuoteStatus.CONVERTED
    assert converted.order_id == "SO-1"
    assert order.status is OrderStatus.DRAFT
    assert order.quote_id == "Q-1"
    assert order.lines == quote.lines
    assert order.totals == quote.totals
    assert events == (QuoteConverted("Q-1", "SO-1", DAY), OrderCreated("SO-1", "C-1", DAY))
    with pytest.raises(IllegalTransition):
        converted.to_order("SO-2", on=DAY)


def test_to_order_can_place_the_order() -> None:
    quote = a_sent_quote().accept(on=DAY).state
    (_, order), events = quote.to_order(
        "SO-1", on=DAY, place=True, invoicing_policy=InvoicingPolicy.ON_ORDER
    )
    assert order.status is OrderStatus.PLACED
    assert order.invoicing_policy is InvoicingPolicy.ON_ORDER
    assert isinstance(events[-1], OrderPlaced)


def test_only_accepted_quotes_convert() -> None:
    with pytest.raises(IllegalTransition):
        a_sent_quote().to_order("SO-1", on=DAY)


def test_operations_refuse_dates_before_the_quote() -> None:
    quote, _ = Quote.create("Q-1", "C-1", [a_line()], valid_until=UNTIL, on=DAY)
    with pytest.raises(InvalidInput, match="before"):
        quote.send(on=DAY - timedelta(days=1))


def test_lifecycle_final_states() -> None:
    assert set(QUOTE_LIFECYCLE.final_states) == {
        QuoteStatus.REJECTED,
        QuoteStatus.EXPIRED,
        QuoteStatus.CONVERTED,
    }


@given(st.integers(0, 60))
def test_a_sent_quote_is_either_acceptable_or_expirable(offset: int) -> None:
    quote = a_sent_quote()
    day = DAY + timedelta(days=offset)
    assert quote.is_valid_on(day) == (day <= UNTIL)
    if day <= UNTIL:
        assert quote.accept(on=day).state.status is QuoteStatus.ACCEPTED
        with pytest.raises(QuoteStillValid):
            quote.expire(on=day)
    else:
        assert quote.expire(on=day).state.status is QuoteStatus.EXPIRED
        with pytest.raises(QuoteNoLongerValid):
            quote.accept(on=day)
