"""``o2c outbox``: the events and notifications waiting for delivery, and a delivery run.

Both subcommands build the application from ``--config`` (a TOML file naming the store, the
notifier and the relay), or keep the books of ``--db`` with the built-in setup otherwise. A
delivery run that leaves failed messages behind exits with status 1, so a scheduler notices.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from o2c.cli import render

if TYPE_CHECKING:
    import o2c
    from o2c.ports.outbox import OutboxBacklog

__all__ = ["outbox"]

_CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML configuration file (the store, notifier and relay to use).",
)
_DB = click.option(
    "--db", "db", metavar="PATH_OR_URL", help="Keep the books of this database (sql persistence)."
)


def _app(config_path: Path | None, db: str | None) -> o2c.App:
    import o2c  # noqa: PLC0415  (the composition root is loaded only by commands that need it)
    from o2c.config import Config  # noqa: PLC0415

    if config_path is not None and db is not None:
        raise click.UsageError("give --config or --db, not both")
    if db is None:
        return o2c.bootstrap(config_path)
    return o2c.bootstrap(
        Config.from_mapping({"adapters": {"persistence": {"use": "sql", "options": {"url": db}}}})
    )


def _record(backlog: OutboxBacklog) -> dict[str, Any]:
    return {
        "count": backlog.count,
        "failing": backlog.failing,
        "oldest_id": backlog.oldest_id,
        "oldest_at": None if backlog.oldest_at is None else backlog.oldest_at.isoformat(),
    }


@click.group()
def outbox() -> None:
    """The events and notifications committed but not delivered yet."""


@outbox.command("status")
@_CONFIG
@_DB
@click.option("--json", "as_json", is_flag=True, help="Print the backlog as JSON.")
def status(config_path: Path | None, db: str | None, as_json: bool) -> None:
    """Show how many events and notifications wait, how many failed before, and the oldest."""
    with _app(config_path, db) as app:
        status = app.services.outbox.backlog()
    if as_json:
        click.echo(
            render.dumps(
                {"events": _record(status.events), "notifications": _record(status.notifications)}
            )
        )
        return
    grid = render.table("outbox", "messages", "waiting", "failed before", "oldest", right=(1, 2))
    for name, backlog in (("events", status.events), ("notifications", status.notifications)):
        oldest = (
            ""
            if backlog.oldest_at is None
            else f"{backlog.oldest_id} ({backlog.oldest_at.isoformat()})"
        )
        grid.add_row(name, str(backlog.count), str(backlog.failing), oldest)
    Console(highlight=False).print(grid)


@outbox.command("deliver")
@_CONFIG
@_DB
@click.option("--now", "now", is_flag=True, help="Try the messages still in their backoff too.")
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="Read at most this many of each outbox."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def deliver(
    config_path: Path | None, db: str | None, now: bool, limit: int | None, as_json: bool
) -> None:
    """Deliver what waits: notifications to the notifier, events to the relay and the plugins."""
    with _app(config_path, db) as app:
        report = app.services.outbox.deliver(include_waiting=now, limit=limit)
    if as_json:
        click.echo(
            render.dumps(
                {
                    "events_delivered": list(report.events_delivered),
                    "notifications_delivered": list(report.notifications_delivered),
                    "failed": list(report.failed),
                    "waiting": report.waiting,
                }
            )
        )
    else:
        click.echo(
            f"delivered {len(report.events_delivered)} events and "
            f"{len(report.notifications_delivered)} notifications; "
            f"{len(report.failed)} failed; {report.waiting} waiting"
        )
    if report.failed:
        raise SystemExit(1)
