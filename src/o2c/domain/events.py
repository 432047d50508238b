"""Domain events: facts, named in the past tense, that domain operations return.

A domain operation takes the current state (and the business date or time it happens at) and returns
a :class:`Changed`: the new state and the events it produced. The domain never publishes anything;
the application layer stores the new state and hands the events on after it commits.
"""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

__all__ = ["Changed", "DomainEvent"]

T = TypeVar("T")


class DomainEvent:
    """Base of every domain event. Subclasses are ``@attrs.frozen`` and named in the past tense."""

    __slots__ = ()


class Changed(NamedTuple, Generic[T]):
    """What a domain operation returns: the new state and the events it produced.

    Unpacks like a pair: ``order, events = order.place(on=today)``.
    """

    state: T
    events: tuple[DomainEvent, ...]
