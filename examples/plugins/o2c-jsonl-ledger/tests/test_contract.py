"""The JSON Lines ledger passes o2c's ledger contract, durability included."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from o2c_jsonl_ledger import JsonlLedger

from o2c import ChartOfAccounts
from o2c.ports.ledger import LedgerPort
from o2c.testing import LedgerCapabilities, LedgerContract
from o2c.testing.ledger import LedgerFactory, LedgerReopener


class TestJsonlLedger(LedgerContract):
    @pytest.fixture
    def make_ledger(self, tmp_path: Path) -> LedgerFactory:
        files = (tmp_path / f"journal-{n}.jsonl" for n in itertools.count())
        return lambda chart: JsonlLedger(next(files), chart, fsync=False)

    @pytest.fixture
    def reopen_ledger(self) -> LedgerReopener:
        def reopen(ledger: LedgerPort, chart: ChartOfAccounts) -> LedgerPort:
            assert isinstance(ledger, JsonlLedger)
            return JsonlLedger(ledger.path, chart)

        return reopen

    @pytest.fixture
    def capabilities(self) -> LedgerCapabilities:
        return LedgerCapabilities(durable=True)
