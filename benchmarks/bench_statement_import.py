"""Benchmark: a camt.053 statement of 100,000 entries imported end to end against 100,000 open
items (read + match + apply + post).

The portfolio and the receipts are those of ``bench_cash_application.py`` (same generator, same
seed): open items over many customers and a realistic mix of payments. The open items are
stored in the in-memory store, the customers with the accounts they pay from; the receipts
are written as one camt.053.001.02 statement (every line with its bank reference, payer name and
account, structured reference or remittance text). Then, in one run:

* **parse only**: the file read into statement values;
* **end to end**: read again, balances checked, every line planned, matched, applied, the
  receipts and settled items stored, the journal entries posted to the in-memory ledger;
* **cash application** as ``bench_cash_application.py`` measures it (the domain alone).

Peak memory is the process's maximum resident size (it includes the generated portfolio).
``--profile`` prints where the end-to-end time goes. The target (10 s, 1 GB) is reported,
not enforced.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cash_application as cash_bench

import o2c
from o2c.adapters.memory.clock import FixedClock
from o2c.adapters.statements import read_statements
from o2c.adapters.statements.camt import render_camt053
from o2c.domain.customers import Customer
from o2c.domain.money import Money, zero
from o2c.domain.statements import (
    BankStatement,
    BankTransactionCode,
    Direction,
    StatementEntry,
    StatementKind,
    Transaction,
)
from o2c.ports.statements import StatementLimits
from o2c.services import Services, Settings

LIMITS = StatementLimits(max_bytes=2 * 1024**3)
ACCOUNT = "DE02120300000000202051"


def statement_of(scenario: cash_bench.Scenario) -> BankStatement:
    """The scenario's receipts as one end-of-day statement."""
    entries = []
    total = zero("EUR")
    for position, receipt in enumerate(scenario.receipts, start=1):
        entries.append(
            StatementEntry(
                position=position,
                amount=receipt.amount,
                direction=Direction.CREDIT,
                booking_date=receipt.value_date,
                value_date=receipt.value_date,
                bank_reference=f"BR{position:09d}",
                code=BankTransactionCode("PMNT", "RCDT", "ESCT"),
                transactions=(
                    Transaction(
                        payer_name=receipt.payer.name,
                        payer_account=receipt.payer.account,
                        reference=receipt.reference or "",
                        remittance=receipt.remittance,
                        end_to_end_id=f"E2E{position:09d}",
                    ),
                ),
            )
        )
        total += receipt.amount
    opening = Money("1000.00", "EUR")
    return BankStatement(
        source="generated",
        statement_id="BENCH-1",
        account=ACCOUNT,
        currency="EUR",
        kind=StatementKind.STATEMENT,
        entries=tuple(entries),
        opening=opening,
        closing=opening + total,
    )


def application(scenario: cash_bench.Scenario) -> tuple[o2c.App, Services]:
    """An in-memory application holding the scenario's customers and open items."""
    app = o2c.bootstrap(
        load_entry_points=False,
        clock=FixedClock(datetime.combine(scenario.on, clock_time(12), UTC)),
    )
    services = Services(app.adapters, Settings(matching=scenario.config))
    accounts: dict[str, set[str]] = {}
    for account, customer in scenario.payers.accounts.items():
        accounts.setdefault(customer, set()).add(account)
    with app.adapters.unit_of_work() as uow:
        for customer_id in sorted({item.customer_id for item in scenario.items}):
            uow.customers.add(
                customer_id,
                Customer(
                    customer_id, customer_id, "EUR", payer_accounts=accounts.get(customer_id, ())
                ),
            )
        for item in scenario.items:
            uow.charges.add(item.item_id, item)
        uow.commit()
    return app, services


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20260430)
    parser.add_argument("--profile", action="store_true", help="profile the end-to-end run")
    args = parser.parse_args(argv)

    scenario = cash_bench.generate(args.entries, args.seed)
    statement = statement_of(scenario)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "statement.xml"
        started = time.perf_counter()
        with path.open("w", encoding="utf-8") as handle:
            handle.writelines(render_camt053(statement, created=scenario.on))
        written = time.perf_counter() - started
        size = path.stat().st_size
        app, services = application(scenario)

        gc.collect()
        gc.disable()
        parse_cpu_started = time.process_time()
        started = time.perf_counter()
        (parsed,) = read_statements(str(path), limits=LIMITS)
        parse_seconds = time.perf_counter() - started
        parse_cpu = time.process_time() - parse_cpu_started
        gc.enable()
        assert len(parsed.entries) == args.entries
        del parsed
        gc.collect()

        profiler = cProfile.Profile() if args.profile else None
        gc.disable()
        cpu = time.process_time()
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        statements = read_statements(str(path), limits=LIMITS)
        read_seconds = time.perf_counter() - started
        report = services.statements.import_statements(statements, idempotency_key="bench")
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        gc.enable()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    posted = len(app.adapters.ledger)  # type: ignore[arg-type]

    mib = size / 1024**2
    print(
        f"entries             {args.entries} ({mib:.1f} MiB camt.053, written in {written:.1f} s)"
    )
    print(f"open items          {len(scenario.items)}")
    rate = args.entries / parse_seconds
    print(
        f"parse only          {parse_seconds:.3f} s (CPU {parse_cpu:.3f} s; {rate:,.0f} entries/s)"
    )
    print(f"end to end          {seconds:.3f} s (CPU {cpu_seconds:.3f} s; target 10 s)")
    print(f"  of which reading  {read_seconds:.3f} s")
    print(f"  import and post   {seconds - read_seconds:.3f} s")
    print(
        f"outcome             matched {len(report.matched)}, partly {len(report.partly_matched)}, "
        f"on account {len(report.on_account)}, queued {len(report.queued)}"
    )
    print(f"journal entries     {posted}")
    print(f"peak memory         {peak_mb:,.0f} MiB (target 1024 MiB; whole process)")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    print()
    print("cash application alone (bench_cash_application.py, same run):")
    return cash_bench.main(["--receipts", str(args.entries), "--seed", str(args.seed)])


if __name__ == "__main__":
    sys.exit(main())
