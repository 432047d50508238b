"""The matching ladder: each rule on its own, the index, and the reference helpers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from o2c.domain.errors import InvalidInput
from o2c.domain.matching import (
    CombinationRule,
    DiscountRule,
    ExactAmountRule,
    FuzzyReferenceRule,
    MatchContext,
    MatchingConfig,
    MatchingIndex,
    PayerDirectory,
    StructuredReferenceRule,
    WriteOffTolerance,
    normalize_reference,
    reference_core,
    reference_tokens,
    similarity,
)
from o2c.domain.money import money
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.receivables import DiscountOffer, Instalment, OpenItem

DAY = date(2026, 3, 1)


def an_item(
    item_id: str,
    amount: str,
    customer: str = "C1",
    *,
    reference: str | None = None,
    days: int = 0,
    discount: str | None = None,
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
        reference=reference,
        discounts=offers,
    )


def a_receipt(
    amount: str,
    *,
    customer: str | None = "C1",
    reference: str | None = None,
    remittance: str = "",
    on: date = DAY + timedelta(days=5),
    account: str = "",
) -> Receipt:
    return Receipt(
        receipt_id="R1",
        amount=money(amount, "EUR"),
        value_date=on,
        source_id="S1",
        payer=Payer(customer_id=customer, account=account),
        remittance=remittance,
        reference=reference,
    )


def context(
    receipt: Receipt, index: MatchingIndex, config: MatchingConfig | None = None
) -> MatchContext:
    minor = int(receipt.amount.amount.scaleb(2))
    return MatchContext(
        receipt, index.customer_for(receipt.payer), "EUR", minor, config or MatchingConfig()
    )


def propose(rule: object, receipt: Receipt, items: list[OpenItem], **config: object):  # type: ignore[no-untyped-def]
    index = MatchingIndex.build(items)
    cfg = MatchingConfig(**config)  # type: ignore[arg-type]
    return rule.match(receipt, index, context(receipt, index, cfg))  # type: ignore[attr-defined]


# --- helpers ------------------------------------------------------------------------------------


def test_references_are_normalized_and_reduced_to_their_core() -> None:
    assert normalize_reference("inv-00 12/3") == "INV00123"
    assert reference_core("INV0012345") == "12345"
    assert reference_core("RF180012345") == "12345"
    assert reference_core("0012345") == "12345"


def test_remittance_tokens_join_creditor_references_and_prefixed_numbers() -> None:
    tokens = reference_tokens("Paid RF18 5390 0754 7034 and INV 0042, thanks")
    assert tokens[0] == "RF18539007547034"
    assert "INV0042" in tokens
    assert all(any(ch.isdigit() for ch in t) for t in tokens)


def test_remittance_tokens_are_bounded() -> None:
    assert len(reference_tokens(" ".join(f"A{i:04d}" for i in range(500)))) == 8


def test_similarity_counts_a_transposition_as_one_edit() -> None:
    assert similarity("INV-0012345", "INV0012354") == Decimal("0.9000")
    assert similarity("abc", "abc") == Decimal(1)
    assert similarity("", "") == Decimal(0)


# --- rules --------------------------------------------------------------------------------------


def test_structured_reference_matches_number_creditor_reference_or_alias() -> None:
    items = [an_item("INV-1", "100.00", reference="RF74000001"), an_item("INV-2", "50.00")]
    by_rf = propose(StructuredReferenceRule(), a_receipt("100.00", reference="rf74 0000 01"), items)
    assert by_rf.item_ids == ("INV-1",)
    assert by_rf.confidence == 1
    index = MatchingIndex.build(items, aliases={"pi_3N8x": "INV-2"})
    receipt = a_receipt("50.00", customer=None, reference="pi_3N8x")
    assert StructuredReferenceRule().match(receipt, index, context(receipt, index)).item_ids == (
        "INV-2",
    )


def test_structured_reference_reads_several_ids_from_remittance_oldest_first() -> None:
    items = [an_item("INV-1", "10.00", days=5), an_item("INV-2", "20.00", days=1)]
    found = propose(StructuredReferenceRule(), a_receipt("30.00", remittance="INV-1 INV-2"), items)
    assert found.item_ids == ("INV-2", "INV-1")
    assert found.confidence == Decimal("0.98")


def test_structured_reference_ignores_items_of_another_customer() -> None:
    items = [an_item("INV-1", "10.00", customer="C2")]
    assert propose(StructuredReferenceRule(), a_receipt("10.00", reference="INV-1"), items) is None


def test_exact_amount_needs_a_known_customer_and_a_unique_amount() -> None:
    items = [an_item("INV-1", "10.00"), an_item("INV-2", "20.00")]
    assert propose(ExactAmountRule(), a_receipt("20.00"), items).item_ids == ("INV-2",)
    assert propose(ExactAmountRule(), a_receipt("20.00", customer=None), items) is None
    twins = [an_item("INV-1", "20.00"), an_item("INV-2", "20.00", days=3)]
    weak = propose(ExactAmountRule(), a_receipt("20.00"), twins)
    assert weak.confidence < MatchingConfig().min_confidence


def test_payer_account_identifies_the_customer() -> None:
    items = [an_item("INV-1", "10.00")]
    index = MatchingIndex.build(items, payers=PayerDirectory(accounts={"DE89 3704": "C1"}))
    receipt = a_receipt("10.00", customer=None, account="de893704")
    assert ExactAmountRule().match(receipt, index, context(receipt, index)) is not None


def test_combination_finds_the_items_a_payment_adds_up_to() -> None:
    items = [
        an_item("INV-1", "10.00"),
        an_item("INV-2", "25.50", days=1),
        an_item("INV-3", "40.25", days=2),
    ]
    found = propose(CombinationRule(), a_receipt("50.25"), items)
    assert found.item_ids == ("INV-1", "INV-3")
    assert found.confidence == Decimal("0.90")
    assert propose(CombinationRule(), a_receipt("75.75"), items).item_ids == (
        "INV-1",
        "INV-2",
        "INV-3",
    )


def test_combination_is_bounded_and_ambiguity_is_only_suggested() -> None:
    items = [an_item(f"INV-{i}", "10.00", days=i) for i in range(5)]
    assert propose(CombinationRule(), a_receipt("20.00"), items).confidence < Decimal("0.8")
    assert propose(CombinationRule(), a_receipt("50.00"), items) is None  # five > four items
    limited = propose(CombinationRule(), a_receipt("30.00"), items, combination_candidates=2)
    assert limited is None


def test_discount_rule_honours_the_window() -> None:
    items = [an_item("INV-1", "100.00", discount="2.00")]
    assert propose(DiscountRule(), a_receipt("98.00"), items).item_ids == ("INV-1",)
    late = a_receipt("98.00", on=DAY + timedelta(days=11))
    assert propose(DiscountRule(), late, items) is None


def test_fuzzy_reference_forgives_typos_prefixes_and_zeros() -> None:
    items = [an_item("INV-0012345", "100.00"), an_item("INV-0099999", "100.00")]
    for text in ("INV-0012354", "0012345", "INV-12345", "INV 001234"):
        found = propose(FuzzyReferenceRule(), a_receipt("100.00", remittance=text), items)
        assert found is not None, text
        assert found.item_ids == ("INV-0012345",), text
        assert found.confidence >= Decimal("0.8")


def test_fuzzy_reference_needs_a_plausible_amount_and_the_threshold() -> None:
    items = [an_item("INV-0012345", "100.00")]
    assert (
        propose(FuzzyReferenceRule(), a_receipt("60.00", remittance="INV-0012354"), items) is None
    )
    strict = FuzzyReferenceRule(threshold=Decimal("0.95"))
    assert propose(strict, a_receipt("100.00", remittance="INV-0012354"), items) is None
    tolerant = propose(
        FuzzyReferenceRule(),
        a_receipt("99.50", remittance="INV-0012354"),
        items,
        tolerance=WriteOffTolerance(absolute=money("1.00", "EUR")),
    )
    assert tolerant is not None


def test_fuzzy_reference_without_payer_uses_lookups_not_the_customer() -> None:
    items = [an_item("INV-0012345", "100.00", customer="C7")]
    found = propose(
        FuzzyReferenceRule(), a_receipt("100.00", customer=None, remittance="12354"), items
    )
    assert found is not None
    assert found.item_ids == ("INV-0012345",)


def test_tolerance_requires_every_limit_set() -> None:
    both = WriteOffTolerance(absolute=money("1.00", "EUR"), percent=Decimal(1))
    assert both.allows(80, 10_000, "EUR")
    assert not both.allows(80, 5_000, "EUR")  # 1.6 %
    assert not both.allows(101, 100_000, "EUR")
    assert not WriteOffTolerance().allows(1, 100, "EUR")
    assert not both.allows(-1, 100, "EUR")


def test_index_tracks_settlements_and_refuses_overdraws() -> None:
    index = MatchingIndex.build([an_item("INV-1", "10.00"), an_item("INV-2", "10.00", days=1)])
    assert index.with_open_amount("C1", "EUR", 1000) == ("INV-1", "INV-2")
    index.settle("INV-1", 400)
    assert index.with_open_amount("C1", "EUR", 600) == ("INV-1",)
    assert index.with_open_amount("C1", "EUR", 1000) == ("INV-2",)
    with pytest.raises(InvalidInput):
        index.settle("INV-1", 601)
    index.settle("INV-1", 600)
    assert index.find_reference("INV1") == ()
    assert index.open_items_of("C1", "EUR") == ("INV-2",)


def test_index_refuses_duplicate_items_and_unknown_aliases() -> None:
    with pytest.raises(InvalidInput):
        MatchingIndex.build([an_item("INV-1", "1.00"), an_item("INV-1", "2.00")])
    with pytest.raises(InvalidInput):
        MatchingIndex.build([an_item("INV-1", "1.00")], aliases={"pi_1": "INV-9"})


def test_config_refuses_nonsense() -> None:
    with pytest.raises(InvalidInput):
        MatchingConfig(min_confidence=Decimal("1.5"))
    with pytest.raises(InvalidInput):
        MatchingConfig(combination_size=5)
    with pytest.raises(InvalidInput):
        WriteOffTolerance(percent=Decimal(-1))
