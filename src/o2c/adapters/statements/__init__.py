"""Bank statement readers: camt.052/053/054, MT940/MT942, BAI2 and CSV files into statements.

:func:`read_statements` reads a file in a named format, or tells the format by the file's first
bytes; :class:`StatementFiles` is the same as a :class:`~o2c.ports.statements.StatementSource`.
Reading camt files needs the ``bank`` extra (lxml).
"""

from __future__ import annotations

import re

import attrs

from o2c.domain.statements import BankStatement
from o2c.ports.errors import AdapterRejected
from o2c.ports.statements import Progress, StatementFormat, StatementLimits

__all__ = [
    "INSTALL_HINT",
    "MissingBankExtra",
    "StatementFiles",
    "detect_format",
    "read_statements",
]

INSTALL_HINT = "reading camt files needs the 'bank' extra; install it with: pip install 'o2c[bank]'"


@attrs.frozen
class MissingBankExtra(AdapterRejected):
    """lxml, which reads ISO 20022 XML safely, is not installed."""

    adapter: str = "statements"
    message: str = INSTALL_HINT
    code: str | None = "missing_extra"


def detect_format(path: str) -> StatementFormat:
    """The format of the file at ``path`` by its first bytes (CSV is never guessed)."""
    from o2c.adapters.statements._common import refuse  # noqa: PLC0415

    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError as error:
        refuse(path, "file", f"cannot be read ({error.strerror or error})")
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return StatementFormat.CAMT
    if re.match(rb"\d\d,", text):
        return StatementFormat.BAI2
    if b":20:" in head or b":61:" in head:
        return StatementFormat.MT940
    return refuse(path, "file", "is not camt XML, MT940 or BAI2 (name the format for a CSV file)")


def read_statements(
    path: str,
    file_format: StatementFormat = StatementFormat.AUTO,
    *,
    limits: StatementLimits | None = None,
    progress: Progress | None = None,
    csv_mapping: object | None = None,
    encoding: str = "utf-8",
) -> tuple[BankStatement, ...]:
    """Every statement in the file, or a refusal of the whole file.

    ``csv_mapping`` (a :class:`~o2c.adapters.statements.delimited.CsvMapping`) is needed for CSV;
    ``encoding`` is the text encoding of MT940 and BAI2 files (XML says its own).
    """
    from o2c.adapters.statements._common import check_size, refuse  # noqa: PLC0415

    check_size(path, limits or StatementLimits())
    chosen = detect_format(path) if file_format is StatementFormat.AUTO else file_format
    if chosen is StatementFormat.CAMT:
        from o2c.adapters.statements.camt import read_camt  # noqa: PLC0415

        return read_camt(path, limits=limits, progress=progress)
    if chosen is StatementFormat.MT940:
        from o2c.adapters.statements.mt940 import read_mt940  # noqa: PLC0415

        return read_mt940(path, limits=limits, progress=progress, encoding=encoding)
    if chosen is StatementFormat.BAI2:
        from o2c.adapters.statements.bai2 import read_bai2  # noqa: PLC0415

        return read_bai2(path, limits=limits, progress=progress, encoding=encoding)
    from o2c.adapters.statements.delimited import CsvMapping, read_csv  # noqa: PLC0415

    if not isinstance(csv_mapping, CsvMapping):
        refuse(path, "file", "a CSV file needs a CsvMapping that says which column holds what")
    return read_csv(path, csv_mapping, limits=limits, progress=progress)


@attrs.frozen
class StatementFiles:
    """The statement port over files on disk, in one format or told by their first bytes."""

    file_format: StatementFormat = StatementFormat.AUTO
    limits: StatementLimits = attrs.field(factory=StatementLimits)
    csv_mapping: object | None = None
    encoding: str = "utf-8"

    def read(self, path: str, *, progress: Progress | None = None) -> tuple[BankStatement, ...]:
        """Every statement in the file at ``path``, or a refusal of the whole file."""
        return read_statements(
            path,
            self.file_format,
            limits=self.limits,
            progress=progress,
            csv_mapping=self.csv_mapping,
            encoding=self.encoding,
        )
