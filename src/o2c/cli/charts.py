"""Charts of the receivables as SVG text: the aging, DSO over time and the cash forecast.

matplotlib draws them (the ``charts`` extra); it is the plotting library every Python user
already knows, renders SVG without a display or a browser, and its output embeds in a
self-contained HTML page. Each function takes report values and returns the SVG text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from o2c.domain.errors import O2CError
from o2c.domain.reporting import AgingReport, Period, PredictedCashWeek

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["INSTALL_HINT", "ChartsUnavailable", "aging_chart", "dso_chart", "forecast_chart"]

INSTALL_HINT = "charts need the 'charts' extra (matplotlib): pip install -e '.[charts]'"

_MOST_CUSTOMERS = 8
"""The aging chart stacks this many of the largest customers; the rest are one 'others' band."""


class ChartsUnavailable(O2CError):
    """matplotlib is not installed (the ``charts`` extra)."""


def _figure(width: float = 8.0, height: float = 3.6) -> Figure:
    try:
        from matplotlib.figure import Figure  # noqa: PLC0415  (the charts extra, only when asked)
    except ImportError as error:
        raise ChartsUnavailable(INSTALL_HINT) from error
    return Figure(figsize=(width, height), layout="constrained")


def _svg(figure: Figure) -> str:
    import matplotlib  # noqa: PLC0415  (the charts extra, present once a figure exists)

    out = io.StringIO()
    # A fixed hash salt and no date keep the SVG the same from run to run.
    with matplotlib.rc_context({"svg.hashsalt": "o2c"}):
        figure.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    # Only the <svg> element: the XML prolog and doctype have no place inside an HTML page.
    return text[text.index("<svg") :]


def aging_chart(aging: AgingReport, currency: str) -> str:
    """Open amounts per aging bucket, stacked by customer (the largest ones named)."""
    figure = _figure()
    axes = figure.subplots()
    rows = sorted(
        (r for r in aging.rows if r.currency == currency),
        key=lambda r: (-r.total.amount, r.customer_id or ""),
    )
    named, others = rows[:_MOST_CUSTOMERS], rows[_MOST_CUSTOMERS:]
    labels = list(aging.labels)
    bottoms = [0.0] * len(labels)
    bands: list[tuple[str, list[float]]] = [
        (r.customer_id or "?", [float(a.amount) for a in r.amounts]) for r in named
    ]
    if others:
        summed = [
            float(sum((r.amounts[i].amount for r in others), Decimal(0)))
            for i in range(len(labels))
        ]
        bands.append((f"{len(others)} others", summed))
    for name, values in bands:
        axes.bar(labels, values, bottom=bottoms, label=name)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.set_title(f"Receivables aging as of {aging.as_of.isoformat()}")
    axes.set_ylabel(currency)
    axes.set_xlabel("days past due")
    if bands:
        axes.legend(fontsize="small", ncols=2)
    axes.grid(axis="y", alpha=0.3)
    return _svg(figure)


def dso_chart(months: Sequence[tuple[Period, Decimal | None]], currency: str) -> str:
    """DSO per calendar month, as a line (months without sales are left as gaps)."""
    figure = _figure()
    axes = figure.subplots()
    labels = [f"{period.start:%Y-%m}" for period, _ in months]
    values = [float("nan") if value is None else float(value) for _, value in months]
    axes.plot(labels, values, marker="o")
    axes.set_title(f"Days sales outstanding by month ({currency})")
    axes.set_ylabel("days")
    axes.grid(alpha=0.3)
    axes.tick_params(axis="x", labelrotation=45)
    return _svg(figure)


def forecast_chart(weeks: Sequence[PredictedCashWeek], currency: str, as_of: date) -> str:
    """Expected collections per week, and the running total with its early-late band."""
    figure = _figure()
    axes = figure.subplots()
    mine = [w for w in weeks if w.currency == currency]
    labels = [f"{w.week_of:%m-%d}" for w in mine]

    def running(values: Sequence[Decimal]) -> list[float]:
        out, so_far = [], Decimal(0)
        for value in values:
            so_far += value
            out.append(float(so_far))
        return out

    expected = running([w.expected.amount for w in mine])
    early = running([w.if_early.amount for w in mine])
    late = running([w.if_late.amount for w in mine])
    axes.bar(labels, [float(w.expected.amount) for w in mine], alpha=0.5, label="expected per week")
    axes.plot(labels, expected, marker="o", label="expected, running total")
    axes.fill_between(labels, late, early, alpha=0.2, label="if late ... if early")
    axes.set_title(f"Cash forecast from {as_of.isoformat()} ({currency})")
    axes.set_ylabel(currency)
    axes.set_xlabel("week of")
    axes.legend(fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    axes.tick_params(axis="x", labelrotation=45)
    return _svg(figure)
