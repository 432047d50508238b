"""Tax categories carried by order and invoice lines.

A category pairs a code (the UNCL 5305 duty/tax category codes used by EN 16931: ``S`` standard,
``Z`` zero rated, ``E`` exempt, ``AE`` reverse charge, ``K`` intra-community, ``G`` export, ``O``
out of scope) with a percentage rate. Which rate applies to which product is the caller's
knowledge; the domain only computes with it.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from o2c.domain.errors import InvalidInput

__all__ = ["TaxCategory"]

_CODES = frozenset({"S", "Z", "E", "AE", "K", "G", "O", "L", "M"})
_ZERO_RATED = frozenset({"Z", "E", "AE", "K", "G", "O"})


def _check_rate(instance: TaxCategory, attribute: attrs.Attribute[Decimal], rate: Decimal) -> None:
    if not rate.is_finite() or rate < 0 or rate >= 100:
        raise InvalidInput(
            field="tax rate", value=str(rate), reason="must be a Decimal in [0, 100)"
        )
    if instance.code in _ZERO_RATED and rate != 0:
        raise InvalidInput(
            field="tax rate", value=str(rate), reason=f"category {instance.code} is always 0 %"
        )


def _check_code(instance: TaxCategory, attribute: attrs.Attribute[str], code: str) -> None:
    if code not in _CODES:
        raise InvalidInput(
            field="tax category", value=code, reason=f"expected one of {sorted(_CODES)}"
        )


@attrs.frozen
class TaxCategory:
    """A tax category code with its rate in percent, e.g. ``TaxCategory("S", Decimal("19"))``."""

    code: str = attrs.field(validator=_check_code)
    rate: Decimal = attrs.field(validator=_check_rate)
    exemption_reason: str | None = None
    """Why no tax is charged (required by EN 16931 for E, AE, K, G and O)."""

    @classmethod
    def standard(cls, rate: str | Decimal) -> TaxCategory:
        """The standard-rated category at ``rate`` percent."""
        return cls("S", Decimal(rate))

    @classmethod
    def zero_rated(cls) -> TaxCategory:
        """Zero-rated supplies (category ``Z``)."""
        return cls("Z", Decimal(0))

    @classmethod
    def exempt(cls, reason: str) -> TaxCategory:
        """Exempt supplies (category ``E``) with the exemption reason."""
        return cls("E", Decimal(0), reason)

    @property
    def label(self) -> str:
        """``S 19%`` style label, unique per code and rate."""
        return f"{self.code} {self.rate.normalize():f}%"
