"""The matrix's checks can fail: each invariant is broken on purpose after a clean cycle.

A harness that calls every run consistent proves nothing; here a consistent cycle is tampered
with behind the services' back (stock held, a booking made, money moved, an entry posted, an
event dropped) and the check of exactly that invariant must fire.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs
import pytest
from fault_matrix import (
    PARCEL,
    Reference,
    Rig,
    StepOutcome,
    check,
    eur,
    line,
    one_run,
    reference_of,
)

from o2c.domain.ledger import AccountRole, JournalEntry, Posting, Side
from o2c.ports.carriers import ShipmentRequest
from o2c.testing.faults import FaultPlan

Tamper = Callable[[Rig, list[StepOutcome], Reference], Reference]


def _hold_stock_for_no_order(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    rig.inventory.reserve(
        "SO-404/1", order_id="SO-404", line_id="1", product_id="WIDGET", quantity=Decimal(1)
    )
    return ref


def _release_stock_an_order_needs(
    rig: Rig, outcomes: list[StepOutcome], ref: Reference
) -> Reference:
    rig.services.orders.place_order("SO-9", "C-1", [line("1", "WIDGET", 2)], idempotency_key="9")
    rig.inventory.inner.release("SO-9/1")
    return _followed_anyway(rig, outcomes, ref)


def _book_without_shipment(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    settings = rig.services.settings
    request = ShipmentRequest(
        "GHOST-1", "SO-1", settings.ship_from, settings.ship_from, PARCEL, rig.clock.today()
    )
    rig.carrier.book(request, "standard")
    return ref


def _cancel_a_recorded_booking(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    s = rig.services
    s.orders.place_order("SO-9", "C-1", [line("1", "WIDGET", 2)], idempotency_key="9")
    shipped = s.orders.ship_order("SO-9", PARCEL, idempotency_key="ship-9")
    rig.carrier.inner.cancel(shipped.tracking_number)
    return _followed_anyway(rig, outcomes, ref)


def _refund_at_the_gateway_only(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    reference = rig.gateway.references()[0]  # the captured card payment of SO-1
    rig.gateway.inner.refund(gateway_reference=reference, amount=eur("1.00"), idempotency_key="x")
    return ref


def _entry(entry_id: str, debit: AccountRole, credit: AccountRole, rig: Rig) -> JournalEntry:
    chart = rig.services.settings.chart
    return JournalEntry(
        entry_id,
        rig.clock.today(),
        "tampering",
        (
            Posting(chart.code(debit), Side.DEBIT, eur("3.00"), party="C-1"),
            Posting(chart.code(credit), Side.CREDIT, eur("3.00"), party="C-1"),
        ),
    )


def _post_an_entry_no_event_calls_for(
    rig: Rig, outcomes: list[StepOutcome], ref: Reference
) -> Reference:
    entry = _entry("ghost", AccountRole.BANK, AccountRole.REVENUE, rig)
    rig.ledger.post_batch([entry])
    return ref


def _post_to_receivable(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    entry = _entry("ghost-ar", AccountRole.RECEIVABLE, AccountRole.REVENUE, rig)
    rig.ledger.inner.post_batch([entry])  # behind the wrapper: only the balances show it
    return ref


def _drop_an_event(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    first = next(iter(rig.events.heard))
    del rig.events.heard[first]
    return ref


def _lose_a_sent_notice(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    """The notifier forgets a notice it was sent: committed, never delivered."""
    answers = rig.notifier._answers
    first = next(i for i, answer in enumerate(answers) if answer.method == "send")
    del answers[first]
    return ref


def _lose_a_relayed_event(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    """The broker loses an event it confirmed."""
    answers = rig.relay._answers
    del answers[next(i for i, answer in enumerate(answers) if answer.method == "publish")]
    return ref


def _relay_out_of_order(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    """The first two events of one stream reach the broker the other way round."""
    answers = rig.relay._answers
    streams = [answer.arguments["event"].stream for answer in answers]  # type: ignore[attr-defined]
    first = 0
    second = next(i for i in range(1, len(streams)) if streams[i] == streams[first])
    answers[first], answers[second] = answers[second], answers[first]
    return ref


def _a_step_never_completes(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    outcomes[3] = attrs.evolve(outcomes[3], completed=False, error="AdapterUnavailable")
    return ref


def _followed_anyway(rig: Rig, outcomes: list[StepOutcome], ref: Reference) -> Reference:
    """Accept what the tampering commands added, so only the tampered invariant is judged."""
    return reference_of(rig, outcomes)


@pytest.mark.parametrize(
    ("tamper", "invariant"),
    [
        (_hold_stock_for_no_order, "stock_orphaned"),
        (_release_stock_an_order_needs, "stock_missing"),
        (_book_without_shipment, "booking_without_shipment"),
        (_cancel_a_recorded_booking, "shipment_on_cancelled_booking"),
        (_refund_at_the_gateway_only, "gateway_vs_books"),
        (_post_an_entry_no_event_calls_for, "ledger_vs_events"),
        (_post_to_receivable, "ar_vs_open_items"),
        (_drop_an_event, "events_delivered"),
        (_lose_a_sent_notice, "notices_delivered"),
        (_lose_a_relayed_event, "events_relayed"),
        (_relay_out_of_order, "events_relayed"),
        (_a_step_never_completes, "completes"),
    ],
)
def test_tampering_breaks_exactly_the_invariant_it_targets(tamper: Tamper, invariant: str) -> None:
    rig, done, broken = one_run("memory", FaultPlan.dry_run(), None)
    assert broken == {}
    outcomes = list(done)
    reference = reference_of(rig, outcomes)
    assert check(rig, outcomes, reference) == {}
    reference = tamper(rig, outcomes, reference)
    found = check(rig, outcomes, reference)
    assert invariant in found
    if invariant == "ar_vs_open_items":
        assert set(found) <= {"ar_vs_open_items", "ledger_vs_events"}
    else:
        assert set(found) == {invariant}, found
