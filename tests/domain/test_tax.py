"""Tax categories."""

from __future__ import annotations

from decimal import Decimal

import pytest

from o2c.domain.errors import InvalidInput
from o2c.domain.tax import TaxCategory


def test_standard_and_zero_rated_categories() -> None:
    assert TaxCategory.standard("19").label == "S 19%"
    assert TaxCategory.standard("7.50").label == "S 7.5%"
    assert TaxCategory.zero_rated().rate == 0
    assert TaxCategory.exempt("medical services").exemption_reason == "medical services"


@pytest.mark.parametrize(
    ("code", "rate"), [("X", "19"), ("S", "-1"), ("S", "100"), ("E", "5"), ("S", "NaN")]
)
def test_bad_categories_are_refused(code: str, rate: str) -> None:
    with pytest.raises(InvalidInput):
        TaxCategory(code, Decimal(rate))
