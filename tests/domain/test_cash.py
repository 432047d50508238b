"""Receipts and cash application: lifecycle, application cases, reversal, refunds, idempotency."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.cash import (
    Allocation,
    AppliedSources,
    ReceiptApplied,
    ReceiptPlacedOnAccount,
    ReceiptQueuedForReview,
    ReceiptReversed,
    apply_cash,
    apply_statement,
    apply_to_item,
    refund_receipt,
    reverse_receipt,
)
from o2c.domain.errors import (
    CurrencyMismatch,
    DuplicateReceipt,
    IllegalTransition,
    InvalidAmount,
    InvalidInput,
    OverAllocation,
    UnappliedCashExceeded,
)
from o2c.domain.matching import MatchingConfig, WriteOffTolerance
from o2c.domain.money import from_minor, money, total
from o2c.domain.receipts import RECEIPT_LIFECYCLE, Payer, Receipt, ReceiptState, ReceiptTrigger
from o2c.domain.receivables import DiscountOffer, Instalment, OpenItem

DAY = date(2026, 3, 1)
ON = date(2026, 3, 20)
TOLERANT = MatchingConfig(tolerance=WriteOffTolerance(absolute=money("1.00", "EUR"), reason="diff"))


def an_item(
    item_id: str, amount: str, customer: str = "C1", *, days: int = 0, discount: str | None = None
) -> OpenItem:
    issued = DAY + timedelta(days=days)
    offers = (
        (DiscountOffer(issued + timedelta(days=10), money(discount, "EUR"), Decimal(2)),)
        if discount
        else ()
    )
    return OpenItem(
        item_id=item_id,
        customer_id=customer,
        document_date=issued,
        instalments=(Instalment.unpaid(issued + timedelta(days=30), money(amount, "EUR")),),
        discounts=offers,
    )


def a_receipt(
    amount: str,
    *,
    reference: str | None = None,
    customer: str | None = "C1",
    remittance: str = "",
    source: str = "S1",
    receipt_id: str = "R1",
    on: date = DAY + timedelta(days=5),
) -> Receipt:
    return Receipt(
        receipt_id=receipt_id,
        amount=money(amount, "EUR"),
        value_date=on,
        source_id=source,
        payer=Payer(customer_id=customer),
        remittance=remittance,
        reference=reference,
    )


def by_id(items: tuple[OpenItem, ...]) -> dict[str, OpenItem]:
    return {item.item_id: item for item in items}


# --- receipts and lifecycle ---------------------------------------------------------------------


def test_receipt_refuses_bad_amounts() -> None:
    with pytest.raises(InvalidAmount):
        a_receipt("0.00")
    with pytest.raises(InvalidAmount):
        Receipt("R", money("1.00", "EUR").__class__(Decimal("1.001"), "EUR"), DAY, "S")
    with pytest.raises(InvalidInput):
        Receipt("R", money("1.00", "EUR"), DAY, "")
    with pytest.raises(CurrencyMismatch):
        Receipt("R", money("1.00", "EUR"), DAY, "S", applied=money("0.50", "USD"))
    with pytest.raises(InvalidAmount):
        Receipt("R", money("1.00", "EUR"), DAY, "S", applied=money("2.00", "EUR"))


def test_lifecycle_allows_the_documented_moves_only() -> None:
    assert RECEIPT_LIFECYCLE.can(ReceiptState.APPLIED, ReceiptTrigger.REVERSE)
    assert not RECEIPT_LIFECYCLE.can(ReceiptState.REVERSED, ReceiptTrigger.REVERSE)
    assert not RECEIPT_LIFECYCLE.can(ReceiptState.APPLIED, ReceiptTrigger.APPLY_PART)
    assert ReceiptState.REFUNDED in RECEIPT_LIFECYCLE.final_states
    assert ReceiptState.REVERSED in RECEIPT_LIFECYCLE.final_states


# --- application cases --------------------------------------------------------------------------


def test_exact_reference_settles_the_item() -> None:
    result = apply_cash(a_receipt("100.00", reference="INV-1"), [an_item("INV-1", "100.00")], on=ON)
    assert result.receipt.state is ReceiptState.APPLIED
    assert result.receipt.unapplied == money("0.00", "EUR")
    (allocation,) = result.allocations
    assert allocation.rule == "structured_reference"
    assert allocation.confidence == 1
    assert result.items[0].is_settled
    assert isinstance(result.events[0], ReceiptApplied)
    assert "S1" in result.sources


def test_partial_payment_leaves_the_item_open() -> None:
    result = apply_cash(a_receipt("40.00", reference="INV-1"), [an_item("INV-1", "100.00")], on=ON)
    assert result.items[0].open == money("60.00", "EUR")
    assert result.allocations[0].applied == money("40.00", "EUR")
    assert "partial" in result.allocations[0].explanation


def test_one_receipt_pays_many_items_oldest_first() -> None:
    items = [an_item("INV-1", "30.00", days=2), an_item("INV-2", "20.00")]
    result = apply_cash(a_receipt("40.00", remittance="INV-1, INV-2"), items, on=ON)
    assert [a.item_id for a in result.allocations] == ["INV-2", "INV-1"]
    assert by_id(result.items)["INV-1"].open == money("10.00", "EUR")
    assert result.receipt.state is ReceiptState.APPLIED


def test_many_receipts_pay_one_item() -> None:
    first = a_receipt("30.00", reference="INV-1", source="S1", receipt_id="R1")
    second = a_receipt("70.00", reference="INV-1", source="S2", receipt_id="R2")
    run = apply_statement([first, second], [an_item("INV-1", "100.00")], on=ON)
    assert run.items[0].is_settled
    assert [r.state for r in run.receipts] == [ReceiptState.APPLIED, ReceiptState.APPLIED]


def test_overpayment_stays_on_the_receipt_as_unapplied_cash() -> None:
    result = apply_cash(a_receipt("120.00", reference="INV-1"), [an_item("INV-1", "100.00")], on=ON)
    assert result.receipt.state is ReceiptState.PARTIALLY_APPLIED
    assert result.receipt.unapplied == money("20.00", "EUR")
    assert result.events[0].unapplied == money("20.00", "EUR")  # type: ignore[attr-defined]


def test_short_payment_within_tolerance_is_written_off() -> None:
    result = apply_cash(
        a_receipt("99.40", reference="INV-1"), [an_item("INV-1", "100.00")], on=ON, config=TOLERANT
    )
    (allocation,) = result.allocations
    assert allocation.write_off == money("0.60", "EUR")
    assert allocation.write_off_reason == "diff"
    assert result.items[0].is_settled


def test_short_payment_beyond_tolerance_stays_open() -> None:
    result = apply_cash(
        a_receipt("98.00", reference="INV-1"), [an_item("INV-1", "100.00")], on=ON, config=TOLERANT
    )
    assert result.allocations[0].write_off == money("0.00", "EUR")
    assert result.items[0].open == money("2.00", "EUR")


def test_early_payment_discount_settles_the_item() -> None:
    items = [an_item("INV-1", "100.00", discount="2.00")]
    result = apply_cash(a_receipt("98.00"), items, on=ON)
    (allocation,) = result.allocations
    assert allocation.rule == "discounted_amount"
    assert allocation.discount == money("2.00", "EUR")
    assert allocation.settled == money("100.00", "EUR")
    assert result.items[0].is_settled


def test_discount_is_not_taken_after_the_window() -> None:
    items = [an_item("INV-1", "100.00", discount="2.00")]
    late = a_receipt("98.00", reference="INV-1", on=DAY + timedelta(days=20))
    result = apply_cash(late, items, on=ON)
    assert result.allocations[0].discount == money("0.00", "EUR")
    assert result.items[0].open == money("2.00", "EUR")


def test_combined_payment_uses_the_combination_rule() -> None:
    items = [an_item("INV-1", "10.00"), an_item("INV-2", "22.22", days=1)]
    result = apply_cash(a_receipt("32.22"), items, on=ON)
    assert {a.rule for a in result.allocations} == {"combination"}
    assert all(item.is_settled for item in result.items)


def test_unmatched_cash_of_a_known_customer_goes_on_account() -> None:
    result = apply_cash(a_receipt("500.00"), [an_item("INV-1", "100.00")], on=ON)
    assert result.receipt.state is ReceiptState.ON_ACCOUNT
    assert result.exception is None
    event = result.events[0]
    assert isinstance(event, ReceiptPlacedOnAccount)
    assert event.suggestions[0].item_id == "INV-1"


def test_unknown_payer_goes_to_the_queue_with_ranked_suggestions() -> None:
    items = [an_item("INV-0012345", "100.00", customer="C9"), an_item("INV-0000777", "5.00")]
    receipt = a_receipt("100.00", customer=None, remittance="INV-0012399")
    result = apply_cash(receipt, items, on=ON)
    assert result.receipt.state is ReceiptState.UNAPPLIED
    assert result.exception is not None
    assert isinstance(result.events[0], ReceiptQueuedForReview)
    suggestions = result.exception.suggestions
    assert suggestions[0].item_id == "INV-0012345"
    assert all(0 <= s.score <= 1 for s in suggestions)
    assert list(suggestions) == sorted(suggestions, key=lambda s: -s.score)


def test_custom_ladder_replaces_the_default() -> None:
    result = apply_cash(a_receipt("100.00"), [an_item("INV-1", "100.00")], on=ON, ladder=())
    assert result.allocations == ()
    assert result.receipt.state is ReceiptState.ON_ACCOUNT


def test_currency_mismatch_never_allocates() -> None:
    usd = OpenItem(
        item_id="INV-1",
        customer_id="C1",
        document_date=DAY,
        instalments=(Instalment.unpaid(DAY, money("100.00", "USD")),),
    )
    result = apply_cash(a_receipt("100.00", reference="INV-1"), [usd], on=ON)
    assert result.allocations == ()


# --- idempotency --------------------------------------------------------------------------------


def test_applying_the_same_source_twice_raises() -> None:
    first = apply_cash(a_receipt("10.00", reference="INV-1"), [an_item("INV-1", "100.00")], on=ON)
    with pytest.raises(DuplicateReceipt):
        apply_cash(a_receipt("10.00", reference="INV-1"), first.items, on=ON, sources=first.sources)


def test_statement_reimport_is_a_no_op() -> None:
    receipts = [a_receipt("10.00", reference="INV-1", source="L1")]
    first = apply_statement(receipts, [an_item("INV-1", "100.00")], on=ON)
    again = apply_statement(receipts * 2, first.items, on=ON, sources=first.sources)
    assert again.allocations == ()
    assert again.items == first.items
    assert len(again.duplicates) == 2
    inside = apply_statement(receipts * 2, [an_item("INV-1", "100.00")], on=ON)
    assert len(inside.allocations) == 1
    assert len(inside.duplicates) == 1


# --- reversal, refunds, manual application ------------------------------------------------------


def test_reversal_reopens_payment_discount_and_write_off() -> None:
    items = [an_item("INV-1", "100.00", discount="2.00"), an_item("INV-2", "50.00", days=1)]
    receipts = [
        a_receipt("98.00", reference="INV-1", source="S1", receipt_id="R1"),
        a_receipt("49.40", reference="INV-2", source="S2", receipt_id="R2"),
    ]
    run = apply_statement(receipts, items, on=ON, config=TOLERANT)
    assert all(item.is_settled for item in run.items)
    first = reverse_receipt(run.receipts[0], run.allocations, run.items, on=ON)
    assert first.items == (items[0], run.items[1])
    second = reverse_receipt(run.receipts[1], run.allocations, first.items, on=ON)
    assert second.items == tuple(items)
    assert second.receipt.state is ReceiptState.REVERSED
    assert second.receipt.unapplied == money("0.00", "EUR")
    assert isinstance(second.events[0], ReceiptReversed)
    assert second.events[0].reversed_allocations[0].write_off == money("0.60", "EUR")
    with pytest.raises(IllegalTransition):
        reverse_receipt(second.receipt, run.allocations, second.items, on=ON)


def test_reversal_needs_exactly_the_receipts_allocations_and_items() -> None:
    result = apply_cash(a_receipt("10.00", reference="INV-1"), [an_item("INV-1", "100.00")], on=ON)
    with pytest.raises(InvalidInput):
        reverse_receipt(result.receipt, (), result.items, on=ON)
    with pytest.raises(InvalidInput):
        reverse_receipt(result.receipt, result.allocations, (), on=ON)


def test_refunds_of_unapplied_cash() -> None:
    result = apply_cash(a_receipt("120.00", reference="INV-1"), [an_item("INV-1", "100.00")], on=ON)
    with pytest.raises(UnappliedCashExceeded):
        refund_receipt(result.receipt, money("20.01", "EUR"), on=ON)
    part, _ = refund_receipt(result.receipt, money("5.00", "EUR"), on=ON)
    assert part.state is ReceiptState.PARTIALLY_APPLIED
    rest, events = refund_receipt(part, money("15.00", "EUR"), on=ON)
    assert events[0].amount == money("15.00", "EUR")  # type: ignore[attr-defined]
    assert rest.state is ReceiptState.APPLIED
    assert rest.unapplied == money("0.00", "EUR")
    assert rest.refunded == money("20.00", "EUR")
    with pytest.raises(InvalidInput):
        reverse_receipt(rest, result.allocations, result.items, on=ON)
    whole, _ = refund_receipt(a_receipt("10.00"), money("10.00", "EUR"), on=ON)
    assert whole.state is ReceiptState.REFUNDED


def test_a_receipt_taken_back_by_its_own_refund_channel_keeps_its_refunds() -> None:
    result = apply_cash(a_receipt("120.00", reference="INV-1"), [an_item("INV-1", "100.00")], on=ON)
    part, _ = refund_receipt(result.receipt, money("5.00", "EUR"), on=ON)
    reversal = reverse_receipt(part, result.allocations, result.items, on=ON, refunds_stand=True)
    assert reversal.receipt.state is ReceiptState.REVERSED
    assert reversal.receipt.refunded == money("5.00", "EUR")
    assert reversal.items[0].open == money("100.00", "EUR")
    (event,) = reversal.events
    assert isinstance(event, ReceiptReversed)
    assert event.amount == money("115.00", "EUR")  # the refunded 5.00 left before


def test_manual_application_of_credit_on_account() -> None:
    parked = apply_cash(a_receipt("500.00"), [an_item("INV-1", "100.00")], on=ON)
    done = apply_to_item(
        parked.receipt,
        parked.items[0],
        money("99.00", "EUR"),
        on=ON,
        write_off=money("1.00", "EUR"),
        write_off_reason="agreed",
    )
    assert done.item.is_settled
    assert done.receipt.state is ReceiptState.PARTIALLY_APPLIED
    assert done.receipt.unapplied == money("401.00", "EUR")
    assert done.allocation.rule == "manual"
    with pytest.raises(OverAllocation):
        apply_to_item(done.receipt, parked.items[0], money("101.00", "EUR"), on=ON)
    with pytest.raises(UnappliedCashExceeded):
        apply_to_item(done.receipt, parked.items[0], money("402.00", "EUR"), on=ON)


def test_allocation_refuses_invalid_parts() -> None:
    eur = money("0.00", "EUR")
    with pytest.raises(InvalidAmount):
        Allocation("R", "I", eur, eur, eur, None, "r", Decimal(1), "")
    with pytest.raises(InvalidInput):
        Allocation("R", "I", eur, eur, money("1.00", "EUR"), None, "r", Decimal(1), "")
    with pytest.raises(InvalidInput):
        Allocation("R", "I", money("1.00", "EUR"), eur, eur, None, "r", Decimal(2), "")


def test_applied_sources_grow() -> None:
    sources = AppliedSources().with_sources(["a", "b"])
    assert "a" in sources
    assert len(sources) == 2


# --- properties ---------------------------------------------------------------------------------


@st.composite
def portfolios(draw: st.DrawFn) -> tuple[list[OpenItem], list[Receipt]]:
    count = draw(st.integers(1, 8))
    items: list[OpenItem] = []
    for n in range(count):
        cents = draw(st.integers(1, 50_000))
        discount = draw(st.one_of(st.none(), st.integers(1, max(1, cents // 10))))
        items.append(
            OpenItem(
                item_id=f"INV-{n:05d}",
                customer_id=draw(st.sampled_from(["C1", "C2"])),
                document_date=DAY,
                instalments=(
                    Instalment.unpaid(
                        DAY + timedelta(days=draw(st.integers(0, 40))), from_minor(cents, "EUR")
                    ),
                ),
                reference=f"RF{n:04d}X",
                discounts=(
                    (
                        DiscountOffer(
                            DAY + timedelta(days=10), from_minor(discount, "EUR"), Decimal(2)
                        ),
                    )
                    if discount and discount < cents
                    else ()
                ),
            )
        )
    receipts: list[Receipt] = []
    for n in range(draw(st.integers(1, 8))):
        target = draw(st.sampled_from(items))
        receipts.append(
            Receipt(
                receipt_id=f"R{n}",
                amount=from_minor(draw(st.integers(1, 60_000)), "EUR"),
                value_date=DAY + timedelta(days=draw(st.integers(0, 20))),
                source_id=f"S{draw(st.integers(0, 10))}",
                payer=Payer(customer_id=draw(st.sampled_from([None, "C1", "C2"]))),
                remittance=draw(st.sampled_from(["", target.item_id, "INV 000", "x"])),
                reference=draw(st.sampled_from([None, target.reference, target.item_id])),
            )
        )
    return items, receipts


PROPERTY_CONFIG = MatchingConfig(
    tolerance=WriteOffTolerance(absolute=money("2.00", "EUR"), percent=Decimal(5))
)


@given(portfolios())
def test_the_ladder_never_makes_an_invalid_allocation(
    case: tuple[list[OpenItem], list[Receipt]],
) -> None:
    items, receipts = case
    run = apply_statement(receipts, items, on=ON, config=PROPERTY_CONFIG)
    before = by_id(tuple(items))
    after = by_id(run.items)
    for receipt in run.receipts:
        own = [a for a in run.allocations if a.receipt_id == receipt.receipt_id]
        applied = total((a.applied for a in own), "EUR")
        assert applied == receipt.applied
        assert receipt.amount == applied + receipt.unapplied
        assert receipt.unapplied.amount >= 0
    for item_id, item in before.items():
        settled = total((a.settled for a in run.allocations if a.item_id == item_id), "EUR")
        assert item.open - settled == after[item_id].open
        assert after[item_id].open.amount >= 0
    for allocation in run.allocations:
        assert allocation.applied.currency.code == "EUR"
        assert 0 <= allocation.confidence <= 1
    sources = {r.source_id for r in receipts}
    assert len(run.receipts) == len(sources)


@given(portfolios())
def test_reversal_restores_the_items_exactly(case: tuple[list[OpenItem], list[Receipt]]) -> None:
    items, receipts = case
    run = apply_statement(receipts, items, on=ON, config=PROPERTY_CONFIG)
    current = run.items
    for receipt in reversed(run.receipts):
        if RECEIPT_LIFECYCLE.can(receipt.state, ReceiptTrigger.REVERSE):
            current = reverse_receipt(receipt, run.allocations, current, on=ON).items
    assert current == tuple(items)


@given(portfolios())
def test_reapplying_the_same_sources_does_nothing(
    case: tuple[list[OpenItem], list[Receipt]],
) -> None:
    items, receipts = case
    run = apply_statement(receipts, items, on=ON, config=PROPERTY_CONFIG)
    again = apply_statement(receipts, run.items, on=ON, sources=run.sources, config=PROPERTY_CONFIG)
    assert again.allocations == ()
    assert again.items == run.items
    assert len(again.duplicates) == len(receipts)


# --- the benchmark, small -----------------------------------------------------------------------


def _benchmark() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_cash_application.py"
    spec = importlib.util.spec_from_file_location("bench_cash_application", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_benchmark_mix_matches_without_wrong_allocations() -> None:
    bench = _benchmark()
    scenario = bench.generate(500, 7)
    outcome = bench.run(scenario)
    assert outcome.wrong == 0
    assert outcome.matched / len(scenario.receipts) >= 0.95
