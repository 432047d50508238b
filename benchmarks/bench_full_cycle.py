"""Benchmark: the whole order-to-cash cycle through the application services, in memory.

The application is built with ``o2c.bootstrap()`` on the embedded in-memory adapters and a fixed
clock. Each cycle places an order of three lines (credit is decided and stock reserved), ships it
(the carrier is booked and the stock committed), invoices it and gets paid: even cycles by card
(authorised at checkout, captured after invoicing), odd cycles by a bank transfer imported as a
statement line and matched by its reference. Every command posts its journal entries to the
ledger; at the end the trial balance must balance and accounts receivable must be zero.

The baseline, measured in the same run, is the same cycle in the pure domain alone (order,
invoice, receipt, allocation, journal entries) with no unit of work, idempotency record, ports or
lookups: the ratio says what the application layer costs on top of the business rules.

Peak memory is measured with ``tracemalloc`` in a separate, shorter run (tracing slows Python
down, so the timed run is not traced): it is the peak of memory allocated by Python during that
run, after the application was built. Times are wall-clock; the rate uses them. The CPU time of
the timed run is printed too: on a busy machine it is the steadier figure. ``--profile`` runs the
service cycles once more under :mod:`cProfile` and prints the most expensive functions.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import o2c
from o2c.domain.cash import apply_to_item
from o2c.domain.customers import Address, Customer
from o2c.domain.invoicing import Invoice
from o2c.domain.ledger import AccountRole, ChartOfAccounts
from o2c.domain.money import money, unit_price, zero
from o2c.domain.orders import Order, OrderLine
from o2c.domain.posting import PostingRules, journal_entries
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.tax import TaxCategory
from o2c.domain.terms import PaymentTerms
from o2c.ports.carriers import Parcel
from o2c.ports.persistence import UnitOfWork

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CUSTOMERS = 200
PRODUCTS = ("SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E", "SKU-F")
TARGET_CYCLES_PER_SECOND = 5_000
VAT = TaxCategory.standard("19")
PARCELS = (Parcel(Decimal("2.5")),)
TERMS = PaymentTerms.parse("NET 30")


def _lines(rng: random.Random) -> tuple[OrderLine, ...]:
    picked = rng.sample(PRODUCTS, 3)
    return tuple(
        OrderLine(
            str(number),
            product,
            f"Product {product}",
            rng.randint(1, 5),
            unit_price(f"{rng.randint(5, 80)}.{rng.randint(0, 99):02d}", "EUR"),
            VAT,
        )
        for number, product in enumerate(picked, start=1)
    )


def build(
    cycles: int, unit_of_work: Callable[[], UnitOfWork] | None = None, tag: str = ""
) -> o2c.App:
    """An application with enough stock and credit for ``cycles`` cycles.

    In memory unless ``unit_of_work`` says where the books are kept; ``tag`` keeps the customers
    (and in :func:`run_cycles` the documents) of several runs on one book apart.
    """
    stock = dict.fromkeys(PRODUCTS, cycles * 5 + 10)
    app = o2c.bootstrap(
        {
            "adapters": {
                "clock": {"use": "fixed", "options": {"at": START}},
                "inventory": {"use": "memory", "options": {"stock": stock}},
            }
        },
        load_entry_points=False,
        unit_of_work=unit_of_work,
    )
    customers = app.services.customers
    for number in range(CUSTOMERS):
        customer_id = f"C-{tag}{number:04d}"
        customers.register_customer(
            Customer(
                customer_id,
                f"Customer {number}",
                "EUR",
                TERMS,
                address=Address("Hauptstrasse 1", "Berlin", "10115", "DE"),
                payer_accounts=frozenset({f"DE00BANK{tag}{number:010d}"}),
            ),
            idempotency_key=f"register-{customer_id}",
        )
        customers.approve_credit(
            customer_id,
            money("100000000", "EUR"),
            date(2027, 3, 1),
            reviewer="bench",
            reason="benchmark",
            idempotency_key=f"credit-{customer_id}",
        )
    return app


def run_cycles(app: o2c.App, cycles: int, seed: int, tag: str = "") -> None:
    """Run ``cycles`` full cycles through ``app``'s services (on the customers of ``tag``)."""
    rng = random.Random(seed)
    s = app.services
    today = app.adapters.clock.today()
    for cycle in range(cycles):
        number = cycle % CUSTOMERS
        customer_id = f"C-{tag}{number:04d}"
        order_id = f"SO-{tag}{cycle:07d}"
        s.orders.place_order(order_id, customer_id, _lines(rng), idempotency_key=order_id)
        by_card = cycle % 2 == 0
        if by_card:
            payment = s.cards.authorise(
                order_id, "tok_approve", idempotency_key=f"auth-{order_id}"
            ).payment_id
        s.orders.ship_order(order_id, PARCELS, idempotency_key=f"ship-{order_id}")
        invoice = s.billing.invoice_order(order_id, idempotency_key=f"inv-{order_id}")
        if by_card:
            s.cards.capture(payment, idempotency_key=f"capture-{order_id}")
        else:
            receipt = Receipt(
                f"R-{tag}{cycle:07d}",
                invoice.gross,
                today,
                f"stmt-{tag}{cycle:07d}",
                Payer(account=f"DE00BANK{tag}{number:010d}"),
                reference=invoice.invoice_number,
            )
            s.cash.import_receipts([receipt], idempotency_key=f"stmt-{tag}{cycle:07d}")


def run_domain_cycles(cycles: int, seed: int) -> int:
    """The same cycles in the pure domain: no services, no ports. Returns the entries made."""
    rng = random.Random(seed)
    rules = PostingRules(ChartOfAccounts.default())
    day = START.date()
    entries = 0
    for cycle in range(cycles):
        order_id = f"SO-{cycle:07d}"
        customer_id = f"C-{cycle % CUSTOMERS:04d}"
        order, _ = Order.create(order_id, customer_id, _lines(rng), on=day)
        order, _ = order.place(on=day)
        order, _ = order.approve(on=day)
        shipped = {line.line_id: line.quantity for line in order.lines}
        order, _ = order.fulfil(shipped, on=day, shipment_id=f"{order_id}-SH1")
        draft = Invoice.from_order(order, f"{order_id}/draft")
        number = f"INV-{cycle:07d}"
        order, _ = order.record_invoice(draft.quantities_by_order_line(), invoice_id=number, on=day)
        invoice, issued = draft.issue(number, day, TERMS)
        assert invoice.open_item is not None
        receipt = Receipt(
            f"R-{cycle:07d}", invoice.gross, day, f"stmt-{cycle:07d}", Payer(customer_id)
        )
        applied = apply_to_item(receipt, invoice.open_item, invoice.gross, on=day)
        invoice, settled = invoice.record_settlement(day, receipt.receipt_id, paid=invoice.gross)
        for event in (*issued, *applied.events, *settled):
            entries += len(journal_entries(event, rules))
    return entries


def _check(app: o2c.App) -> None:
    ledger = app.adapters.ledger
    trial = ledger.trial_balance()
    if not trial.is_balanced:
        raise SystemExit("the trial balance does not balance")
    receivable = ledger.balance(app.services.settings.chart.code(AccountRole.RECEIVABLE), "EUR")
    if receivable != zero("EUR"):
        raise SystemExit(f"accounts receivable should be settled, found {receivable}")


def measure(cycles: int, seed: int) -> dict[str, float]:
    """Run the benchmark and return its figures (cycles per second, baseline ratio...)."""
    app = build(cycles)
    gc.collect()
    started = time.perf_counter()
    cpu_started = time.process_time()
    run_cycles(app, cycles, seed)
    cpu = time.process_time() - cpu_started
    elapsed = time.perf_counter() - started
    _check(app)

    started = time.perf_counter()
    run_domain_cycles(cycles, seed)
    baseline = time.perf_counter() - started

    traced = max(1, min(cycles, 1_000))
    small = build(traced)
    tracemalloc.start()
    run_cycles(small, traced, seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "cycles": float(cycles),
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "cycles_per_second": cycles / elapsed,
        "baseline_seconds": baseline,
        "ratio": elapsed / baseline if baseline else float("inf"),
        "traced_cycles": float(traced),
        "peak_bytes": float(peak),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=5_000, help="full cycles to run")
    parser.add_argument("--seed", type=int, default=7, help="seed of the order generator")
    parser.add_argument("--profile", action="store_true", help="profile the service cycles")
    args = parser.parse_args(argv)
    figures = measure(args.cycles, args.seed)
    rate = figures["cycles_per_second"]
    print(f"full cycles           {int(figures['cycles']):>10,}")
    print(f"time                  {figures['seconds']:>10.2f} s")
    print(f"CPU time              {figures['cpu_seconds']:>10.2f} s")
    print(f"cycles per second     {rate:>10,.0f}   (target {TARGET_CYCLES_PER_SECOND:,})")
    print(f"domain-only baseline  {figures['baseline_seconds']:>10.2f} s")
    print(f"services / baseline   {figures['ratio']:>10.1f} x")
    print(
        f"peak traced memory    {figures['peak_bytes'] / 1024**2:>10.1f} MiB"
        f"   (tracemalloc, {int(figures['traced_cycles']):,} cycles)"
    )
    if args.profile:
        app = build(args.cycles)
        profiler = cProfile.Profile()
        profiler.enable()
        run_cycles(app, args.cycles, args.seed)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
