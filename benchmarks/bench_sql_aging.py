"""Benchmark: open items and aging over a book of a million stored open items.

The book holds ``--items`` open charges (default 1,000,000) of 10,000 customers, in EUR and USD,
some paid in part, some in two instalments, dated over the last 200 days. They are stored through
the store's own API (``charges.add``) in units of work of 50,000 items; that set-up is not timed.
The timed part goes through the port: ``open_items.open_of(customer, currency)`` for a few
customers, then ``open_items.aging(as_of)`` over the whole book.

Each timed part runs in a process of its own that opens the stored book afresh, so the peak
memory printed (``ru_maxrss`` of that process) is what reading costs, not loading. The in-memory
store is the baseline, on a smaller book (``--memory-items``), loaded and timed in its own
process (its peak includes the book it holds). PostgreSQL runs in a throwaway database on
``--postgres`` (dropped at the end) and is skipped with a message when no server answers.
``--keep FILE`` keeps the SQLite book in FILE and reuses it when it already holds the items.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench_sql_cycle import MAINTENANCE_URL, throwaway_postgres

from o2c.adapters.memory.persistence import MemoryStore
from o2c.adapters.sql import SqlStore
from o2c.domain.money import from_minor
from o2c.domain.receivables import Instalment, ItemKind, OpenItem
from o2c.ports.persistence import UnitOfWork

AS_OF = date(2026, 3, 2)
CUSTOMERS = 10_000
BATCH = 50_000
SAMPLED_CUSTOMERS = 5
TARGET_SECONDS = 2.0
TARGET_BYTES = 1024**3


def items(count: int, seed: int = 11) -> Iterator[OpenItem]:
    """``count`` open charges, reproducibly."""
    rng = random.Random(seed)
    for number in range(count):
        currency = "EUR" if rng.random() < 0.8 else "USD"
        dated = AS_OF - timedelta(days=rng.randint(0, 200))
        first = rng.randint(100, 500_000)
        parts = [Instalment.unpaid(dated + timedelta(days=30), from_minor(first, currency))]
        if rng.random() < 0.3:
            second = rng.randint(100, 500_000)
            parts.append(
                Instalment.unpaid(dated + timedelta(days=60), from_minor(second, currency))
            )
        item = OpenItem(
            f"DN-{number:08d}",
            f"C-{rng.randrange(CUSTOMERS):05d}",
            dated,
            tuple(parts),
            kind=ItemKind.CHARGE,
        )
        if rng.random() < 0.2:
            item = item.apply(from_minor(rng.randint(1, first - 1), currency))
        yield item


def load(unit_of_work: Callable[[], UnitOfWork], count: int) -> float:
    """Store ``count`` items in units of work of :data:`BATCH`; the seconds it took."""
    started = time.perf_counter()
    batch: list[OpenItem] = []

    def flush() -> None:
        with unit_of_work() as work:
            for item in batch:
                work.charges.add(item.item_id, item)
            work.commit()
        batch.clear()

    for item in items(count):
        batch.append(item)
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()
    return time.perf_counter() - started


def stored(unit_of_work: Callable[[], UnitOfWork]) -> int:
    with unit_of_work() as work:
        return len(work.charges)


def read(unit_of_work: Callable[[], UnitOfWork]) -> dict[str, float]:
    """Time the named queries through the port."""
    customers = [f"C-{n * 997 % CUSTOMERS:05d}" for n in range(SAMPLED_CUSTOMERS)]
    with unit_of_work() as work:
        started = time.perf_counter()
        found = sum(len(work.open_items.open_of(c, "EUR")) for c in customers)
        open_of = (time.perf_counter() - started) / len(customers)
        started = time.perf_counter()
        cpu_started = time.process_time()
        report = work.open_items.aging(AS_OF)
        aging = time.perf_counter() - started
        aging_cpu = time.process_time() - cpu_started
    return {
        "open_of": open_of,
        "open_of_items": found / len(customers),
        "aging": aging,
        "aging_cpu": aging_cpu,
        "aged": float(sum(row.items for row in report.totals)),
        "peak": float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024),
    }


def _read_sql(url: str, results: Any) -> None:
    with SqlStore(url) as store:
        results.put(read(store.unit_of_work))


def _read_memory(count: int, results: Any) -> None:
    store = MemoryStore()
    load(store.unit_of_work, count)
    results.put(read(store.unit_of_work))


def in_process(target: Callable[..., None], *args: object) -> dict[str, float]:
    """Run ``target(*args, results)`` in a fresh process and return what it put."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=target, args=(*args, results))
    process.start()
    figures: dict[str, float] = results.get()
    process.join()
    return figures


def report(name: str, count: int, figures: dict[str, float]) -> None:
    peak = figures["peak"]
    met = figures["aging"] <= TARGET_SECONDS and peak <= TARGET_BYTES
    print(f"{name} ({count:,} items)")
    print(
        f"  open_of (one customer)  {figures['open_of'] * 1000:>9.1f} ms"
        f"   ({figures['open_of_items']:.0f} items each)"
    )
    print(
        f"  aging (whole book)      {figures['aging']:>9.2f} s wall"
        f" {figures['aging_cpu']:>6.2f} s CPU   ({figures['aged']:,.0f} items aged)"
    )
    print(
        f"  peak memory (maxrss)    {peak / 1024**2:>9.0f} MiB"
        f"   (target <= {TARGET_SECONDS:.0f} s and <= 1 GiB: {'met' if met else 'MISSED'})"
    )


def sql_book(url: str, count: int) -> None:
    with SqlStore(url, upgrade=True) as store:
        have = stored(store.unit_of_work)
        if have == count:
            print(f"  reusing the {count:,} stored items")
            return
        if have:
            raise SystemExit(f"the book holds {have:,} items, not {count:,}: use another --keep")
        seconds = load(store.unit_of_work, count)
        print(f"  stored {count:,} items in {seconds:.0f} s ({count / seconds:,.0f} items/s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="open items to store")
    parser.add_argument("--memory-items", type=int, default=100_000, help="in-memory baseline")
    parser.add_argument("--keep", type=Path, help="SQLite file to keep (and reuse) the book in")
    parser.add_argument("--postgres", default=MAINTENANCE_URL, help="maintenance database URL")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args(argv)
    count = args.items
    report("memory (baseline)", args.memory_items, in_process(_read_memory, args.memory_items))
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder, "books.sqlite")
        print(f"SQLite file: loading {count:,} items")
        sql_book(str(path), count)
        report("SQLite file", count, in_process(_read_sql, str(path)))
    if args.no_postgres:
        return 0
    with throwaway_postgres(args.postgres) as url:
        if url is not None:
            print(f"PostgreSQL: loading {count:,} items")
            sql_book(url, count)
            report("PostgreSQL", count, in_process(_read_sql, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
