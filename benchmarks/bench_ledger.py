"""Benchmark: post a million journal entries to the SQL journal, then read the trial balance.

The journal is a new SQLite file (``--path`` keeps it; by default a temporary directory). The
entries are what the cycle posts: an invoice (receivable, revenue and tax), the receipt that pays
it (bank to unapplied cash) and its application (unapplied cash to the receivable), for 10,000
customers over a year, made by :class:`~o2c.domain.posting.PostingRules`. They are posted in
batches of ``--batch`` through :meth:`SqlLedger.post_batch`, each batch one transaction; building
the entries is not timed, posting is (wall clock and this process's CPU time). Then the trial
balance is read through the port, and checked to balance.

Targets: at least 20,000 entries/s on SQLite, the trial balance within 1 s.

    python benchmarks/bench_ledger.py [--entries 1000000] [--batch 10000] [--path FILE]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from o2c.adapters.sql import SqlLedger
from o2c.domain.ledger import JournalEntry
from o2c.domain.money import from_minor
from o2c.domain.posting import AmountLine, PostingRules

START = date(2026, 1, 1)
CUSTOMERS = 10_000
TARGET_RATE = 20_000
TARGET_TRIAL_SECONDS = 1.0


def journal(count: int, rules: PostingRules) -> Iterator[JournalEntry]:
    """``count`` entries: invoices, their receipts and the receipts' applications, in turn."""
    number = 0
    while True:
        on = START + timedelta(days=number % 365)
        customer = f"C-{number % CUSTOMERS:05d}"
        net = from_minor(1_000 + (number * 7919) % 500_000, "EUR")
        tax = from_minor(net.amount.scaleb(2).to_integral_value() * 19 // 100, "EUR")
        invoice, receipt = f"INV-{number:07d}", f"R-{number:07d}"
        gross = net + tax
        for entry in (
            rules.invoice_issued(invoice, customer, on, [AmountLine(net)], [AmountLine(tax)]),
            rules.receipt_recorded(receipt, on, gross, customer_id=customer),
            rules.receipt_applied(receipt, invoice, customer, on, gross),
        ):
            if count == 0:
                return
            count -= 1
            yield entry
        number += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--path", type=Path, default=None, help="keep the SQLite journal here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        path = args.path or Path(scratch) / "journal.db"
        if path.exists():
            raise SystemExit(f"{path} exists; the benchmark needs a new file")
        with SqlLedger(f"sqlite:///{path}") as ledger:
            entries = journal(args.entries, PostingRules())
            wall = cpu = 0.0
            posted = 0
            while True:
                batch = [entry for _, entry in zip(range(args.batch), entries, strict=False)]
                if not batch:
                    break
                wall_start, cpu_start = time.perf_counter(), time.process_time()
                result = ledger.post_batch(batch)
                wall += time.perf_counter() - wall_start
                cpu += time.process_time() - cpu_start
                posted += len(result.posted)
            trial_start = time.perf_counter()
            trial = ledger.trial_balance()
            trial_seconds = time.perf_counter() - trial_start
            assert trial.is_balanced
            assert posted == args.entries == len(ledger)
            size = path.stat().st_size

    wall_rate, cpu_rate = posted / wall, posted / cpu
    print(
        f"posted {posted:,} entries in batches of {args.batch:,}"
        f" to SQLite ({size / 2**20:,.0f} MiB)"
    )
    print(f"  wall: {wall:8.2f} s  {wall_rate:10,.0f} entries/s")
    print(f"  CPU:  {cpu:8.2f} s  {cpu_rate:10,.0f} entries/s")
    print(f"trial balance: {trial_seconds * 1000:,.1f} ms ({len(trial.rows)} rows, balanced)")
    met = wall_rate >= TARGET_RATE and trial_seconds <= TARGET_TRIAL_SECONDS
    print(
        f"targets (>= {TARGET_RATE:,} entries/s wall, trial balance <= {TARGET_TRIAL_SECONDS} s):"
        f" {'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
