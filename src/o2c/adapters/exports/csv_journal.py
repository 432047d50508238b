"""The journal as CSV lines, one per posting, and read back into journal entries.

The layout (a header line, then a line per posting, the postings of an entry on consecutive
lines, in the entry's order):

===============  =================================================================================
column           content
===============  =================================================================================
``date``         the entry's date, ``YYYY-MM-DD``
``entry_id``     the entry's id (the same on every line of the entry)
``account``      the account code
``debit``        the amount when the posting is a debit (``119.00``), else empty
``credit``       the amount when the posting is a credit, else empty
``currency``     the ISO 4217 code
``document``     the document the posting concerns (an invoice number), or empty
``customer``     the customer the posting concerns (its party), or empty
``memo``         the posting's memo, or empty
``description``  the entry's description (repeated on every line of the entry)
``source``       the document or event the entry records
``metadata``     the entry's metadata as JSON, a list of ``[key, value]`` pairs
===============  =================================================================================

Amounts are plain decimals in the currency's precision, never rounded and never in exponent
form. Reading a file back gives the same entries, except that an empty ``document``,
``customer`` or ``memo`` always reads back as none.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TextIO

import attrs

from o2c.domain.errors import DomainError, O2CError
from o2c.domain.ledger import ChartOfAccounts, JournalEntry, Posting, Side, TrialBalance
from o2c.domain.money import money

__all__ = ["COLUMNS", "CsvJournalExport", "JournalFileInvalid", "read_csv_journal"]

COLUMNS = (
    "date",
    "entry_id",
    "account",
    "debit",
    "credit",
    "currency",
    "document",
    "customer",
    "memo",
    "description",
    "source",
    "metadata",
)
"""The columns of a CSV journal, in order."""


@attrs.frozen
class JournalFileInvalid(O2CError):
    """A journal file that cannot be read back: ``line`` (1 is the header) says where."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"journal file, line {self.line}: {self.reason}"


class CsvJournalExport:
    """Writes journal entries as CSV lines in the layout of :data:`COLUMNS`."""

    name = "csv"
    suffix = ".csv"

    def write(
        self,
        entries: Iterable[JournalEntry],
        out: TextIO,
        *,
        chart: ChartOfAccounts | None = None,
        opening: TrialBalance | None = None,
        opening_date: date | None = None,
    ) -> int:
        """Write ``entries`` to ``out`` (opened with ``newline=""``); return how many.

        ``chart``, ``opening`` and ``opening_date`` are accepted for the exporters' common
        signature; a CSV journal holds the entries only.
        """
        # CRLF line ends (RFC 4180): a field holding a lone CR or LF is then always quoted.
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        count = 0
        for entry in entries:
            metadata = json.dumps([list(pair) for pair in entry.metadata], ensure_ascii=False)
            for posting in entry.postings:
                amount = f"{posting.amount.amount:f}"
                debit = posting.side is Side.DEBIT
                writer.writerow(
                    (
                        entry.date.isoformat(),
                        entry.entry_id,
                        posting.account,
                        amount if debit else "",
                        "" if debit else amount,
                        posting.currency,
                        posting.document or "",
                        posting.party or "",
                        posting.memo or "",
                        entry.description,
                        entry.source,
                        metadata,
                    )
                )
            count += 1
        return count


def read_csv_journal(source: TextIO | Iterable[str]) -> Iterator[JournalEntry]:
    """The journal entries of a CSV journal, in the file's order.

    Raises :class:`JournalFileInvalid` (naming the line) for a header that is not
    :data:`COLUMNS`, a cell that cannot be read, lines of one entry that disagree on the entry's
    own fields, an entry whose lines are not consecutive, or an entry that does not balance.
    """
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise JournalFileInvalid(1, f"the header must be {','.join(COLUMNS)}")
    seen: set[str] = set()
    head: tuple[str, ...] | None = None
    first_line = 0
    postings: list[Posting] = []
    for row in reader:
        line = reader.line_num
        if len(row) != len(COLUMNS):
            raise JournalFileInvalid(line, f"{len(row)} cells, {len(COLUMNS)} expected")
        cells = dict(zip(COLUMNS, row, strict=True))
        this_head = tuple(cells[c] for c in ("entry_id", "date", "description", "source"))
        this_head += (cells["metadata"],)
        if head is None or this_head[0] != head[0]:
            if head is not None:
                yield _entry(head, postings, first_line)
            if this_head[0] in seen:
                raise JournalFileInvalid(line, f"entry {this_head[0]!r} appears on lines apart")
            seen.add(this_head[0])
            head, postings, first_line = this_head, [], line
        elif this_head != head:
            raise JournalFileInvalid(
                line, f"the lines of entry {head[0]!r} disagree on its date, text or metadata"
            )
        postings.append(_posting(cells, line))
    if head is not None:
        yield _entry(head, postings, first_line)


def _posting(cells: dict[str, str], line: int) -> Posting:
    debit, credit = cells["debit"].strip(), cells["credit"].strip()
    if bool(debit) == bool(credit):
        raise JournalFileInvalid(line, "a line needs a debit or a credit, not both")
    try:
        return Posting(
            cells["account"],
            Side.DEBIT if debit else Side.CREDIT,
            money(debit or credit, cells["currency"]),
            party=cells["customer"] or None,
            document=cells["document"] or None,
            memo=cells["memo"] or None,
        )
    except DomainError as error:
        raise JournalFileInvalid(line, error.describe()) from error


def _entry(head: tuple[str, ...], postings: list[Posting], line: int) -> JournalEntry:
    entry_id, day, description, source, metadata = head
    try:
        pairs = json.loads(metadata)
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
            for p in pairs
        ):
            raise ValueError("metadata must be a JSON list of [key, value] pairs")
        return JournalEntry(
            entry_id,
            date.fromisoformat(day),
            description,
            tuple(postings),
            source=source,
            metadata=[(key, value) for key, value in pairs],
        )
    except (ValueError, DomainError) as error:
        reason = error.describe() if isinstance(error, DomainError) else str(error)
        raise JournalFileInvalid(line, f"entry {entry_id!r}: {reason}") from error
