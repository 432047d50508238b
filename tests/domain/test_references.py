"""ISO 11649 creditor references, payer accounts, and what matching makes of a broken reference."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.cash import apply_cash
from o2c.domain.customers import Customer
from o2c.domain.errors import InvalidInput
from o2c.domain.matching import FuzzyReferenceRule, is_broken_creditor_reference
from o2c.domain.money import money
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.receivables import Instalment, OpenItem
from o2c.domain.references import (
    creditor_reference,
    format_creditor_reference,
    is_creditor_reference,
    is_iban,
    normalise_account,
    normalise_payer_name,
    reference_body,
)

DAY = date(2026, 3, 2)

numbers = st.from_regex(r"\A[A-Z]{0,4}[-/ ]?[0-9]{1,12}(-[A-Z0-9]{1,3})?\Z")
"""Document numbers as businesses write them: a prefix, a separator, digits, a suffix."""


def mutated(reference: str, position: int, digit: int) -> str:
    """``reference`` with one of its check digits replaced by another digit."""
    index = 2 + position
    old = int(reference[index])
    new = (old + 1 + digit % 9) % 10
    return reference[:index] + str(new) + reference[index + 1 :]


def test_known_references() -> None:
    assert creditor_reference("INV-000042") == "RF29INV000042"
    assert is_creditor_reference("RF18 5390 0754 7034")  # the standard's own example
    assert not is_creditor_reference("RF19 5390 0754 7034")
    assert format_creditor_reference("RF18539007547034") == "RF18 5390 0754 7034"
    for bad in ("", "RF", "RF18", "XX18539007547034", "RF1A5390", "RF18 539!", "RF18" + "1" * 22):
        assert not is_creditor_reference(bad), bad


@given(numbers)
def test_a_reference_is_always_valid_and_round_trips(number: str) -> None:
    reference = creditor_reference(number)
    assert is_creditor_reference(reference)
    assert reference == creditor_reference(number)  # deterministic
    assert reference[4:] == reference_body(number)  # the number reads back from it
    assert len(reference) <= 25
    printed = format_creditor_reference(reference)
    assert is_creditor_reference(printed)
    assert printed.replace(" ", "") == reference
    assert is_creditor_reference(reference.lower())


@given(numbers, numbers)
def test_numbers_that_differ_get_different_references(first: str, second: str) -> None:
    if reference_body(first) != reference_body(second):
        assert creditor_reference(first) != creditor_reference(second)


@given(numbers, st.integers(0, 1), st.integers(0, 8))
def test_a_mutated_check_digit_never_validates(number: str, position: int, digit: int) -> None:
    broken = mutated(creditor_reference(number), position, digit)
    assert not is_creditor_reference(broken)
    assert is_broken_creditor_reference(broken)


@given(numbers)
def test_the_references_agree_with_python_stdnum(number: str) -> None:
    iso11649 = pytest.importorskip("stdnum.iso11649")
    reference = creditor_reference(number)
    assert iso11649.is_valid(reference)
    assert iso11649.validate(format_creditor_reference(reference)) == reference


def test_a_number_that_cannot_make_a_reference_is_refused() -> None:
    assert reference_body("Ä-1") == "1"  # only A-Z and 0-9 go into a reference
    for number in ("", "---", "Ä", "X" * 22):
        with pytest.raises(InvalidInput):
            creditor_reference(number)


# --- payer accounts ------------------------------------------------------------------------------


def test_accounts_compare_without_spaces_and_case() -> None:
    assert normalise_account("DE02 1203 0000 0000 2020 51") == "DE02120300000000202051"
    assert normalise_account(" de02\t1203 0000 0000 2020 51 ") == "DE02120300000000202051"
    customer = Customer(
        "C-1", "C", "EUR", payer_accounts=frozenset({"de02 1203 0000 0000 2020 51"})
    )
    assert customer.payer_accounts == frozenset({"DE02120300000000202051"})
    assert customer.pays_from("DE02120300000000202051")
    assert normalise_payer_name(" Acme   trading ") == "ACME TRADING"


@pytest.mark.parametrize(
    ("account", "valid"),
    [
        ("DE02 1203 0000 0000 2020 51", True),
        ("DE02120300000000202051", True),
        ("GB33BUKB20201555555555", True),
        ("DE03120300000000202051", False),
        ("DE00SIM0000000001", False),
        ("12-345-678", False),
        ("", False),
    ],
)
def test_ibans_are_checked(account: str, valid: bool) -> None:
    assert is_iban(account) is valid


@given(st.sampled_from(("DE02120300000000202051", "GB33BUKB20201555555555")), st.data())
def test_the_iban_check_is_implied_by_python_stdnums(account: str, data: st.DataObject) -> None:
    iban = pytest.importorskip("stdnum.iban")
    position = data.draw(st.integers(4, len(account) - 1))
    digit = data.draw(st.sampled_from("0123456789"))
    changed = account[:position] + digit + account[position + 1 :]
    # o2c checks the form and MOD 97-10; stdnum checks each country's layout besides, so what
    # stdnum accepts o2c accepts, and what fails o2c's check fails stdnum's.
    if iban.is_valid(changed):
        assert is_iban(changed)
    if not is_iban(changed):
        assert not iban.is_valid(changed)
    assert is_iban(account)
    assert iban.is_valid(account)


# --- matching ------------------------------------------------------------------------------------


def an_item(number: str, amount: str) -> OpenItem:
    return OpenItem(
        number,
        "C-1",
        DAY,
        (Instalment.unpaid(DAY, money(amount, "EUR")),),
        reference=creditor_reference(number),
    )


@given(st.integers(100, 10**8), st.integers(0, 1), st.integers(0, 8))
def test_a_mutated_check_digit_is_never_an_exact_match(
    serial: int, position: int, digit: int
) -> None:
    number = f"INV-{serial:09d}"
    item = an_item(number, "100.00")
    broken = mutated(item.reference or "", position, digit)
    receipt = Receipt("R-1", money("100.00", "EUR"), DAY, "S-1", Payer(), reference=broken)
    done = apply_cash(receipt, [item], on=DAY)
    assert all(a.rule != "structured_reference" for a in done.allocations)
    assert done.allocations == ()  # the fuzzy candidate stays below the confidence to apply
    assert done.exception is not None
    assert done.exception.suggestions[0].item_id == number
    good = Receipt("R-2", money("100.00", "EUR"), DAY, "S-2", Payer(), reference=item.reference)
    [allocation] = apply_cash(good, [item], on=DAY).allocations
    assert allocation.rule == "structured_reference"


def test_a_broken_reference_is_a_weak_fuzzy_candidate_with_a_reason() -> None:
    item = an_item("INV-000123456", "100.00")
    broken = mutated(item.reference or "", 0, 0)
    receipt = Receipt("R-1", money("100.00", "EUR"), DAY, "S-1", Payer(), reference=broken)
    done = apply_cash(receipt, [item], on=DAY)
    assert done.exception is not None
    [suggestion] = done.exception.suggestions
    assert suggestion.score == FuzzyReferenceRule().broken_check_cap
    assert "check digits do not hold" in suggestion.reason
    assert Decimal(suggestion.score) < Decimal("0.80")
