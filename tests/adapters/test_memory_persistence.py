"""The in-memory store and its units of work: write sets, atomic commit, rollback, numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.adapters.memory import MemoryStore, MemoryUnitOfWork
from o2c.domain.customers import Customer
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest, NotFound


def customer(customer_id: str, name: str = "Acme") -> Customer:
    return Customer(customer_id, name, "EUR")


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def names(uow: MemoryUnitOfWork) -> list[str]:
    return [c.name for c in uow.customers.values()]


# --- repositories -------------------------------------------------------------------------------


def test_get_find_add_save(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.add("C-1", customer("C-1"))
        assert uow.customers.get("C-1").name == "Acme"
        uow.customers.save("C-1", customer("C-1", "Acme GmbH"))
        assert uow.customers.get("C-1").name == "Acme GmbH"
        assert uow.customers.find("C-2") is None
        with pytest.raises(NotFound) as caught:
            uow.customers.get("C-2")
        assert caught.value.key == "C-2"
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.customers.get("C-1").name == "Acme GmbH"


def test_add_refuses_a_taken_key(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.add("C-1", customer("C-1"))
        with pytest.raises(DuplicateRequest):
            uow.customers.add("C-1", customer("C-1"))
        uow.commit()
    with store.unit_of_work() as uow, pytest.raises(DuplicateRequest) as caught:
        uow.customers.add("C-1", customer("C-1"))
    assert caught.value.key == "C-1"


def test_values_merge_store_and_write_set_in_insertion_order(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        for key in ("C-1", "C-2", "C-3"):
            uow.customers.add(key, customer(key, key))
        uow.commit()
    with store.unit_of_work() as uow:
        uow.customers.add("C-4", customer("C-4", "C-4"))
        uow.customers.save("C-2", customer("C-2", "C-2 renamed"))
        uow.customers.save("C-0", customer("C-0", "C-0"))
        assert names(uow) == ["C-1", "C-2 renamed", "C-3", "C-4", "C-0"]
        assert len(uow.customers) == 5
        uow.commit()
    with store.unit_of_work() as uow:
        assert names(uow) == ["C-1", "C-2 renamed", "C-3", "C-4", "C-0"]


def test_remove(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.add("C-1", customer("C-1", "one"))
        uow.customers.add("C-2", customer("C-2", "two"))
        uow.commit()
    with store.unit_of_work() as uow:
        uow.customers.remove("C-1")
        uow.customers.remove("C-9")
        assert uow.customers.find("C-1") is None
        with pytest.raises(NotFound):
            uow.customers.get("C-1")
        assert names(uow) == ["two"]
        assert len(uow.customers) == 1
        uow.customers.add("C-1", customer("C-1", "one again"))
        assert len(uow.customers) == 2
        uow.customers.remove("C-1")
        uow.commit()
    assert store.sizes()["customers"] == 1
    with store.unit_of_work() as uow:
        uow.customers.add("C-3", customer("C-3"))
        uow.customers.remove("C-3")
        assert len(uow.customers) == 1
        uow.commit()
    assert store.sizes()["customers"] == 1


# --- isolation, commit and rollback ------------------------------------------------------------


def test_writes_are_invisible_to_others_until_commit(store: MemoryStore) -> None:
    writer = store.unit_of_work()
    reader = store.unit_of_work()
    writer.customers.add("C-1", customer("C-1"))
    assert reader.customers.find("C-1") is None
    assert len(reader.customers) == 0
    writer.commit()
    assert reader.customers.get("C-1").name == "Acme"


def test_leaving_without_commit_rolls_everything_back(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.add("C-1", customer("C-1"))
        assert uow.sequences.next("INV") == 1
        uow.commands.remember("cmd-1", "INV-1")
    with store.unit_of_work() as uow:
        assert uow.customers.find("C-1") is None
        assert uow.sequences.next("INV") == 1
        assert uow.commands.recall("cmd-1") is None
    assert store.commits == 0


def test_an_exception_rolls_back(store: MemoryStore) -> None:
    def failing_command() -> None:
        with store.unit_of_work() as uow:
            uow.customers.add("C-1", customer("C-1"))
            uow.sequences.next("INV")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_command()
    with store.unit_of_work() as uow:
        assert len(uow.customers) == 0
        assert uow.sequences.next("INV") == 1


def test_explicit_rollback_then_reuse(store: MemoryStore) -> None:
    uow = store.unit_of_work()
    uow.customers.add("C-1", customer("C-1"))
    uow.rollback()
    assert uow.customers.find("C-1") is None
    uow.customers.add("C-2", customer("C-2"))
    uow.commit()
    assert store.sizes()["customers"] == 1


def test_commit_applies_everything_together(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        number = uow.sequences.next("INV")
        uow.customers.add("C-1", customer("C-1"))
        uow.commands.remember("cmd-1", f"INV-{number}")
        uow.commit()
    assert store.last_number("INV") == 1
    assert store.sizes()["customers"] == 1
    with store.unit_of_work() as uow:
        assert uow.commands.recall("cmd-1") == "INV-1"


# --- numbers and idempotency records -----------------------------------------------------------


def test_numbers_are_gap_free_per_series(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        assert [uow.sequences.next("INV") for _ in range(3)] == [1, 2, 3]
        assert uow.sequences.next("CN") == 1
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.sequences.next("INV") == 4
        # rolled back: 4 will be handed out again
    with store.unit_of_work() as uow:
        assert uow.sequences.next("INV") == 4
        uow.commit()
    assert store.last_number("INV") == 4
    with store.unit_of_work() as uow, pytest.raises(AdapterRejected):
        uow.sequences.next("")


def test_remember_is_idempotent_and_refuses_another_result(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        uow.commands.remember("cmd-1", "ok")
        uow.commands.remember("cmd-1", "ok")
        with pytest.raises(DuplicateRequest):
            uow.commands.remember("cmd-1", "different")
        uow.commit()
    with store.unit_of_work() as uow, pytest.raises(DuplicateRequest):
        uow.commands.remember("cmd-1", "different")


# --- concurrency (optimistic) ------------------------------------------------------------------


def test_concurrent_number_draws_cannot_both_commit(store: MemoryStore) -> None:
    first, second = store.unit_of_work(), store.unit_of_work()
    assert first.sequences.next("INV") == 1
    assert second.sequences.next("INV") == 1
    first.commit()
    with pytest.raises(AdapterUnavailable) as caught:
        second.commit()
    assert caught.value.retryable
    second.rollback()
    assert second.sequences.next("INV") == 2


def test_lost_updates_are_refused(store: MemoryStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.add("C-1", customer("C-1"))
        uow.commit()
    first, second = store.unit_of_work(), store.unit_of_work()
    first.customers.save("C-1", customer("C-1", "first"))
    second.customers.save("C-1", customer("C-1", "second"))
    first.commit()
    with pytest.raises(AdapterUnavailable):
        second.commit()
    assert store.unit_of_work().customers.get("C-1").name == "first"


def test_racing_adds_of_one_key(store: MemoryStore) -> None:
    first, second = store.unit_of_work(), store.unit_of_work()
    first.customers.add("C-1", customer("C-1", "first"))
    second.customers.add("C-1", customer("C-1", "second"))
    second.customers.add("C-2", customer("C-2"))
    first.commit()
    with pytest.raises(DuplicateRequest):
        second.commit()
    assert store.sizes()["customers"] == 1


def test_racing_commands(store: MemoryStore) -> None:
    first, second = store.unit_of_work(), store.unit_of_work()
    first.commands.remember("cmd", "a")
    second.commands.remember("cmd", "a")
    first.commit()
    with pytest.raises(AdapterUnavailable):
        second.commit()


def test_unrelated_concurrent_work_commits(store: MemoryStore) -> None:
    first, second = store.unit_of_work(), store.unit_of_work()
    first.customers.add("C-1", customer("C-1"))
    second.customers.add("C-2", customer("C-2"))
    second.sequences.next("CN")
    first.sequences.next("INV")
    first.commit()
    second.commit()
    assert store.sizes()["customers"] == 2


def test_a_unit_of_work_without_a_store_makes_its_own() -> None:
    uow = MemoryUnitOfWork()
    uow.customers.add("C-1", customer("C-1"))
    uow.commit()
    assert uow.store.sizes()["customers"] == 1


# --- model-based property ----------------------------------------------------------------------

steps = st.lists(
    st.tuples(
        st.sampled_from(["save", "add", "remove", "draw", "commit", "rollback"]),
        st.integers(min_value=0, max_value=4),
    ),
    max_size=40,
)


@given(steps)
def test_behaves_like_a_dictionary_with_transactions(program: list[tuple[str, int]]) -> None:
    store = MemoryStore()
    uow = store.unit_of_work()
    committed: dict[str, str] = {}
    pending = dict(committed)
    committed_number = drawn = 0
    for step, (action, which) in enumerate(program):
        key = f"C-{which}"
        if action == "save":
            uow.customers.save(key, customer(key, f"v{step}"))
            pending[key] = f"v{step}"
        elif action == "add":
            if key in pending:
                with pytest.raises(DuplicateRequest):
                    uow.customers.add(key, customer(key))
            else:
                uow.customers.add(key, customer(key, f"v{step}"))
                pending[key] = f"v{step}"
        elif action == "remove":
            uow.customers.remove(key)
            pending.pop(key, None)
        elif action == "draw":
            drawn += 1
            assert uow.sequences.next("INV") == committed_number + drawn
        elif action == "commit":
            uow.commit()
            committed = dict(pending)
            committed_number += drawn
            drawn = 0
        else:
            uow.rollback()
            pending = dict(committed)
            drawn = 0
        assert len(uow.customers) == len(pending)
        assert sorted(c.name for c in uow.customers.values()) == sorted(pending.values())
        for probe in range(5):
            found = uow.customers.find(f"C-{probe}")
            assert (found.name if found else None) == pending.get(f"C-{probe}")
        fresh = store.unit_of_work()
        assert sorted(c.name for c in fresh.customers.values()) == sorted(committed.values())
    assert store.last_number("INV") == committed_number
