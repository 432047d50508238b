"""The full-cycle benchmark runs (a few cycles, no timing asserted) and keeps the books right."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_full_cycle.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_full_cycle", BENCHMARK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_twenty_cycles_run_through_the_services_and_settle_every_invoice() -> None:
    bench = _load()
    figures = bench.measure(20, 3)
    assert figures["cycles"] == 20
    assert figures["cycles_per_second"] > 0
    assert figures["peak_bytes"] > 0
    app = bench.build(20)
    bench.run_cycles(app, 20, 3)
    with app.adapters.unit_of_work() as uow:
        assert len(uow.invoices) == 20
        assert len(uow.receipts) == 20
        assert len(uow.ledger_outbox) == 0
        assert uow.open_items.open() == ()  # every invoice was paid
