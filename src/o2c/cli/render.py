"""Shared presentation for the command line: amounts as text, JSON-ready records, rich tables.

Everything that turns o2c values into what a person or a script reads lives here, so the
commands print amounts the same way (to the currency's minor unit, with the code) and emit
JSON with the same shapes (amounts as exact decimal strings, never floats).
"""

from __future__ import annotations

import json
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from o2c.domain.ledger import TrialBalance
from o2c.domain.lifecycle import Lifecycle
from o2c.domain.money import Money, decimals_of
from o2c.domain.reporting import AgingReport, Backtest
from o2c.domain.terms import PaymentSchedule
from o2c.formatting import format_amount

__all__ = [
    "WIDEST",
    "aging_table",
    "amount_text",
    "backtest_record",
    "backtest_table",
    "console",
    "dumps",
    "lifecycle_record",
    "lifecycle_table",
    "money_record",
    "plain",
    "schedule_record",
    "schedule_table",
    "table",
    "trial_balance_table",
]


WIDEST = 100
"""Tables never grow wider than this, however wide the terminal: wider ones are harder to read."""


def console(**options: Any) -> Console:
    """A console as wide as the terminal, up to :data:`WIDEST` columns.

    Without a terminal (output to a pipe or a file) rich assumes 80 columns unless ``COLUMNS``
    says otherwise, so scripted output is the same on every machine.
    """
    wide = Console(highlight=False, **options)
    if wide.width <= WIDEST:
        return wide
    return Console(highlight=False, width=WIDEST, **options)


def plain(value: Money) -> str:
    """The amount alone, to the currency's minor unit: ``1000.00``."""
    places = decimals_of(value.currency.code)
    return f"{value.amount:.{places}f}"


def amount_text(value: Money) -> str:
    """An amount for people: ``1,000.00 EUR``.

    The digits come from the one money formatter, :func:`o2c.formatting.format_amount`; the code
    follows them so that amounts line up in right-aligned columns.
    """
    return f"{format_amount(value, 'en')} {value.currency.code}"


def money_record(value: Money) -> dict[str, str]:
    """An amount for scripts: ``{"amount": "1000.00", "currency": "EUR"}``."""
    return {"amount": plain(value), "currency": value.currency.code}


def dumps(record: Any) -> str:
    """JSON text of a record built from dicts, lists, strings, numbers and booleans."""
    return json.dumps(record, indent=2, ensure_ascii=False)


def table(
    title: str | None, *columns: str, right: tuple[int, ...] = (), whole: tuple[int, ...] = ()
) -> Table:
    """A plain table with the house style; columns listed in ``right`` are right-aligned.

    The first column (an id), the right-aligned ones (amounts, counts) and those in ``whole``
    never wrap: in a narrow terminal the text columns wrap at word boundaries instead, so an id
    or an amount is never cut in two.
    """
    grid = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for index, column in enumerate(columns):
        aligned_right = index in right
        grid.add_column(
            column,
            justify="right" if aligned_right else "left",
            no_wrap=index == 0 or aligned_right or index in whole,
            overflow="fold",
        )
    return grid


# --- books ----------------------------------------------------------------------------------


def trial_balance_table(trial: TrialBalance, title: str | None = "Trial balance") -> Table:
    """Debits, credits and balance per account, with totals per currency."""
    grid = table(title, "account", "debit", "credit", "balance", right=(1, 2, 3))
    for row in trial.rows:
        grid.add_row(
            f"{row.account} {row.name}",
            amount_text(row.debit),
            amount_text(row.credit),
            amount_text(row.balance),
        )
    for currency in trial.currencies:
        debit, credit = trial.totals(currency)
        grid.add_section()
        grid.add_row(f"total {currency}", amount_text(debit), amount_text(credit), "", style="bold")
    return grid


def aging_table(aging: AgingReport) -> Table:
    """Open amounts per customer and aging bucket.

    The currency has its own column and the amounts are plain, so the buckets fit an 80-column
    terminal.
    """
    grid = table(
        f"Aging as of {aging.as_of.isoformat()}",
        "customer",
        "cur",
        *aging.labels,
        "total",
        right=tuple(range(2, len(aging.labels) + 3)),
    )
    for row in aging.rows:
        grid.add_row(
            row.customer_id or "",
            row.currency,
            *map(plain, row.amounts),
            plain(row.total),
        )
    for total in aging.totals:
        grid.add_section()
        grid.add_row(
            "total",
            total.currency,
            *map(plain, total.amounts),
            plain(total.total),
            style="bold",
        )
    return grid


def backtest_record(judged: Backtest | None) -> dict[str, Any] | None:
    """A prediction backtest as a JSON-ready record (``None`` when nothing could be judged)."""
    if judged is None:
        return None
    return {
        "cutoff": judged.cutoff.isoformat(),
        "items": judged.items,
        "model_mean_absolute_error_days": f"{judged.model_error_days:f}",
        "naive_mean_absolute_error_days": f"{judged.naive_error_days:f}",
        "interval_coverage_percent": f"{judged.coverage_percent:f}",
    }


def backtest_table(judged: Backtest | None) -> Table:
    """A prediction backtest for people."""
    grid = table("Payment-date predictions", "measure", "value", right=(1,))
    if judged is None:
        grid.add_row("items judged", "0 (none open at the cutoff and paid since)")
        return grid
    grid.add_row("predicted as of", judged.cutoff.isoformat())
    grid.add_row("items judged", str(judged.items))
    grid.add_row("mean error, model", f"{judged.model_error_days:f} days")
    grid.add_row("mean error, due date", f"{judged.naive_error_days:f} days")
    grid.add_row("inside the 10-90 % interval", f"{judged.coverage_percent:f} %")
    return grid


# --- payment schedules ------------------------------------------------------------------------


def schedule_record(schedule: PaymentSchedule) -> dict[str, Any]:
    """A payment schedule as a JSON-ready record."""
    return {
        "terms": schedule.terms_code,
        "invoice_date": schedule.invoice_date.isoformat(),
        "total": money_record(schedule.total),
        "instalments": [
            {
                "number": number,
                "due_date": part.due_date.isoformat(),
                "amount": money_record(part.amount),
                "prepayment": part.prepayment,
                "on_delivery": part.on_delivery,
                "discounts": [
                    {
                        "percent": f"{tier.percent.normalize():f}",
                        "deadline": tier.deadline.isoformat(),
                        "discount": money_record(tier.amount),
                        "pay": money_record(part.amount - tier.amount),
                    }
                    for tier in part.discounts
                ],
            }
            for number, part in enumerate(schedule.instalments, start=1)
        ],
    }


def schedule_table(schedule: PaymentSchedule, title: str | None = None) -> Table:
    """A payment schedule as a table: one row per instalment, then one per discount tier."""
    grid = table(title, "#", "due", "amount", "early payment", "discount", "pay", right=(2, 4, 5))
    for number, part in enumerate(schedule.instalments, start=1):
        note = "in advance" if part.prepayment else "on delivery" if part.on_delivery else ""
        grid.add_row(str(number), part.due_date.isoformat(), amount_text(part.amount), note, "", "")
        for tier in part.discounts:
            grid.add_row(
                "",
                "",
                "",
                f"{tier.percent.normalize():f}% until {tier.deadline.isoformat()}",
                amount_text(tier.amount),
                amount_text(part.amount - tier.amount),
            )
    return grid


# --- lifecycles -------------------------------------------------------------------------------


def _label(member: Any) -> str:
    value = member.value
    return value if isinstance(value, str) else str(member.name).lower()


def lifecycle_record(lifecycle: Lifecycle[Any, Any]) -> dict[str, Any]:
    """A lifecycle as a JSON-ready record: states, initial and final states, transitions."""
    return {
        "entity": lifecycle.entity,
        "initial": _label(lifecycle.initial),
        "states": [_label(state) for state in lifecycle.states],
        "final_states": [_label(state) for state in lifecycle.final_states],
        "transitions": [
            {
                "from": _label(move.source),
                "trigger": _label(move.trigger),
                "to": _label(move.target),
            }
            for move in lifecycle.transitions
        ],
    }


def lifecycle_table(name: str, lifecycle: Lifecycle[Any, Any]) -> Table:
    """A lifecycle's transition table, titled with its name, initial and final states."""
    finals = ", ".join(_label(state) for state in lifecycle.final_states) or "none"
    title = f"{name}: starts in {_label(lifecycle.initial)}; final: {finals}"
    grid = table(title, "state", "trigger", "next state")
    for move in lifecycle.transitions:
        grid.add_row(_label(move.source), _label(move.trigger), _label(move.target))
    return grid
