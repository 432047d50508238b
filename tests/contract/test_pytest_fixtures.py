"""The pytest plugin for applications: found through its entry point, opt-in, and working."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

APPLICATION_TESTS = """
from datetime import timedelta

from o2c import OrderStatus


def test_an_order_through_the_fixtures(o2c_app, o2c_customer, o2c_order, o2c_clock):
    o2c_customer("C-1", credit_limit="1000")
    placed = o2c_order("C-1", ("WIDGET", 3, "12.50"))
    assert placed.order_id == "O-1"
    assert placed.status is OrderStatus.APPROVED

    before = o2c_clock.today()
    o2c_clock.advance(days=31)
    assert o2c_clock.today() - before == timedelta(days=31)


def test_each_test_gets_fresh_books(o2c_app, o2c_customer):
    o2c_customer("C-1")  # registered in the test above too: not the same store


def test_the_stock_can_be_overridden(o2c_app, o2c_customer, o2c_order):
    o2c_customer("C-1")
    placed = o2c_order("C-1", ("SPROCKET", 2, "5.00"))
    assert placed.shortfalls == ()
"""

CONFTEST = """
import pytest


@pytest.fixture
def o2c_stock():
    return {"WIDGET": 10, "SPROCKET": 2}
"""


def test_the_plugin_is_installed_under_its_entry_point() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("o2c") == "o2c.testing.fixtures"


def test_an_application_suite_uses_the_fixtures_without_importing_them(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_application=APPLICATION_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_the_plugin_can_be_switched_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_application=APPLICATION_TESTS)
    result = pytester.runpytest("-p", "no:o2c", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*fixture 'o2c_app' not found*"])


def test_loading_the_plugin_does_not_import_hypothesis() -> None:
    # Suites that never use o2c's fixtures pay for none of the contract kit.
    code = "import sys, o2c.testing.fixtures; print('hypothesis' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
