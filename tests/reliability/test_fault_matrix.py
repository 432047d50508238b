"""Every fault injected into the cycle ends consistent (see ``fault_matrix.py`` for the checks).

The full matrix breaks every port call of the cycle in every way on the memory store. On SQLite,
where a run costs several times more, a deterministic sample: every second call (and the first
call of each operation the stride skips) is broken once, the kind of fault turning from one to
the next (call 1 unavailable, call 3 rejected, call 5 a crash, call 7 a lost answer, call 9
unavailable again, …); ``fault_matrix.py --store sqlite`` runs the full matrix there. Run
with ``-s`` to see the counts; ``python tests/reliability/fault_matrix.py --details`` lists every
inconsistent run.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import fault_matrix
import pytest
from fault_matrix import Matrix, details, one_run, run_matrix, summary

from o2c.testing.faults import FaultKind, FaultPlan


def _report(matrix: Matrix) -> str:
    return f"{summary(matrix)}\n{details(matrix)}"


def test_the_dry_run_of_the_cycle_is_consistent() -> None:
    plan = FaultPlan.dry_run()
    _, outcomes, broken = one_run("memory", plan, None)
    assert broken == {}
    assert all(outcome.completed for outcome in outcomes)
    assert plan.injected == ()
    operations = {call.operation for call in plan.calls}
    # the cycle reaches every port the harness wraps
    assert {
        "inventory.reserve",
        "inventory.commit",
        "carrier.book",
        "carrier.track",
        "payment_gateway.authorise",
        "payment_gateway.capture",
        "payment_gateway.refund",
        "payment_gateway.fetch_status",
        "payment_gateway.void",
        "inventory.release",
        "ledger.post_batch",
        "notifier.send",
        "unit_of_work.commit",
        "plugin.o2c_domain_event",
        "relay.publish",
    } <= operations


@pytest.mark.parametrize(
    ("operation", "kind"),
    [
        # Faults the services already survive: a refusal or outage before the call leaves,
        # where the command simply rolls back and its retry does the work once.
        ("inventory.reserve", FaultKind.UNAVAILABLE),
        ("carrier.quote", FaultKind.REJECTED),
        ("payment_gateway.capture", FaultKind.UNAVAILABLE),
        ("payment_gateway.authorise", FaultKind.CRASH),
        ("unit_of_work.commit", FaultKind.UNAVAILABLE),
    ],
)
def test_a_fault_the_services_survive_today_ends_consistent(
    operation: str, kind: FaultKind
) -> None:
    dry = FaultPlan.dry_run()
    one_run("memory", dry, None)
    number = next(call.number for call in dry.calls if call.operation == operation)
    matrix = run_matrix("memory", numbers=[number], kinds=[kind])
    (run,) = matrix.runs
    assert run.operation == operation
    assert run.broken == {}, _report(matrix)


def test_a_run_names_the_call_it_broke_and_the_step_that_made_it() -> None:
    dry = FaultPlan.dry_run()
    one_run("memory", dry, None)
    number = next(call.number for call in dry.calls if call.operation == "inventory.commit")
    matrix = run_matrix("memory", numbers=[number], kinds=[FaultKind.LOST_ANSWER])
    (run,) = matrix.runs
    assert (run.number, run.kind) == (number, FaultKind.LOST_ANSWER)
    assert run.operation == "inventory.commit"
    assert run.step == "ship_order SO-1"
    assert matrix.calls == len(dry.calls)


def test_every_fault_in_the_cycle_ends_consistent_in_memory() -> None:
    matrix = run_matrix("memory")
    print(f"\n{summary(matrix)}")
    assert matrix.dry_run_broken == {}
    assert len(matrix.runs) == matrix.calls * len(FaultKind)
    assert matrix.inconsistent == (), _report(matrix)


SQLITE_EVERY = 2
"""On SQLite every second call is broken (and the first call of each operation it skips)."""


def test_every_fault_in_the_cycle_ends_consistent_on_sqlite() -> None:
    pytest.importorskip("sqlalchemy", reason="the SQL store needs the sql extra")
    matrix = run_matrix("sqlite", rotate=True, every=SQLITE_EVERY)
    print(f"\n{summary(matrix)}")
    assert matrix.dry_run_broken == {}
    assert len(matrix.runs) == len(matrix.numbers) >= matrix.calls // SQLITE_EVERY
    dry = FaultPlan.dry_run()
    one_run("sqlite", dry, None)
    assert {call.operation for call in dry.calls} == {
        dry.calls[number - 1].operation for number in matrix.numbers
    }  # every operation of the cycle is broken at least once
    assert matrix.inconsistent == (), _report(matrix)


class _Janitor:
    def __init__(self, deliver: object) -> None:
        self.ages: list[timedelta] = []
        self.deliver = deliver

    def run(self, *, older_than: timedelta) -> None:
        self.ages.append(older_than)


class _Outbox:
    def __init__(self) -> None:
        self.runs = 0

    def deliver(self) -> int:
        self.runs += 1
        return 0


def test_the_janitor_settles_every_open_call_and_the_outbox_is_delivered_once() -> None:
    outbox = _Outbox()
    unwired = SimpleNamespace(janitor=_Janitor(None), outbox=outbox)
    fault_matrix.janitor(unwired)  # type: ignore[arg-type]
    assert (unwired.janitor.ages, outbox.runs) == ([timedelta(0)], 1)
    # Once the janitor delivers the outbox itself, the scenario does not deliver it again.
    wired = SimpleNamespace(janitor=_Janitor(outbox.deliver), outbox=outbox)
    fault_matrix.janitor(wired)  # type: ignore[arg-type]
    assert (wired.janitor.ages, outbox.runs) == ([timedelta(0)], 1)
    bare = SimpleNamespace(janitor=_Janitor(None))  # no outbox yet: the janitor only
    fault_matrix.janitor(bare)  # type: ignore[arg-type]
    assert bare.janitor.ages == [timedelta(0)]


def test_after_a_fault_the_janitor_runs_before_the_cycle_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    swept: list[int] = []
    monkeypatch.setattr(fault_matrix, "janitor", lambda services: swept.append(1))
    dry = FaultPlan.dry_run()
    one_run("memory", dry, None)
    assert len(swept) == 1  # the closing sweep only
    swept.clear()
    number = next(call.number for call in dry.calls if call.operation == "carrier.book")
    one_run("memory", FaultPlan.single(number, FaultKind.UNAVAILABLE), None)
    assert len(swept) == 2  # after the retried shipment, and the closing sweep
