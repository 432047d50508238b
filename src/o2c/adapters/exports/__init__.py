"""Exports of the journal that other tools read, chosen by name.

* ``beancount``: :class:`BeancountExport`, a Beancount file that ``bean-check`` accepts;
* ``csv``: :class:`CsvJournalExport`, journal lines in a documented CSV layout, which
  :func:`read_csv_journal` reads back into journal entries.

:func:`exporter` gives the exporter registered under a name; :func:`register_exporter` adds one.
Every exporter satisfies :class:`~o2c.ports.ledger.JournalExporter`: a ``name``, a file
``suffix`` and ``write(entries, out, *, chart, opening, opening_date)`` returning the number of
entries written.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from o2c.adapters.exports.beancount import BeancountExport, beancount_account
from o2c.adapters.exports.csv_journal import (
    COLUMNS,
    CsvJournalExport,
    JournalFileInvalid,
    read_csv_journal,
)
from o2c.domain.errors import O2CError
from o2c.ports.ledger import JournalExporter

__all__ = [
    "COLUMNS",
    "BeancountExport",
    "CsvJournalExport",
    "JournalExporter",
    "JournalFileInvalid",
    "UnknownExportFormat",
    "beancount_account",
    "export_formats",
    "exporter",
    "read_csv_journal",
    "register_exporter",
]


@attrs.frozen
class UnknownExportFormat(O2CError):
    """No exporter is registered under ``name``."""

    name: str
    known: tuple[str, ...]

    def __str__(self) -> str:
        return f"no export format {self.name!r}; known: {', '.join(self.known)}"


_EXPORTERS: dict[str, Callable[[], JournalExporter]] = {
    "beancount": BeancountExport,
    "csv": CsvJournalExport,
}


def export_formats() -> tuple[str, ...]:
    """The names exporters are registered under, sorted."""
    return tuple(sorted(_EXPORTERS))


def exporter(name: str) -> JournalExporter:
    """A new exporter of the format ``name`` (:class:`UnknownExportFormat` if none)."""
    factory = _EXPORTERS.get(name)
    if factory is None:
        raise UnknownExportFormat(name, export_formats())
    return factory()


def register_exporter(name: str, factory: Callable[[], JournalExporter]) -> None:
    """Register ``factory`` under ``name``, replacing any exporter registered there."""
    _EXPORTERS[name] = factory
