"""Every error the o2c domain raises, in one module.

All of them derive from :class:`DomainError`. They are frozen attrs exceptions whose fields say what
went wrong in machine-readable form; ``str(error)`` reads as a sentence for a person. A domain error
means the input was refused and nothing changed: domain operations return new values, so the state
the caller holds is untouched.

New errors are appended at the end of the module, grouped under a comment naming their area.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class DomainError(Exception):
    """Base of every error the domain raises: input refused, state unchanged."""

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """A sentence for a person; subclasses say what was refused and why."""
        return self.__class__.__name__


@attrs.frozen
class InvalidInput(DomainError):
    """A value that breaks a rule of the domain (a generic refusal with a field and a reason)."""

    field: str
    value: str
    reason: str

    def describe(self) -> str:
        return f"invalid {self.field} {self.value!r}: {self.reason}"


# --- money ------------------------------------------------------------------------------------


@attrs.frozen
class InvalidAmount(DomainError):
    """An amount that is not a finite exact number (a float, NaN, text that is no number)."""

    value: str
    reason: str

    def describe(self) -> str:
        return f"invalid amount {self.value}: {self.reason}"


@attrs.frozen
class UnknownCurrency(DomainError):
    """A currency code that is not in ISO 4217."""

    code: str

    def describe(self) -> str:
        return f"unknown currency {self.code!r}"


@attrs.frozen
class CurrencyMismatch(DomainError):
    """Two amounts of different currencies met where one currency is required."""

    expected: str
    actual: str

    def describe(self) -> str:
        return f"currency mismatch: expected {self.expected}, got {self.actual}"


@attrs.frozen
class ExcessPrecision(DomainError):
    """An amount with more decimals than allowed (the currency's minor unit, or a unit price's)."""

    amount: str
    currency: str
    allowed_decimals: int

    def describe(self) -> str:
        return f"{self.amount} {self.currency} has more than {self.allowed_decimals} decimal places"


# --- lifecycles -------------------------------------------------------------------------------


@attrs.frozen
class IllegalTransition(DomainError):
    """A trigger that the entity's lifecycle does not allow in its current state."""

    entity: str
    entity_id: str | None
    state: str
    trigger: str
    allowed: tuple[str, ...]

    def describe(self) -> str:
        who = f"{self.entity} {self.entity_id}" if self.entity_id else self.entity
        allowed = ", ".join(self.allowed) if self.allowed else "nothing (final state)"
        return f"{who} cannot {self.trigger!r} while {self.state!r}; allowed: {allowed}"


# --- receivables ------------------------------------------------------------------------------


@attrs.frozen
class OverAllocation(DomainError):
    """More money allocated to an open item than it has open (or reopened beyond its original)."""

    item_id: str
    open: str
    requested: str

    def describe(self) -> str:
        return f"cannot allocate {self.requested} to {self.item_id}: only {self.open} can take it"
