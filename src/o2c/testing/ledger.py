"""The ledger contract: what every :class:`~o2c.ports.ledger.LedgerPort` adapter must do.

Subclass :class:`LedgerContract` as ``TestMyLedger`` and override ``make_ledger``; declare
optional features with ``capabilities``. The tests post through the port only and read the result
back through the port, so they hold for a ledger in memory, in a file or in an accounting system.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import attrs
import pytest
from hypothesis import strategies as st

from o2c.domain.errors import DomainError, DuplicateEntry
from o2c.domain.ledger import (
    ChartOfAccounts,
    JournalEntry,
    Ledger,
    Posting,
    Side,
    TrialBalance,
    TrialBalanceRow,
)
from o2c.domain.money import money, zero
from o2c.ports.errors import AdapterError, AdapterRejected, DuplicateRequest
from o2c.ports.ledger import LedgerPort, PostingResult
from o2c.testing import strategies
from o2c.testing._kit import Contract, override_me, requires, run_property

__all__ = ["LedgerCapabilities", "LedgerContract", "LedgerFactory", "LedgerReopener"]

LedgerFactory = Callable[[ChartOfAccounts], LedgerPort]
"""Builds a fresh, empty ledger over a chart of accounts."""

LedgerReopener = Callable[[LedgerPort, ChartOfAccounts], LedgerPort]
"""Builds a new ledger object over the storage of an existing one (a process restart)."""


@attrs.frozen
class LedgerCapabilities:
    """What a ledger adapter declares about itself."""

    multi_currency: bool = True
    """It keeps balances in any currency, zero-decimal (JPY) and three-decimal (KWD) included."""
    durable: bool = False
    """Its entries outlive the adapter object: ``reopen_ledger`` must then be overridden."""


DAY = date(2026, 3, 2)
BANK, RECEIVABLE, TAX, REVENUE = "1000", "1200", "2200", "4000"


def entry(
    entry_id: str,
    amount: str = "100.00",
    currency: str = "EUR",
    *,
    debit: str = RECEIVABLE,
    credit: str = REVENUE,
    party: str | None = "C-1",
) -> JournalEntry:
    """A two-line entry: ``amount`` from ``credit`` to ``debit`` (the debit names ``party``)."""
    value = money(amount, currency)
    return JournalEntry(
        entry_id,
        DAY,
        f"test entry {entry_id}",
        (
            Posting(debit, Side.DEBIT, value, party=party, document=entry_id),
            Posting(credit, Side.CREDIT, value),
        ),
        source=entry_id,
    )


def invoice(entry_id: str, net: str, tax: str, party: str, currency: str = "EUR") -> JournalEntry:
    """An invoice: receivable (gross) against revenue and tax payable."""
    gross = money(net, currency) + money(tax, currency)
    return JournalEntry(
        entry_id,
        DAY,
        "invoice",
        (
            Posting(RECEIVABLE, Side.DEBIT, gross, party=party, document=entry_id),
            Posting(REVENUE, Side.CREDIT, money(net, currency), memo="net"),
            Posting(TAX, Side.CREDIT, money(tax, currency), memo="S 19%"),
        ),
        metadata={"kind": "invoice"},
    )


@st.composite
def _histories(
    draw: st.DrawFn, chart: ChartOfAccounts, currency: str | None
) -> list[list[JournalEntry]]:
    """Batches that mostly resend entries from a small pool, and sometimes reuse an id of the
    pool for other content."""
    pool = draw(strategies.journal_batches(chart, currency=currency, max_size=6))
    known = st.sampled_from(pool)
    reused = strategies.journal_entries(
        chart, currency=currency, entry_ids=st.sampled_from([e.entry_id for e in pool])
    )
    pick = st.one_of(known, known, known, reused)
    return draw(st.lists(st.lists(pick, min_size=1, max_size=3), min_size=1, max_size=6))


def _rows(trial: TrialBalance) -> list[TrialBalanceRow]:
    """The rows in one order, whatever order the adapter lists them in."""
    return sorted(trial.rows, key=lambda row: (row.currency, row.account))


class LedgerContract(Contract):
    """Business semantics of a ledger: atomic, idempotent posting and exact balances.

    Fixtures to override: ``make_ledger`` (required), ``capabilities``, ``reopen_ledger`` (for a
    durable ledger), ``chart`` (when the adapter needs its own chart; it must contain the default
    chart's accounts 1000, 1200, 2200 and 4000).
    """

    @pytest.fixture
    def make_ledger(self) -> LedgerFactory:
        """Override: return a callable that builds a fresh, empty ledger over a chart."""
        override_me("make_ledger", "ledger", "lambda chart: MyLedger(chart)")

    @pytest.fixture
    def reopen_ledger(self) -> LedgerReopener:
        """Override for a durable ledger: a new adapter object over the same storage."""
        override_me("reopen_ledger", "ledger", "lambda ledger, chart: MyLedger(ledger.path, chart)")

    @pytest.fixture
    def capabilities(self) -> LedgerCapabilities:
        """Override to declare what the ledger cannot do (or that it is durable)."""
        return LedgerCapabilities()

    @pytest.fixture
    def chart(self) -> ChartOfAccounts:
        """The chart the ledgers under test are built over."""
        return ChartOfAccounts.default()

    @pytest.fixture
    def ledger(self, make_ledger: LedgerFactory, chart: ChartOfAccounts) -> LedgerPort:
        return make_ledger(chart)

    # --- posting ------------------------------------------------------------------------------

    def test_a_new_batch_is_posted(self, ledger: LedgerPort) -> None:
        result = ledger.post_batch([entry("E-1"), entry("E-2", "20.00")])
        assert result == PostingResult(posted=("E-1", "E-2"), already_posted=())
        assert ledger.balance(RECEIVABLE, "EUR") == money("120.00", "EUR")
        assert ledger.balance(REVENUE, "EUR") == money("-120.00", "EUR")

    def test_an_empty_batch_posts_nothing(self, ledger: LedgerPort) -> None:
        assert ledger.post_batch([]) == PostingResult((), ())
        assert ledger.trial_balance().rows == ()

    def test_posting_again_moves_no_money(self, ledger: LedgerPort) -> None:
        batch = [entry("E-1"), invoice("INV-1", "100.00", "19.00", "C-1")]
        ledger.post_batch(batch)
        before = ledger.trial_balance()
        again = ledger.post_batch(batch)
        assert again == PostingResult(posted=(), already_posted=("E-1", "INV-1"))
        assert ledger.trial_balance() == before
        assert ledger.balance(RECEIVABLE, "EUR") == money("219.00", "EUR")

    def test_a_batch_mixing_new_and_known_entries_posts_the_new_ones_once(
        self, ledger: LedgerPort
    ) -> None:
        ledger.post_batch([entry("E-1")])
        result = ledger.post_batch([entry("E-1"), entry("E-2", "5.00")])
        assert result == PostingResult(posted=("E-2",), already_posted=("E-1",))
        assert ledger.balance(RECEIVABLE, "EUR") == money("105.00", "EUR")

    def test_a_repeat_within_one_batch_posts_once(self, ledger: LedgerPort) -> None:
        result = ledger.post_batch([entry("E-1"), entry("E-1")])
        assert result.posted == ("E-1",)
        assert ledger.balance(RECEIVABLE, "EUR") == money("100.00", "EUR")

    def test_a_known_id_with_other_content_refuses_the_whole_batch(
        self, ledger: LedgerPort
    ) -> None:
        ledger.post_batch([entry("E-1")])
        with pytest.raises(DuplicateRequest):
            ledger.post_batch([entry("E-2", "7.00"), entry("E-1", "99.00")])
        assert ledger.balance(RECEIVABLE, "EUR") == money("100.00", "EUR")
        assert ledger.post_batch([entry("E-2", "7.00")]).posted == ("E-2",)

    def test_an_unknown_account_refuses_the_whole_batch(self, ledger: LedgerPort) -> None:
        stray = entry("E-3", credit="9999")
        with pytest.raises(AdapterRejected):
            ledger.post_batch([entry("E-1"), entry("E-2", "3.00"), stray])
        assert ledger.balance(RECEIVABLE, "EUR") == zero("EUR")
        assert ledger.trial_balance().rows == ()
        assert ledger.post_batch([entry("E-1")]).posted == ("E-1",)

    # --- balances -----------------------------------------------------------------------------

    def test_balances_are_debit_minus_credit(self, ledger: LedgerPort) -> None:
        ledger.post_batch(
            [
                invoice("INV-1", "100.00", "19.00", "C-1"),
                entry("PAY-1", "50.00", debit=BANK, credit=RECEIVABLE, party=None),
            ]
        )
        assert ledger.balance(RECEIVABLE, "EUR") == money("69.00", "EUR")
        assert ledger.balance(REVENUE, "EUR") == money("-100.00", "EUR")
        assert ledger.balance(TAX, "EUR") == money("-19.00", "EUR")
        assert ledger.balance(BANK, "EUR") == money("50.00", "EUR")

    def test_party_balances_count_only_that_party(self, ledger: LedgerPort) -> None:
        ledger.post_batch(
            [
                invoice("INV-1", "100.00", "19.00", "C-1"),
                invoice("INV-2", "10.00", "1.90", "C-2"),
            ]
        )
        assert ledger.balance(RECEIVABLE, "EUR", "C-1") == money("119.00", "EUR")
        assert ledger.balance(RECEIVABLE, "EUR", "C-2") == money("11.90", "EUR")
        assert ledger.balance(RECEIVABLE, "EUR", "C-3") == zero("EUR")
        assert ledger.balance(RECEIVABLE, "EUR") == money("130.90", "EUR")

    def test_an_account_without_postings_has_a_zero_balance(self, ledger: LedgerPort) -> None:
        ledger.post_batch([entry("E-1")])
        assert ledger.balance(BANK, "EUR") == zero("EUR")
        assert ledger.balance(RECEIVABLE, "USD") == zero("USD")

    def test_the_trial_balance_balances_and_agrees_with_the_balances(
        self, ledger: LedgerPort
    ) -> None:
        ledger.post_batch(
            [
                invoice("INV-1", "100.00", "19.00", "C-1"),
                entry("PAY-1", "119.00", debit=BANK, credit=RECEIVABLE, party="C-1"),
                entry("E-9", "0.01"),
            ]
        )
        trial = ledger.trial_balance()
        assert trial.is_balanced
        assert trial.totals("EUR") == (money("238.01", "EUR"), money("238.01", "EUR"))
        accounts = {row.account for row in trial.rows}
        assert accounts == {BANK, RECEIVABLE, TAX, REVENUE}
        for row in trial.rows:
            assert row.balance == ledger.balance(row.account, row.currency)

    @requires("multi_currency")
    def test_each_currency_balances_on_its_own(self, ledger: LedgerPort) -> None:
        ledger.post_batch(
            [
                entry("EUR-1", "10.50", "EUR"),
                entry("JPY-1", "1050", "JPY"),
                entry("KWD-1", "1.055", "KWD"),
                invoice("INV-1", "1000", "190", "C-1", "JPY"),
            ]
        )
        assert ledger.balance(RECEIVABLE, "JPY") == money("2240", "JPY")
        assert ledger.balance(RECEIVABLE, "KWD") == money("1.055", "KWD")
        assert ledger.balance(RECEIVABLE, "EUR") == money("10.50", "EUR")
        trial = ledger.trial_balance()
        assert trial.is_balanced
        assert set(trial.currencies) == {"EUR", "JPY", "KWD"}

    # --- durability ---------------------------------------------------------------------------

    @requires("durable")
    def test_a_reopened_ledger_remembers_what_was_posted(
        self, ledger: LedgerPort, reopen_ledger: LedgerReopener, chart: ChartOfAccounts
    ) -> None:
        batch = [invoice("INV-1", "100.00", "19.00", "C-1"), entry("E-1", "1.00")]
        ledger.post_batch(batch)
        before = ledger.trial_balance()
        reopened = reopen_ledger(ledger, chart)
        assert reopened.trial_balance() == before
        assert reopened.post_batch(batch) == PostingResult((), ("INV-1", "E-1"))
        with pytest.raises(DuplicateRequest):
            reopened.post_batch([entry("E-1", "2.00")])
        assert reopened.balance(RECEIVABLE, "EUR", "C-1") == money("120.00", "EUR")

    @requires("durable")
    def test_a_refused_batch_leaves_nothing_behind_after_reopening(
        self, ledger: LedgerPort, reopen_ledger: LedgerReopener, chart: ChartOfAccounts
    ) -> None:
        ledger.post_batch([entry("E-1")])
        with pytest.raises(AdapterRejected):
            ledger.post_batch([entry("E-2"), entry("E-3", credit="9999")])
        reopened = reopen_ledger(ledger, chart)
        assert reopened.post_batch([entry("E-2")]).posted == ("E-2",)
        assert reopened.balance(RECEIVABLE, "EUR") == money("200.00", "EUR")

    # --- property -----------------------------------------------------------------------------

    def test_balances_follow_the_accepted_batches(
        self,
        make_ledger: LedgerFactory,
        chart: ChartOfAccounts,
        capabilities: LedgerCapabilities,
    ) -> None:
        """Any sequence of batches (repeats and conflicting ids included) leaves the adapter with
        exactly the balances of the domain ledger that accepted the same batches."""
        currency = None if capabilities.multi_currency else "EUR"
        batches = _histories(chart, currency)

        def check(sequence: Sequence[Sequence[JournalEntry]]) -> None:
            ledger = make_ledger(chart)
            model = Ledger.empty(chart)
            for batch in sequence:
                try:
                    expected = model.post_batch(batch)
                except DuplicateEntry:
                    with pytest.raises(DuplicateRequest):
                        ledger.post_batch(batch)
                    continue
                except DomainError:
                    with pytest.raises(AdapterError):
                        ledger.post_batch(batch)
                    continue
                result = ledger.post_batch(batch)
                fresh = {e.entry_id for e in batch if e.entry_id not in model}
                assert set(result.posted) == fresh
                assert set(result.already_posted) == {e.entry_id for e in batch} - fresh
                model = expected
            assert _rows(ledger.trial_balance()) == _rows(model.trial_balance())
            for row in model.trial_balance().rows:
                for party in (None, *strategies.CUSTOMERS):
                    assert ledger.balance(row.account, row.currency, party) == model.balance(
                        row.account, row.currency, party
                    )

        run_property(batches, check)
