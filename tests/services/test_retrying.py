"""``retrying``: a command that lost a race runs again, with growing and capped waits between."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest
from o2c.services import retrying


class FakeSleep:
    """Records each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def failing(times: int, error: Exception, result: str = "done") -> Callable[[], str]:
    """A call that raises ``error`` the first ``times`` calls, then returns ``result``."""
    calls = {"count": 0}

    def call() -> str:
        calls["count"] += 1
        if calls["count"] <= times:
            raise error
        return result

    call.calls = calls  # type: ignore[attr-defined]
    return call


def busy() -> AdapterUnavailable:
    return AdapterUnavailable("sql", "changed meanwhile; run the command again")


def test_retries_then_succeeds() -> None:
    sleep = FakeSleep()
    call = failing(2, busy())
    assert retrying(call, attempts=5, sleep=sleep) == "done"
    assert call.calls["count"] == 3  # type: ignore[attr-defined]
    assert len(sleep.waits) == 2


def test_gives_up_after_the_attempts_and_raises_the_last_error() -> None:
    sleep = FakeSleep()
    error = busy()
    call = failing(10, error)
    with pytest.raises(AdapterUnavailable) as raised:
        retrying(call, attempts=4, sleep=sleep)
    assert raised.value is error
    assert call.calls["count"] == 4  # type: ignore[attr-defined]
    assert len(sleep.waits) == 3  # no wait after the last attempt


@pytest.mark.parametrize(
    "error",
    [
        AdapterRejected("sql", "refused", "database_error"),
        DuplicateRequest("sql", "taken", "K-1"),
        ValueError("a bug"),
    ],
    ids=["rejected", "duplicate", "other"],
)
def test_never_retries_an_error_that_is_not_retryable(error: Exception) -> None:
    sleep = FakeSleep()
    call = failing(1, error)
    with pytest.raises(type(error)):
        retrying(call, sleep=sleep, on=(AdapterUnavailable, AdapterRejected, DuplicateRequest))
    assert call.calls["count"] == 1  # type: ignore[attr-defined]
    assert sleep.waits == []


def test_an_error_of_the_listed_types_marked_final_is_not_retried() -> None:
    class Final(Exception):
        retryable = False

    sleep = FakeSleep()
    call = failing(1, Final("gone for good"))
    with pytest.raises(Final):
        retrying(call, sleep=sleep, on=(Final,))
    assert sleep.waits == []


def test_backoff_grows_and_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    # Take the longest wait each time, so the limits themselves show.
    monkeypatch.setattr("o2c.services.retry.random.uniform", lambda low, high: high)
    sleep = FakeSleep()
    with pytest.raises(AdapterUnavailable):
        retrying(failing(99, busy()), attempts=8, first_delay=0.01, max_delay=0.1, sleep=sleep)
    assert sleep.waits == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.1, 0.1, 0.1])


def test_waits_are_jittered_below_their_limit() -> None:
    sleep = FakeSleep()
    with pytest.raises(AdapterUnavailable):
        retrying(failing(99, busy()), attempts=30, first_delay=0.01, max_delay=0.5, sleep=sleep)
    limits = [min(0.01 * 2**n, 0.5) for n in range(29)]
    assert all(0 <= wait <= limit for wait, limit in zip(sleep.waits, limits, strict=True))
    assert len(set(sleep.waits)) > 1


def test_as_a_decorator_it_retries_every_call_with_its_arguments() -> None:
    sleep = FakeSleep()
    seen: list[tuple[str, int]] = []

    @retrying(attempts=3, sleep=sleep)
    def invoice(order_id: str, *, copies: int) -> str:
        seen.append((order_id, copies))
        if len(seen) < 3:
            raise busy()
        return f"{order_id} x{copies}"

    assert invoice("SO-1", copies=2) == "SO-1 x2"
    assert seen == [("SO-1", 2)] * 3
    assert invoice.__name__ == "invoice"


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="attempt"):
        retrying(lambda: None, attempts=0)
    with pytest.raises(ValueError, match="negative"):
        retrying(lambda: None, first_delay=-1)
