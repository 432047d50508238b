"""Statement import end to end: camt files in, receipts, returns and bank fees out, once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from services_world import PARCEL, World, eur, widget_line

from o2c.adapters.statements import read_statements
from o2c.adapters.statements.camt import render_camt053
from o2c.domain.money import Money
from o2c.domain.receipts import ReceiptState
from o2c.domain.statements import (
    BankStatement,
    BankTransactionCode,
    Direction,
    EntryStatus,
    StatementEntry,
    StatementKind,
    StatementUnbalanced,
    Transaction,
    plan_statement,
)

pytest.importorskip("lxml")

ACCOUNT = "DE02120300000000202051"


def _invoice(world: World, order: str = "SO-1") -> str:
    s = world.services
    s.orders.place_order(order, "C-1", [widget_line()], idempotency_key=world.key())
    s.orders.ship_order(order, PARCEL, idempotency_key=world.key())
    return s.billing.invoice_order(order, idempotency_key=world.key()).invoice_number


def _entry(
    position: int,
    amount: str,
    direction: Direction = Direction.CREDIT,
    *,
    reference: str = "",
    e2e: str = "",
    bank_ref: str = "",
    code: BankTransactionCode | None = None,
    reversal: bool = False,
    reason: str = "",
    day: date = date(2026, 3, 2),
) -> StatementEntry:
    return StatementEntry(
        position=position,
        amount=eur(amount),
        direction=direction,
        booking_date=day,
        value_date=day,
        reversal=reversal,
        bank_reference=bank_ref,
        code=code or BankTransactionCode(),
        transactions=(
            Transaction(
                payer_name="Customer One",
                payer_account="DE89370400440532013000",
                remittance=f"payment {reference}",
                reference=reference,
                end_to_end_id=e2e,
                return_reason=reason,
            ),
        ),
    )


def _statement(statement_id: str, opening: str, *entries: StatementEntry) -> BankStatement:
    total = sum((e.signed for e in entries), eur("0.00"))
    return BankStatement(
        source="test",
        statement_id=statement_id,
        account=ACCOUNT,
        currency="EUR",
        kind=StatementKind.STATEMENT,
        entries=entries,
        opening=eur(opening),
        closing=eur(opening) + total,
    )


def _write(tmp_path: Path, name: str, statement: BankStatement) -> str:
    path = tmp_path / name
    path.write_text("".join(render_camt053(statement, created=date(2026, 3, 2))))
    return str(path)


def test_each_kind_of_line_becomes_the_right_thing(world: World, tmp_path: Path) -> None:
    world.customer()
    invoice = _invoice(world)
    fee = BankTransactionCode("ACMT", "MDOP", "CHRG")
    statement = _statement(
        "S-1",
        "1000.00",
        _entry(1, "119.00", reference=invoice, e2e="E2E-1", bank_ref="B-1"),
        _entry(2, "2.50", Direction.DEBIT, bank_ref="B-2", code=fee),
        _entry(3, "40.00", Direction.DEBIT, bank_ref="B-3"),
    )
    path = _write(tmp_path, "s1.xml", statement)
    report = world.services.statements.import_statements(
        read_statements(path), idempotency_key="s1"
    )
    assert len(report.matched) == 1
    assert len(report.fees) == 1
    assert len(report.outgoing) == 1
    assert world.open_total() == eur("0.00")

    # The payment comes back (AC04: account closed): the receipt is reversed, the invoice reopens.
    back = _statement(
        "S-2",
        "1076.50",
        _entry(
            1, "119.00", Direction.DEBIT, e2e="E2E-1", bank_ref="B-4", reversal=True, reason="AC04"
        ),
    )
    returned = world.services.statements.import_statements(
        read_statements(_write(tmp_path, "s2.xml", back)), idempotency_key="s2"
    )
    assert returned.reversed == report.matched
    with world.store.unit_of_work() as uow:
        assert uow.receipts.get(report.matched[0]).state is ReceiptState.REVERSED
    assert world.open_total() == eur("119.00")


def test_the_same_lines_again_apply_nothing(world: World, tmp_path: Path) -> None:
    world.customer()
    invoice = _invoice(world)
    first = _statement("S-1", "0.00", _entry(1, "119.00", reference=invoice, bank_ref="B-1"))
    services = world.services.statements
    report = services.import_statements(
        read_statements(_write(tmp_path, "a.xml", first)), idempotency_key="a"
    )
    assert len(report.matched) == 1
    # An overlapping statement: the old line again and a new one.
    overlap = _statement(
        "S-2",
        "0.00",
        _entry(1, "119.00", reference=invoice, bank_ref="B-1"),
        _entry(2, "5.00", bank_ref="B-9"),
    )
    again = services.import_statements(
        read_statements(_write(tmp_path, "b.xml", overlap)), idempotency_key="b"
    )
    assert again.matched == ()
    assert len(again.duplicates) == 1
    assert len(again.on_account) + len(again.queued) == 1
    assert world.open_total() == eur("0.00")


def test_an_unbalanced_statement_is_refused_and_nothing_applied(world: World) -> None:
    world.customer()
    invoice = _invoice(world)
    good = _statement("S-1", "0.00", _entry(1, "119.00", reference=invoice, bank_ref="B-1"))
    bad = BankStatement(
        source="test",
        statement_id="S-1",
        account=ACCOUNT,
        currency="EUR",
        kind=StatementKind.STATEMENT,
        entries=good.entries,
        opening=eur("0.00"),
        closing=eur("100.00"),
    )
    with pytest.raises(StatementUnbalanced) as refused:
        world.services.statements.import_statements([bad], idempotency_key="x")
    assert refused.value.difference == Money("-19.00", "EUR")
    assert "difference" in str(refused.value)
    assert world.open_total() == eur("119.00")


def _intraday(statement: BankStatement) -> BankStatement:
    return BankStatement(
        source="intraday",
        statement_id=statement.statement_id + "-I",
        account=statement.account,
        currency="EUR",
        kind=StatementKind.INTRADAY,
        entries=statement.entries,
    )


def test_a_line_in_the_intraday_report_and_the_days_statement_applies_once(
    world: World,
) -> None:
    world.customer()
    invoice = _invoice(world)
    day = _statement("S-1", "0.00", _entry(1, "119.00", reference=invoice, bank_ref="B-1"))
    services = world.services.statements
    morning = services.import_statements([_intraday(day)], idempotency_key="052")
    assert len(morning.matched) == 1
    evening = services.import_statements([day], idempotency_key="053")
    assert evening.matched == ()
    assert len(evening.duplicates) == 1
    with world.store.unit_of_work() as uow:
        assert len(list(uow.receipts.values())) == 1


def test_pending_lines_wait_until_booked(world: World) -> None:
    world.customer()
    invoice = _invoice(world)
    booked = _entry(1, "119.00", reference=invoice, bank_ref="B-1")
    pending = attrs.evolve(booked, status=EntryStatus.PENDING)
    report = world.services.statements.import_statements(
        [_intraday(_statement("S-1", "0.00", pending))], idempotency_key="p"
    )
    assert len(report.not_booked) == 1
    assert report.matched == ()
    later = world.services.statements.import_statements(
        [_statement("S-1", "0.00", booked)], idempotency_key="b"
    )
    assert len(later.matched) == 1


def test_a_batch_with_remittance_details_becomes_one_receipt_per_payment(world: World) -> None:
    world.customer()
    first, second = _invoice(world, "SO-1"), _invoice(world, "SO-2")
    batch = StatementEntry(
        position=1,
        amount=eur("238.00"),
        direction=Direction.CREDIT,
        booking_date=date(2026, 3, 2),
        value_date=date(2026, 3, 2),
        bank_reference="BATCH-1",
        batch_count=2,
        transactions=(
            Transaction(amount=eur("119.00"), reference=first, end_to_end_id="A"),
            Transaction(amount=eur("119.00"), reference=second, end_to_end_id="B"),
        ),
    )
    report = world.services.statements.import_statements(
        [_statement("S-1", "0.00", batch)], idempotency_key="batch"
    )
    assert len(report.matched) == 2
    assert {a.item_id for a in report.allocations} == {first, second}
    assert world.open_total() == eur("0.00")


def test_bank_charges_post_as_fees_and_never_become_receipts(world: World) -> None:
    fee = _entry(
        1, "2.50", Direction.DEBIT, bank_ref="F-1", code=BankTransactionCode(subfamily="CHRG")
    )
    report = world.services.statements.import_statements(
        [_statement("S-1", "10.00", fee)], idempotency_key="fee"
    )
    assert len(report.fees) == 1
    with world.store.unit_of_work() as uow:
        assert list(uow.receipts.values()) == []
    trial = world.ledger.trial_balance()
    fees = next(row for row in trial.rows if row.name == "Payment fees")
    assert fees.debit == eur("2.50")
    assert trial.is_balanced


def test_a_return_of_an_unknown_payment_is_listed_not_applied(world: World) -> None:
    back = _entry(1, "50.00", Direction.DEBIT, e2e="NOBODY", bank_ref="R-1", reversal=True)
    report = world.services.statements.import_statements(
        [_statement("S-1", "100.00", back)], idempotency_key="r"
    )
    assert len(report.unmatched_returns) == 1
    assert report.reversed == ()


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 10_000), st.sampled_from(["", "B-1", "B-2"]), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 12),
)
def test_line_ids_are_unique_and_the_same_in_overlapping_statements(
    lines: list[tuple[int, str, bool]], cut: int
) -> None:
    entries = tuple(
        _entry(
            n, f"{cents / 100:.2f}", Direction.DEBIT if debit else Direction.CREDIT, bank_ref=ref
        )
        for n, (cents, ref, debit) in enumerate(lines, start=1)
    )
    whole = [line.line_id for line in plan_statement(_statement("S", "0.00", *entries))]
    assert len(set(whole)) == len(whole)
    head = [line.line_id for line in plan_statement(_statement("S", "0.00", *entries[:cut]))]
    assert head == whole[: len(head)]


def test_a_statement_line_nobody_can_place_waits_in_the_worklist(
    world: World, tmp_path: Path
) -> None:
    # The statement applies its receipts as a batch of receipts does: what cash application
    # cannot place reaches a person through the exception queue.
    world.customer()
    _invoice(world)
    stranger = attrs.evolve(
        _entry(1, "77.00", bank_ref="B-77"),
        transactions=(
            Transaction(
                payer_name="Somebody Else",
                payer_account="FR7630006000011234567890189",
                remittance="thanks",
            ),
        ),
    )
    report = world.services.statements.import_statements(
        read_statements(_write(tmp_path, "s.xml", _statement("S-77", "0.00", stranger))),
        idempotency_key="s-77",
    )
    assert len(report.queued) == 1
    (waiting,) = world.services.queue.entries()
    assert waiting.receipt_id == report.queued[0]
    assert waiting.unapplied == eur("77.00")
