"""The generic lifecycle mechanism: tables as data, one pure transition function."""

from __future__ import annotations

import enum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.errors import IllegalTransition
from o2c.domain.lifecycle import Lifecycle, Transition


class Door(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"
    GONE = "gone"


class Act(enum.Enum):
    CLOSE = "close"
    OPEN = "open"
    LOCK = "lock"
    UNLOCK = "unlock"
    REMOVE = "remove"


DOOR = Lifecycle.of(
    "door",
    Door.OPEN,
    [
        (Door.OPEN, Act.CLOSE, Door.CLOSED),
        (Door.CLOSED, Act.OPEN, Door.OPEN),
        (Door.CLOSED, Act.LOCK, Door.LOCKED),
        (Door.LOCKED, Act.UNLOCK, Door.CLOSED),
        ((Door.OPEN, Door.CLOSED), Act.REMOVE, Door.GONE),
    ],
)


def test_next_state_follows_the_table() -> None:
    assert DOOR.next_state(Door.OPEN, Act.CLOSE) == Door.CLOSED
    assert DOOR.next_state(Door.CLOSED, Act.REMOVE) == Door.GONE
    assert DOOR.can(Door.CLOSED, Act.LOCK)
    assert not DOOR.can(Door.OPEN, Act.LOCK)


def test_illegal_transition_names_entity_state_trigger_and_allowed() -> None:
    with pytest.raises(IllegalTransition) as caught:
        DOOR.next_state(Door.LOCKED, Act.OPEN, entity_id="front")
    error = caught.value
    assert (error.entity, error.entity_id, error.state, error.trigger) == (
        "door",
        "front",
        "locked",
        "open",
    )
    assert error.allowed == ("unlock",)
    assert str(error) == "door front cannot 'open' while 'locked'; allowed: unlock"


def test_final_state_allows_nothing() -> None:
    assert DOOR.final_states == (Door.GONE,)
    with pytest.raises(IllegalTransition, match="final state"):
        DOOR.next_state(Door.GONE, Act.OPEN)


def test_ambiguous_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        Lifecycle(
            "door",
            Door.OPEN,
            (
                Transition(Door.OPEN, Act.CLOSE, Door.CLOSED),
                Transition(Door.OPEN, Act.CLOSE, Door.GONE),
            ),
        )


def test_tables_print_as_text_markdown_and_mermaid() -> None:
    text = DOOR.table()
    assert text.splitlines()[0].split() == ["state", "trigger", "next", "state"]
    assert "locked  unlock   closed" in text
    assert "| closed | lock | locked |" in DOOR.markdown()
    mermaid = DOOR.mermaid()
    assert mermaid.startswith("stateDiagram-v2\n    [*] --> open")
    assert "    closed --> locked: lock" in mermaid
    assert mermaid.endswith("    gone --> [*]")


@given(st.sampled_from(list(Door)), st.sampled_from(list(Act)))
def test_next_state_raises_exactly_when_the_table_has_no_row(state: Door, trigger: Act) -> None:
    if DOOR.can(state, trigger):
        assert DOOR.next_state(state, trigger) in DOOR.states
    else:
        with pytest.raises(IllegalTransition):
            DOOR.next_state(state, trigger)
        assert trigger not in DOOR.allowed(state)
