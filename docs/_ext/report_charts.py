"""The ``report-chart`` directive: a chart of ``o2c report html``, drawn when the site is built.

The books are a simulated business (``o2c simulate`` with a fixed seed), run once per build, so
the pictures on the reports page are what the command draws today, not screenshots that age.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx

from o2c.cli import charts
from o2c.cli.simulate import START, Simulation
from o2c.services import Services

DAYS = 240
CURRENCY = "EUR"


@cache
def _books() -> Services:
    simulation = Simulation(customers=40, days=DAYS, seed=7)
    simulation.run()
    return simulation.services


def render_chart(name: str) -> str:
    """The SVG of chart ``name`` (``aging``, ``dso`` or ``forecast``) for the simulated books."""
    reports = _books().reports
    as_of = START + timedelta(days=DAYS - 1)
    if name == "aging":
        return charts.aging_chart(reports.aging(as_of), CURRENCY)
    if name == "dso":
        return charts.dso_chart(reports.monthly_dso(CURRENCY, START, as_of), CURRENCY)
    if name == "forecast":
        return charts.forecast_chart(reports.predicted_cash(as_of, 13), CURRENCY, as_of)
    raise ValueError(name)


class ReportChart(Directive):
    """``report-chart NAME``: one of the charts of ``o2c report html``."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        if name not in {"aging", "dso", "forecast"}:
            raise self.error(f"no chart named {name!r}; known: aging, dso, forecast")
        return [nodes.raw("", render_chart(name), format="html")]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("report-chart", ReportChart)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
