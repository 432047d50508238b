"""The persistence contract: what every :class:`~o2c.ports.persistence.UnitOfWork` must do.

Subclass :class:`UnitOfWorkContract` and override ``make_unit_of_work``: a callable that sets up
fresh, empty storage and returns the factory of units of work over it (what the adapter's
registered factory returns). Each test opens several units of work from one such factory, as
successive commands of one application would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import attrs
import pytest
from hypothesis import strategies as st

from o2c.domain.customers import Customer
from o2c.domain.ledger import JournalEntry, Posting, Side
from o2c.domain.money import money
from o2c.domain.receipts import Payer, Receipt
from o2c.domain.receivables import Instalment, ItemKind, OpenItem
from o2c.ports.errors import DuplicateRequest, NotFound
from o2c.ports.persistence import Repository, UnitOfWork
from o2c.testing._kit import Contract, override_me, requires, run_property

__all__ = ["UnitOfWorkCapabilities", "UnitOfWorkContract", "UnitOfWorkFactory"]

UnitOfWorkFactory = Callable[[], Callable[[], UnitOfWork]]
"""Sets up fresh storage and returns the factory of units of work over it."""


@attrs.frozen
class UnitOfWorkCapabilities:
    """What a persistence adapter declares about itself."""

    concurrent_units: bool = True
    """Two units of work can be open at once (each sees only what the other committed)."""


DAY = date(2026, 3, 2)


def _entry(key: str, amount: str) -> JournalEntry:
    value = money(amount, "EUR")
    return JournalEntry(
        key,
        DAY,
        "outbox entry",
        (Posting("1200", Side.DEBIT, value, party="C-1"), Posting("4000", Side.CREDIT, value)),
    )


def _charge(key: str, amount: str) -> OpenItem:
    return OpenItem(
        key, "C-1", DAY, (Instalment.unpaid(DAY, money(amount, "EUR")),), kind=ItemKind.CHARGE
    )


def _receipt(key: str, amount: str) -> Receipt:
    return Receipt(key, money(amount, "EUR"), DAY, f"STMT/{key}", Payer("C-1"))


def _customer(key: str, amount: str) -> Customer:
    return Customer(key, f"Customer {amount}", "EUR")


SAMPLES: dict[str, Callable[[str, str], Any]] = {
    "ledger_outbox": _entry,
    "charges": _charge,
    "receipts": _receipt,
    "customers": _customer,
}
"""Repositories the contract exercises, with a builder of distinct values for each."""


def _repository(uow: UnitOfWork, name: str) -> Repository[Any]:
    repository: Repository[Any] = getattr(uow, name)
    return repository


class UnitOfWorkContract(Contract):
    """Repositories, gap-free numbers and idempotency records that commit or roll back together.

    Fixtures to override: ``make_unit_of_work`` (required) and ``capabilities``.
    """

    @pytest.fixture
    def make_unit_of_work(self) -> UnitOfWorkFactory:
        """Override: a callable that sets up fresh storage and returns its uow factory."""
        override_me("make_unit_of_work", "unit of work", "lambda: MyStore(url).unit_of_work")

    @pytest.fixture
    def capabilities(self) -> UnitOfWorkCapabilities:
        """Override to declare what the persistence adapter cannot do."""
        return UnitOfWorkCapabilities()

    @pytest.fixture
    def uow(self, make_unit_of_work: UnitOfWorkFactory) -> Callable[[], UnitOfWork]:
        """The factory of units of work over one fresh storage."""
        return make_unit_of_work()

    @pytest.fixture(params=sorted(SAMPLES))
    def repository(self, request: pytest.FixtureRequest) -> str:
        """The name of the repository under test."""
        name: str = request.param
        return name

    # --- repositories -------------------------------------------------------------------------

    def test_an_unknown_key_is_not_found(
        self, uow: Callable[[], UnitOfWork], repository: str
    ) -> None:
        with uow() as work:
            store = _repository(work, repository)
            with pytest.raises(NotFound):
                store.get("missing")
            assert store.find("missing") is None
            assert len(store) == 0
            assert list(store.values()) == []

    def test_committed_values_are_seen_by_later_units_of_work(
        self, uow: Callable[[], UnitOfWork], repository: str
    ) -> None:
        value = SAMPLES[repository]("K-1", "10.00")
        with uow() as work:
            _repository(work, repository).add("K-1", value)
            assert _repository(work, repository).get("K-1") == value
            work.commit()
        with uow() as work:
            store = _repository(work, repository)
            assert store.get("K-1") == value
            assert store.find("K-1") == value

    def test_adding_a_taken_key_is_refused(
        self, uow: Callable[[], UnitOfWork], repository: str
    ) -> None:
        build = SAMPLES[repository]
        with uow() as work:
            store = _repository(work, repository)
            store.add("K-1", build("K-1", "10.00"))
            with pytest.raises(DuplicateRequest):
                store.add("K-1", build("K-1", "20.00"))
            work.commit()
        with uow() as work:
            with pytest.raises(DuplicateRequest):
                _repository(work, repository).add("K-1", build("K-1", "30.00"))
            assert _repository(work, repository).get("K-1") == build("K-1", "10.00")

    def test_save_stores_a_new_version(
        self, uow: Callable[[], UnitOfWork], repository: str
    ) -> None:
        build = SAMPLES[repository]
        with uow() as work:
            _repository(work, repository).save("K-1", build("K-1", "10.00"))
            work.commit()
        with uow() as work:
            _repository(work, repository).save("K-1", build("K-1", "20.00"))
            work.commit()
        with uow() as work:
            store = _repository(work, repository)
            assert store.get("K-1") == build("K-1", "20.00")
            assert len(store) == 1

    def test_remove_deletes_and_tolerates_a_missing_key(
        self, uow: Callable[[], UnitOfWork], repository: str
    ) -> None:
        build = SAMPLES[repository]
        with uow() as work:
            store = _repository(work, repository)
            store.add("K-1", build("K-1", "10.00"))
            store.add("K-2", build("K-2", "20.00"))
            work.commit()
        with uow() as work:
            store = _repository(work, repository)
            store.remove("K-1")
            store.remove("never-there")
            assert store.find("K-1") is None
            work.commit()
        with uow() as work:
            store = _repository(work, repository)
            assert store.find("K-1") is None
            assert [*store.values()] == [build("K-2", "20.00")]
            store.add("K-1", build("K-1", "30.00"))  # a removed key is free again
            assert store.get("K-1") == build("K-1", "30.00")

    def test_values_come_in_insertion_order(
        self, uow: Callable[[], UnitOfWork], repository: str
    ) -> None:
        build = SAMPLES[repository]
        keys = ["K-3", "K-1", "K-2"]
        with uow() as work:
            for number, key in enumerate(keys, start=1):
                _repository(work, repository).add(key, build(key, f"{number}.00"))
            work.commit()
        with uow() as work:
            store = _repository(work, repository)
            expected = [build(key, f"{n}.00") for n, key in enumerate(keys, start=1)]
            assert list(store.values()) == expected
            assert len(store) == 3
            store.add("K-0", build("K-0", "9.00"))
            assert list(store.values()) == [*expected, build("K-0", "9.00")]
            assert len(store) == 4

    # --- atomicity ----------------------------------------------------------------------------

    def test_leaving_without_commit_forgets_everything(
        self, uow: Callable[[], UnitOfWork], repository: str
    ) -> None:
        with uow() as work:
            _repository(work, repository).add("K-1", SAMPLES[repository]("K-1", "10.00"))
            assert work.sequences.next("INV") == 1
            work.commands.remember("cmd-1", "done")
        with uow() as work:
            assert _repository(work, repository).find("K-1") is None
            assert work.sequences.next("INV") == 1
            assert work.commands.recall("cmd-1") is None

    def test_an_exception_rolls_back_and_propagates(
        self, uow: Callable[[], UnitOfWork], repository: str
    ) -> None:
        class Boom(Exception):
            pass

        def fail_midway() -> None:
            with uow() as work:
                _repository(work, repository).add("K-1", SAMPLES[repository]("K-1", "10.00"))
                work.sequences.next("INV")
                raise Boom

        with pytest.raises(Boom):
            fail_midway()
        with uow() as work:
            assert _repository(work, repository).find("K-1") is None
            assert work.sequences.next("INV") == 1

    def test_rollback_forgets_what_was_not_committed(
        self, uow: Callable[[], UnitOfWork], repository: str
    ) -> None:
        build = SAMPLES[repository]
        with uow() as work:
            _repository(work, repository).add("K-1", build("K-1", "10.00"))
            work.commit()
            _repository(work, repository).save("K-1", build("K-1", "99.00"))
            _repository(work, repository).add("K-2", build("K-2", "20.00"))
            work.commands.remember("cmd-1", "done")
            work.rollback()
            assert _repository(work, repository).get("K-1") == build("K-1", "10.00")
            assert _repository(work, repository).find("K-2") is None
            assert work.commands.recall("cmd-1") is None

    @requires("concurrent_units")
    def test_writes_are_invisible_to_others_until_commit(
        self, uow: Callable[[], UnitOfWork], repository: str
    ) -> None:
        value = SAMPLES[repository]("K-1", "10.00")
        with uow() as writer, uow() as reader:
            _repository(writer, repository).add("K-1", value)
            assert _repository(reader, repository).find("K-1") is None
            writer.commit()
        with uow() as later:
            assert _repository(later, repository).get("K-1") == value

    # --- numbers and idempotency records ------------------------------------------------------

    def test_numbers_start_at_one_and_have_no_gaps(self, uow: Callable[[], UnitOfWork]) -> None:
        with uow() as work:
            assert [work.sequences.next("INV") for _ in range(3)] == [1, 2, 3]
            assert work.sequences.next("CN") == 1
            work.commit()
        with uow() as work:
            assert work.sequences.next("INV") == 4
            assert work.sequences.next("CN") == 2

    def test_a_number_drawn_in_a_rolled_back_unit_is_handed_out_again(
        self, uow: Callable[[], UnitOfWork]
    ) -> None:
        with uow() as work:
            assert work.sequences.next("INV") == 1
            work.commit()
        with uow() as work:
            assert work.sequences.next("INV") == 2
            work.rollback()
            assert work.sequences.next("INV") == 2
            work.commit()
        with uow() as work:
            assert work.sequences.next("INV") == 3

    def test_idempotency_records_commit_with_the_work(self, uow: Callable[[], UnitOfWork]) -> None:
        with uow() as work:
            assert work.commands.recall("cmd-1") is None
            work.commands.remember("cmd-1", "INV-000001")
            assert work.commands.recall("cmd-1") == "INV-000001"
            work.commit()
        with uow() as work:
            assert work.commands.recall("cmd-1") == "INV-000001"
            work.commands.remember("cmd-2", "INV-000002")
            work.rollback()
            assert work.commands.recall("cmd-2") is None

    def test_committed_numbers_are_gap_free_whatever_rolls_back(
        self, make_unit_of_work: UnitOfWorkFactory
    ) -> None:
        """Units of work that draw numbers and then commit or roll back: the numbers of the
        committed ones are exactly 1..n per series, each issued once."""
        unit = st.tuples(st.lists(st.sampled_from(("INV", "CN")), max_size=4), st.booleans())

        def check(units: Sequence[tuple[Sequence[str], bool]]) -> None:
            factory = make_unit_of_work()
            issued: dict[str, list[int]] = {"INV": [], "CN": []}
            for series_drawn, commit in units:
                with factory() as work:
                    drawn = [(series, work.sequences.next(series)) for series in series_drawn]
                    if commit:
                        work.commit()
                        for series, number in drawn:
                            issued[series].append(number)
            for numbers in issued.values():
                assert numbers == list(range(1, len(numbers) + 1))

        run_property(st.lists(unit, max_size=8), check)
