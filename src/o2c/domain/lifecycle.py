"""Lifecycles as data: a state ``Enum``, a trigger ``Enum`` and a read-only transition table.

Every lifecycle in o2c (quote, order, credit account, invoice, payment, receipt, dunning case) is
a :class:`Lifecycle` value. :meth:`Lifecycle.next_state` is the one pure function that moves an
entity: it returns the next state or raises :class:`~o2c.domain.errors.IllegalTransition` naming
the entity, the state, the trigger and the triggers that *are* allowed. Guards (amount checks and
the like) stay plain functions in the entity's module; the table only says which moves exist.

Each table can be printed as text (:meth:`Lifecycle.table`) or as a Mermaid state diagram
(:meth:`Lifecycle.mermaid`); the documentation is generated from these, so it cannot drift.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Generic, TypeVar

import attrs

from o2c.domain.errors import IllegalTransition

__all__ = ["Lifecycle", "Transition"]

S = TypeVar("S", bound=enum.Enum)
T = TypeVar("T", bound=enum.Enum)


@attrs.frozen
class Transition(Generic[S, T]):
    """One allowed move: in state ``source``, ``trigger`` leads to ``target``."""

    source: S
    trigger: T
    target: S


def _index(transitions: tuple[Transition[S, T], ...]) -> Mapping[tuple[S, T], S]:
    table: dict[tuple[S, T], S] = {}
    for transition in transitions:
        key = (transition.source, transition.trigger)
        if key in table and table[key] != transition.target:
            raise ValueError(f"ambiguous transition {key}: {table[key]} or {transition.target}")
        table[key] = transition.target
    return MappingProxyType(table)


@attrs.frozen
class Lifecycle(Generic[S, T]):
    """A named state machine: states, triggers and the read-only table of allowed transitions."""

    entity: str
    """What moves through it, as a person says it: ``"order"``, ``"invoice"``."""
    initial: S
    transitions: tuple[Transition[S, T], ...]
    _table: Mapping[tuple[S, T], S] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_table", _index(self.transitions))

    @classmethod
    def of(
        cls, entity: str, initial: S, moves: Iterable[tuple[S | Iterable[S], T, S]]
    ) -> Lifecycle[S, T]:
        """Build from ``(source or sources, trigger, target)`` rows, the way a table is read."""
        transitions = tuple(
            Transition(source, trigger, target)
            for sources, trigger, target in moves
            for source in ((sources,) if isinstance(sources, enum.Enum) else sources)
        )
        return cls(entity, initial, transitions)

    def next_state(self, state: S, trigger: T, *, entity_id: str | None = None) -> S:
        """The state that ``trigger`` leads to from ``state``, or :class:`IllegalTransition`."""
        target = self._table.get((state, trigger))
        if target is None:
            raise IllegalTransition(
                entity=self.entity,
                entity_id=entity_id,
                state=_label(state),
                trigger=_label(trigger),
                allowed=tuple(_label(t) for t in self.allowed(state)),
            )
        return target

    def can(self, state: S, trigger: T) -> bool:
        """Whether ``trigger`` is allowed in ``state``."""
        return (state, trigger) in self._table

    def allowed(self, state: S) -> tuple[T, ...]:
        """The triggers allowed in ``state``, in table order."""
        return tuple(t.trigger for t in self.transitions if t.source == state)

    @property
    def states(self) -> tuple[S, ...]:
        """Every state of the lifecycle, in the order of its ``Enum``."""
        return tuple(type(self.initial))

    @property
    def final_states(self) -> tuple[S, ...]:
        """States with no way out."""
        sources = {t.source for t in self.transitions}
        return tuple(s for s in self.states if s not in sources)

    def table(self) -> str:
        """The transition table as aligned plain text (state, trigger, next state)."""
        rows = [("state", "trigger", "next state")]
        rows += [(_label(t.source), _label(t.trigger), _label(t.target)) for t in self.transitions]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def markdown(self) -> str:
        """The transition table as a Markdown table."""
        lines = ["| state | trigger | next state |", "|---|---|---|"]
        lines += [
            f"| {_label(t.source)} | {_label(t.trigger)} | {_label(t.target)} |"
            for t in self.transitions
        ]
        return "\n".join(lines)

    def mermaid(self) -> str:
        """A Mermaid ``stateDiagram-v2`` of the lifecycle."""
        lines = ["stateDiagram-v2", f"    [*] --> {_label(self.initial)}"]
        lines += [
            f"    {_label(t.source)} --> {_label(t.target)}: {_label(t.trigger)}"
            for t in self.transitions
        ]
        lines += [f"    {_label(s)} --> [*]" for s in self.final_states]
        return "\n".join(lines)


def _label(member: enum.Enum) -> str:
    return member.value if isinstance(member.value, str) else member.name.lower()
