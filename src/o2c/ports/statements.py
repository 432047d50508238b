"""The statement port: bank files in, :class:`~o2c.domain.statements.BankStatement` values out.

A :class:`StatementSource` reads one file (ISO 20022 camt.052/053/054, SWIFT MT940/MT942, BAI2,
a CSV export) and returns every statement in it, or refuses the whole file with
:class:`~o2c.domain.statements.UnreadableStatement` naming the file, the entry and what was
wrong. A refused file yields nothing, so nothing of it can be applied. The adapters live in
``o2c.adapters.statements``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import attrs

from o2c.domain.statements import BankStatement

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Progress",
    "StatementFormat",
    "StatementLimits",
    "StatementSource",
]

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
"""Files larger than this (100 MiB) are refused unless the limits say otherwise."""

Progress = Callable[[int, int], None]
"""Told ``(bytes read, bytes in all)`` while a file is read."""


class StatementFormat(enum.Enum):
    """The formats o2c reads."""

    AUTO = "auto"
    """Tell by the file's first bytes."""
    CAMT = "camt"
    """ISO 20022 camt.052, camt.053 or camt.054 (versions 02 to 08)."""
    MT940 = "mt940"
    """SWIFT MT940 statements and MT942 intraday reports."""
    BAI2 = "bai2"
    CSV = "csv"
    """A CSV export read with a declared column mapping."""


@attrs.frozen
class StatementLimits:
    """How much a reader accepts before it refuses a file."""

    max_bytes: int = DEFAULT_MAX_BYTES


@runtime_checkable
class StatementSource(Protocol):
    """Reads bank statement files into statements, or refuses them whole."""

    def read(self, path: str, *, progress: Progress | None = None) -> tuple[BankStatement, ...]:
        """Every statement in the file at ``path``, in file order.

        Raises :class:`~o2c.domain.statements.UnreadableStatement` for a file that is too large,
        hostile, broken or of the wrong kind.
        """
        ...
