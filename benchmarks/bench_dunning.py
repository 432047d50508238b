"""Benchmark: a dunning run over a large ledger of open items.

Builds a deterministic ledger (most items not yet due, some within the reminder window, some
overdue at every level, a few disputed or paid in instalments), runs the dunning once, then runs it
again on the same date with the returned book to show that nothing new is raised. Building the
ledger is timed separately and reported as the baseline the run is compared with.

Peak memory is the process's maximum resident set size (``resource.getrusage``), which includes
the ledger itself. Times are wall-clock with the CPU time of the process beside them (on a busy
machine the CPU time is the steadier figure); the rate uses the wall-clock time.

The built ledger is moved out of the garbage collector's view (``gc.freeze()``), as a service
holding a large, long-lived ledger in memory would do: otherwise every full collection during the
run walks millions of open-item objects that cannot be garbage, and the run measures the collector
rather than the dunning.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

from o2c.domain.dunning import (
    DunningAction,
    DunningBook,
    DunningLevel,
    DunningPolicy,
    DunningRunResult,
    FeeTable,
    run_dunning,
)
from o2c.domain.money import money
from o2c.domain.receivables import Instalment, OpenItem

AS_OF = date(2026, 3, 31)
TARGET_ITEMS_PER_SECOND = 200_000
MEMORY_LIMIT_BYTES = 2 * 1024**3


def policy() -> DunningPolicy:
    """A typical policy: reminder 3 days before due, then 7, 21, 45 and 60 days past due."""
    eur_fee = FeeTable.flat(money("5.00", "EUR"))
    return DunningPolicy(
        (
            DunningLevel.reminder(3, "reminder"),
            DunningLevel(1, 7, "first", minimum=(money("10.00", "EUR"),)),
            DunningLevel(2, 21, "second", fee=eur_fee, interest_percent=Decimal("8")),
            DunningLevel(
                3,
                45,
                "final",
                fee=FeeTable.flat(money("10.00", "EUR")),
                interest_percent=Decimal("8"),
                actions=frozenset({DunningAction.CREDIT_HOLD, DunningAction.FINAL_NOTICE}),
            ),
            DunningLevel(
                4,
                60,
                "collections",
                actions=frozenset({DunningAction.COLLECTIONS, DunningAction.WRITE_OFF_PROPOSAL}),
            ),
        )
    )


def build_items(count: int, seed: int, as_of: date = AS_OF) -> list[OpenItem]:
    """``count`` open items in EUR for ``count // 10`` customers, the same for the same seed.

    About 90 % are not yet due, 3 % fall due within the reminder window and 7 % are overdue by
    1 to 120 days; 5 % have two instalments, 1 % are disputed.
    """
    rng = random.Random(seed)
    customers = max(1, count // 10)
    amounts = [money(f"{rng.randrange(500, 500_000) / 100:.2f}", "EUR") for _ in range(997)]
    items: list[OpenItem] = []
    for number in range(count):
        roll = rng.random()
        if roll < 0.90:
            due = as_of + timedelta(days=rng.randrange(4, 60))
        elif roll < 0.93:
            due = as_of + timedelta(days=rng.randrange(0, 4))
        else:
            due = as_of - timedelta(days=rng.randrange(1, 121))
        amount = amounts[number % len(amounts)]
        parts: tuple[Instalment, ...] = (Instalment.unpaid(due, amount),)
        if rng.random() < 0.05:
            later = amounts[(number * 7) % len(amounts)]
            parts += (Instalment.unpaid(due + timedelta(30), later),)
        items.append(
            OpenItem(
                f"INV-{number:08d}",
                f"C{rng.randrange(customers):07d}",
                due - timedelta(days=30),
                parts,
                disputed=rng.random() < 0.01,
            )
        )
    return items


def run_twice(
    items: list[OpenItem], as_of: date = AS_OF
) -> tuple[DunningRunResult, DunningRunResult, tuple[float, float], tuple[float, float]]:
    """Run the dunning, then again on the same date with its book.

    Returns both results and, for each run, its (wall-clock, CPU) seconds.
    """
    rules = policy()
    wall, cpu = time.perf_counter(), time.process_time()
    first = run_dunning(items, DunningBook(), rules, as_of)
    first_times = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    again = run_dunning(items, first.book, rules, as_of)
    again_times = (time.perf_counter() - wall, time.process_time() - cpu)
    return first, again, first_times, again_times


def _max_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260331)
    args = parser.parse_args()

    started = time.perf_counter()
    items = build_items(args.items, args.seed)
    build_seconds = time.perf_counter() - started
    gc.collect()
    gc.freeze()

    first, again, (seconds, cpu_seconds), (again_seconds, _) = run_twice(items)
    rate = len(items) / seconds
    peak = _max_rss_bytes()

    print(f"items                  {len(items):>12,}")
    print(f"building the ledger    {build_seconds:>12.2f} s  (baseline, not in the run time)")
    print(
        f"dunning run            {seconds:>12.2f} s  "
        f"({seconds / build_seconds:.2f} x building; CPU {cpu_seconds:.2f} s)"
    )
    print(f"items per second       {rate:>12,.0f}  (target >= {TARGET_ITEMS_PER_SECOND:,})")
    print(f"notices                {len(first.notices):>12,}")
    print(f"charges                {len(first.charges):>12,}")
    print(f"actions                {len(first.actions):>12,}")
    print(f"cases in the book      {len(first.book.cases):>12,}")
    print(f"peak memory (max RSS)  {peak / 1024**2:>12,.0f} MiB  (limit 2,048 MiB)")
    print(
        f"same date again        {again_seconds:>12.2f} s  "
        f"{len(again.notices)} notices, {len(again.charges)} charges, {len(again.events)} events"
    )
    idempotent = not (again.notices or again.charges or again.events)
    ok = idempotent and rate >= TARGET_ITEMS_PER_SECOND and peak < MEMORY_LIMIT_BYTES
    print("result                 " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
