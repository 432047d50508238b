"""Benchmark: the whole order-to-cash cycle with the books in SQLite and PostgreSQL.

The cycle is the one of ``bench_full_cycle.py`` (order, shipment, invoice, payment by card or by
bank transfer, every command through the application services), run with the unit of work of a
:class:`~o2c.adapters.sql.SqlStore`: on a SQLite file, on PostgreSQL from one process, and on
PostgreSQL from two processes at once, each with its own customers and documents on the same
book. The ledger and the other ports stay in memory: the figures are what keeping the books
costs. The baseline, measured in the same run, is the same cycle on the in-memory store.

PostgreSQL runs in a throwaway database created on the server of ``--postgres`` (default: the
local server on 127.0.0.1:5432) and dropped at the end; without a server those figures are
skipped with a message. Setting up (customers, credit, the schema) is not timed. Times are
wall-clock; the CPU time of the timing process is printed beside them (for two processes, the
sum of both). ``--profile`` runs the SQLite cycles once more under :mod:`cProfile`.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import multiprocessing
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from bench_full_cycle import _check, build, run_cycles

from o2c.adapters.sql import SqlStore
from o2c.services import retrying

TARGET_SQLITE = 500
TARGET_POSTGRES = 300
MAINTENANCE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def timed(run: Callable[[], None]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``run``."""
    gc.collect()
    started = time.perf_counter()
    cpu_started = time.process_time()
    run()
    return time.perf_counter() - started, time.process_time() - cpu_started


def on_memory(cycles: int, seed: int) -> tuple[float, float]:
    app = build(cycles)
    figures = timed(lambda: run_cycles(app, cycles, seed))
    _check(app)
    return figures


def on_store(url: str, cycles: int, seed: int, tag: str = "") -> tuple[float, float]:
    with SqlStore(url, upgrade=True) as store:
        app = build(cycles, store.unit_of_work, tag)
        figures = timed(lambda: run_cycles(app, cycles, seed, tag))
        _check(app)
    return figures


def _worker(run: tuple[str, int, int, str], ready: Any, results: Any) -> None:
    url, cycles, seed, tag = run
    with SqlStore(url) as store:
        app = build(cycles, store.unit_of_work, tag)
        # Two processes on one book meet on shared rows (the invoice number series): a conflict
        # is retryable, and a command retried under its idempotency key runs once, as an
        # application would do it.
        runtime = app.services._runtime
        runtime.execute = retrying(attempts=20)(runtime.execute)  # type: ignore[method-assign]
        ready.wait()
        started = time.perf_counter()
        cpu_started = time.process_time()
        run_cycles(app, cycles, seed, tag)
        results.put((started, time.perf_counter(), time.process_time() - cpu_started))
        _check(app)


def on_store_from(processes: int, url: str, cycles: int, seed: int) -> tuple[float, float]:
    """Wall-clock (first start to last end) and summed CPU of ``processes`` running at once."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=((url, cycles, seed, f"P{n}-"), ready, results))
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    done = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise SystemExit(f"a benchmark process failed (exit code {worker.exitcode})")
    wall = max(end for _, end, _ in done) - min(start for start, _, _ in done)
    return wall, sum(cpu for _, _, cpu in done)


@contextmanager
def throwaway_postgres(maintenance: str) -> Iterator[str | None]:
    """The URL of a new empty database on the server, dropped afterwards; ``None`` if the
    server cannot be reached."""
    admin = sa.create_engine(maintenance, isolation_level="AUTOCOMMIT")
    name = f"o2c_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL skipped: cannot reach {maintenance} ({type(error.orig).__name__})")
        admin.dispose()
        yield None
        return
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def report(name: str, cycles: int, figures: tuple[float, float], target: int | None) -> None:
    wall, cpu = figures
    rate = cycles / wall
    aim = f"   (target {target:,}: {'met' if rate >= target else 'MISSED'})" if target else ""
    print(f"{name:<28} {wall:>8.2f} s wall {cpu:>8.2f} s CPU {rate:>9,.0f} cycles/s{aim}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2_000, help="full cycles per run")
    parser.add_argument("--seed", type=int, default=7, help="seed of the order generator")
    parser.add_argument("--postgres", default=MAINTENANCE_URL, help="maintenance database URL")
    parser.add_argument("--profile", action="store_true", help="profile the SQLite cycles")
    args = parser.parse_args(argv)
    cycles = args.cycles
    print(f"full cycles per run: {cycles:,}")
    report("memory (baseline)", cycles, on_memory(cycles, args.seed), None)
    with tempfile.TemporaryDirectory() as folder:
        sqlite_file = Path(folder, "books.sqlite")
        report("SQLite file", cycles, on_store(str(sqlite_file), cycles, args.seed), TARGET_SQLITE)
        if args.profile:
            profiled = Path(folder, "profiled.sqlite")
            with SqlStore(profiled) as store:
                app = build(cycles, store.unit_of_work)
                profiler = cProfile.Profile()
                profiler.enable()
                run_cycles(app, cycles, args.seed)
                profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    with throwaway_postgres(args.postgres) as url:
        if url is not None:
            one = on_store(url, cycles, args.seed, "S-")
            report("PostgreSQL, 1 process", cycles, one, TARGET_POSTGRES)
            two = on_store_from(2, url, cycles, args.seed)
            report("PostgreSQL, 2 processes", 2 * cycles, two, round(cycles / one[0]) + 1)
            if args.profile:
                with SqlStore(url) as store:
                    app = build(cycles, store.unit_of_work, "PR-")
                    profiler = cProfile.Profile()
                    profiler.enable()
                    run_cycles(app, cycles, args.seed, "PR-")
                    profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
