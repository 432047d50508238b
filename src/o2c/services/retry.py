"""Running a command again when it lost a race: :func:`retrying`.

Many processes may work on one book. When two units of work change the same value, the store
refuses the later commit with the retryable :class:`~o2c.ports.errors.AdapterUnavailable`, and so
do a lock held too long or a server briefly out of reach. Every command takes an idempotency key,
so running the same call again is safe: if the first attempt committed after all, the retry
returns its remembered result and changes nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar, overload

from o2c.ports.errors import AdapterUnavailable

__all__ = ["retrying"]

P = ParamSpec("P")
R = TypeVar("R")

Sleep = Callable[[float], None]


def _delays(attempts: int, first_delay: float, max_delay: float) -> list[float]:
    """The longest wait before each retry: doubling from ``first_delay``, at most ``max_delay``."""
    return [min(first_delay * 2**retry, max_delay) for retry in range(attempts - 1)]


def _is_retryable(error: BaseException) -> bool:
    # An error family may mark single members as final (AdapterError.retryable).
    return bool(getattr(error, "retryable", True))


def _run(
    call: Callable[[], R],
    *,
    attempts: int,
    first_delay: float,
    max_delay: float,
    on: tuple[type[BaseException], ...],
    sleep: Sleep,
) -> R:
    delays = _delays(attempts, first_delay, max_delay)
    for longest in delays:
        try:
            return call()
        except on as error:
            if not _is_retryable(error):
                raise
        # Full jitter: processes that collided once do not collide again in step.
        sleep(random.uniform(0, longest))
    return call()


@overload
def retrying(
    call: Callable[[], R],
    *,
    attempts: int = ...,
    first_delay: float = ...,
    max_delay: float = ...,
    on: tuple[type[BaseException], ...] = ...,
    sleep: Sleep = ...,
) -> R: ...


@overload
def retrying(
    call: None = None,
    *,
    attempts: int = ...,
    first_delay: float = ...,
    max_delay: float = ...,
    on: tuple[type[BaseException], ...] = ...,
    sleep: Sleep = ...,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def retrying(
    call: Callable[[], R] | None = None,
    *,
    attempts: int = 5,
    first_delay: float = 0.01,
    max_delay: float = 0.5,
    on: tuple[type[BaseException], ...] = (AdapterUnavailable,),
    sleep: Sleep = time.sleep,
) -> R | Callable[[Callable[P, R]], Callable[P, R]]:
    """Run ``call()``, running it again after a retryable error; or decorate a function so.

    ``retrying(lambda: services.billing.invoice_order("SO-1", idempotency_key="inv-SO-1"))``
    makes up to ``attempts`` calls. After a failed one it waits a random time up to a limit
    that starts at ``first_delay`` seconds and doubles each time, never above ``max_delay``, then
    calls again. Only errors of the types ``on`` are retried, and of those only the ones whose
    ``retryable`` attribute (if they have one) is true; anything else, and the last error once
    the attempts are spent, is raised as it is. ``sleep`` waits (tests pass a fake).

    As a decorator, ``@retrying(attempts=3)`` retries every call of the decorated function.

    Retrying a command is safe because every command takes an idempotency key: a call that
    committed before its error reached you (a lost connection after the commit, say) is not run
    twice; its retry returns the first result. Pass the same key on every attempt.
    """
    if attempts < 1:
        raise ValueError("retrying needs at least one attempt")
    if first_delay < 0 or max_delay < 0:
        raise ValueError("retry delays cannot be negative")
    if call is not None:
        return _run(
            call,
            attempts=attempts,
            first_delay=first_delay,
            max_delay=max_delay,
            on=on,
            sleep=sleep,
        )

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @wraps(function)
        def retried(*args: P.args, **kwargs: P.kwargs) -> R:
            return _run(
                lambda: function(*args, **kwargs),
                attempts=attempts,
                first_delay=first_delay,
                max_delay=max_delay,
                on=on,
                sleep=sleep,
            )

        return retried

    return decorate
