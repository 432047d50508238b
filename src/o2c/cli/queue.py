"""``o2c cash queue``: the exception queue of the books kept in a SQL database.

Without a subcommand it lists the open entries (narrowed by ``--customer``, ``--currency`` and
``--older-than`` days); ``accept``, ``allocate``, ``on-account`` and ``refund`` decide one
receipt, each naming who decided (``--by``) and why (``--why``). A decision runs as a command of
the services under an idempotency key (``--key``; by default one made of the decision itself, so
running the same line twice decides once). Output fits 80 columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime

import click
from rich.console import Console

from o2c.cli import render
from o2c.domain.errors import O2CError
from o2c.domain.money import Money, parse_money
from o2c.domain.worklist import QueuedReceipt
from o2c.services import Services
from o2c.services.results import QueueUpdate

__all__ = ["QUEUE_WIDTH", "cash"]

QUEUE_WIDTH = 80
"""The queue prints at this width everywhere, so its output is the same in every terminal."""

_DB_HELP = "The books: a database URL, or the path of a SQLite file."


@contextmanager
def _services(value: str) -> Iterator[Services]:
    """The services over the books at ``value`` (which must exist, at this schema revision)."""
    from o2c.bootstrap import bootstrap  # noqa: PLC0415
    from o2c.cli.books import open_books  # noqa: PLC0415  (the sql extra, only when asked)

    with open_books(value, upgrade=False) as books:
        app = bootstrap(
            {"plugins": {"entry_points": False}},
            unit_of_work=books.store.unit_of_work,
            ledger=books.ledger,
        )
        yield app.services


def _console() -> Console:
    return Console(highlight=False, width=QUEUE_WIDTH)


@click.group()
def cash() -> None:
    """Cash application: the exception queue of receipts waiting for a person."""


@cash.group(invoke_without_command=True)
@click.option("--db", "value", required=True, metavar="PATH_OR_URL", help=_DB_HELP)
@click.option("--customer", default=None, help="Only this customer's receipts.")
@click.option("--currency", default=None, help="Only receipts in this currency (EUR...).")
@click.option(
    "--older-than", "older_than", type=click.IntRange(min=0), default=None, metavar="DAYS",
    help="Only money that arrived more than DAYS days ago.",
)  # fmt: skip
@click.option("--as-of", "as_of", default=None, metavar="DATE", help="Age as of this date.")
@click.pass_context
def queue(
    ctx: click.Context,
    *,
    value: str,
    customer: str | None,
    currency: str | None,
    older_than: int | None,
    as_of: str | None,
) -> None:
    """List the receipts waiting for a person, with the best suggestion for each.

    Decide one with a subcommand: accept, allocate, on-account or refund.
    """
    ctx.obj = value
    if ctx.invoked_subcommand is not None:
        return
    day = datetime.now().astimezone().date() if as_of is None else _date(as_of)
    with _services(value) as services:
        found = services.queue.entries(
            customer_id=customer,
            currency=currency.upper() if currency else None,
            older_than_days=older_than,
            as_of=day,
        )
    _print_entries(_console(), found, day)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        message = f"{text!r} is not a date (YYYY-MM-DD)"
        raise click.BadParameter(message, param_hint="'--as-of'") from None


def _print_entries(console: Console, entries: tuple[QueuedReceipt, ...], day: date) -> None:
    grid = render.table(
        f"Exception queue as of {day.isoformat()}: {len(entries)} open",
        "receipt",
        "age",
        "payer",
        "left",
        "best suggestion",
        right=(1, 3),
    )
    for entry in entries:
        payer = entry.customer_id or entry.payer.name or entry.payer.account or "?"
        best = entry.suggestions[0] if entry.suggestions else None
        grid.add_row(
            _cut(entry.receipt_id, 22),
            f"{entry.age(day)}d",
            _cut(payer, 12),
            render.amount_text(entry.unapplied),
            f"{_cut(best.item_id, 12)} {best.score:.2f}" if best else "(none)",
        )
    if not entries:
        grid.add_row("(none)", "", "", "", "")
    console.print(grid)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _money(text: str | None, option: str) -> Money | None:
    if text is None:
        return None
    try:
        return parse_money(text)
    except O2CError as error:  # parse_money's own errors say what is wrong with the text
        raise click.BadParameter(str(error), param_hint=f"'{option}'") from error


def _decide(
    ctx: click.Context, name: str, key: str | None, parts: tuple[object, ...],
    run: Callable[[Services, str], QueueUpdate],
) -> None:  # fmt: skip
    value: str = ctx.obj
    idempotency_key = key or ":".join(["cli", name, *(str(p) for p in parts)])
    with _services(value) as services:
        update = run(services, idempotency_key)
    state = update.state.value.replace("_", " ")
    waiting = "still queued" if update.still_queued else "out of the queue"
    left = render.amount_text(update.unapplied)
    click.echo(f"{update.receipt_id}: {state}, {left} left, {waiting}")


_BY = click.option("--by", required=True, help="Who decides (a user name).")
_WHY = click.option("--why", required=True, help="Why: kept with the decision.")
_KEY = click.option("--key", default=None, help="Idempotency key (default: made of the decision).")


@queue.command()
@click.argument("receipt_id")
@click.argument("item_id", required=False)
@_BY
@_WHY
@_KEY
@click.pass_context
def accept(
    ctx: click.Context, *, receipt_id: str, item_id: str | None, by: str, why: str, key: str | None
) -> None:
    """Apply a receipt to one of its suggestions (the best by default)."""
    _decide(
        ctx,
        "accept",
        key,
        (receipt_id, item_id, by, why),
        lambda s, k: s.queue.accept(receipt_id, item_id, by=by, why=why, idempotency_key=k),
    )


@queue.command()
@click.argument("receipt_id")
@click.argument("item_id")
@click.option("--amount", default=None, help="How much, e.g. '30.00 EUR' (default: all it can).")
@_BY
@_WHY
@_KEY
@click.pass_context
def allocate(
    ctx: click.Context,
    *,
    receipt_id: str,
    item_id: str,
    amount: str | None,
    by: str,
    why: str,
    key: str | None,
) -> None:
    """Apply a receipt by hand to any open item."""
    value = _money(amount, "--amount")
    _decide(
        ctx,
        "allocate",
        key,
        (receipt_id, item_id, amount, by, why),
        lambda s, k: s.queue.allocate(
            receipt_id, item_id, value, by=by, why=why, idempotency_key=k
        ),
    )


@queue.command("on-account")
@click.argument("receipt_id")
@click.option("--customer", default=None, help="Whose credit (default: the payer's customer).")
@_BY
@_WHY
@_KEY
@click.pass_context
def on_account(
    ctx: click.Context, *, receipt_id: str, customer: str | None, by: str, why: str, key: str | None
) -> None:
    """Keep a receipt's cash as a customer's credit."""
    _decide(
        ctx,
        "on-account",
        key,
        (receipt_id, customer, by, why),
        lambda s, k: s.queue.put_on_account(
            receipt_id, customer, by=by, why=why, idempotency_key=k
        ),
    )


@queue.command()
@click.argument("receipt_id")
@click.option("--amount", default=None, help="How much, e.g. '20.00 EUR' (default: all left).")
@_BY
@_WHY
@_KEY
@click.pass_context
def refund(
    ctx: click.Context, *, receipt_id: str, amount: str | None, by: str, why: str, key: str | None
) -> None:
    """Pay a receipt's cash back."""
    value = _money(amount, "--amount")
    _decide(
        ctx,
        "refund",
        key,
        (receipt_id, amount, by, why),
        lambda s, k: s.queue.refund(receipt_id, value, by=by, why=why, idempotency_key=k),
    )
