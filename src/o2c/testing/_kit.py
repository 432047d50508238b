"""What every contract class shares: the capability check, overridable fixtures and properties.

A contract test that needs an optional feature names it with :func:`requires`; the contract's
``capabilities`` fixture says whether the adapter has it. The check lives in one autouse fixture,
so a test is skipped for one reason only: the adapter declared that it lacks the feature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

__all__ = ["Contract", "override_me", "requires", "run_property"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_REQUIRES = "__o2c_requires__"

PROPERTY_EXAMPLES = 100
"""At most this many examples per property: adapters may do real I/O."""


def requires(*features: str) -> Callable[[F], F]:
    """Mark a contract test as needing ``features`` (attribute names of the capabilities record).

    The test is skipped, naming the feature, when the adapter's record says it lacks one of them.
    """

    def mark(test: F) -> F:
        setattr(test, _REQUIRES, (*getattr(test, _REQUIRES, ()), *features))
        return test

    return mark


def override_me(fixture: str, port: str, example: str) -> NoReturn:
    """Fail with a message saying which fixture the integrator's subclass must provide."""
    pytest.fail(
        f"override the {fixture!r} fixture in your subclass to build the {port} under test, "
        f"e.g. {example}",
        pytrace=False,
    )


def run_property(strategy: st.SearchStrategy[T], check: Callable[[T], None]) -> None:
    """Run ``check`` on examples of ``strategy`` with the active hypothesis profile.

    The property is built when the test runs, inside the test, so it uses the profile loaded by
    the integrator's configuration, gets no function-scoped fixtures (each example builds its own
    adapter from the factory) and has no deadline (adapters may do I/O).
    """
    active = settings.default
    examples = PROPERTY_EXAMPLES if active is None else min(active.max_examples, PROPERTY_EXAMPLES)

    @settings(
        max_examples=examples,
        deadline=None,
        report_multiple_bugs=False,
        # Explaining which parts of a failing example matter costs more than the rest together.
        phases=[phase for phase in Phase if phase is not Phase.explain],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def property_holds(example: T) -> None:
        check(example)

    property_holds()


class Contract:
    """Base of the contract classes: skips a test whose required features the adapter lacks."""

    @pytest.fixture(autouse=True)
    def _o2c_required_features(self, request: pytest.FixtureRequest, capabilities: Any) -> None:
        wanted: tuple[str, ...] = getattr(request.function, _REQUIRES, ())
        for feature in wanted:
            if not getattr(capabilities, feature):
                name = type(capabilities).__name__
                pytest.skip(f"the adapter declares {name}.{feature} = false")
