"""Every command, retried with its idempotency key, answers the first result and changes nothing;
the same key with a different request is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from services_world import PARCEL, World, build_world, eur, widget_line

from o2c.domain.customers import Customer
from o2c.domain.receipts import Payer, Receipt
from o2c.services.errors import IdempotencyKeyReused


@attrs.frozen
class Case:
    """One command: how to get ready for it, and how to run it (``other`` changes the request)."""

    name: str
    prepare: Callable[[World], str]
    run: Callable[[World, str, str, bool], object]


def _invoiced(world: World, order_id: str = "SO-1", quantity: int = 10) -> str:
    s = world.services
    s.orders.place_order(
        order_id, "C-1", [widget_line(quantity=quantity)], idempotency_key=world.key()
    )
    s.orders.ship_order(order_id, PARCEL, idempotency_key=world.key())
    return s.billing.invoice_order(order_id, idempotency_key=world.key()).invoice_number


def _ready(world: World) -> str:
    world.customer()
    return "C-1"


def _placed(world: World) -> str:
    world.customer()
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    return "SO-1"


def _in_review(world: World) -> str:
    world.customer(limit=None)  # first-time customer: orders go to a person
    world.services.orders.place_order("SO-1", "C-1", [widget_line()], idempotency_key=world.key())
    return "SO-1"


def _shipped(world: World) -> str:
    _placed(world)
    return world.services.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key()).shipment_id


def _delivered_later(world: World) -> str:
    shipment = _shipped(world)
    world.clock.advance(days=5)
    return shipment


def _invoice(world: World) -> str:
    world.customer()
    return _invoiced(world)


def _on_hold(world: World) -> str:
    world.customer()
    _invoiced(world)
    world.clock.advance(days=60)
    world.services.dunning.run_dunning(idempotency_key=world.key())
    return "C-1"


def _held_order(world: World) -> str:
    _on_hold(world)
    world.services.orders.place_order(
        "SO-2", "C-1", [widget_line(quantity=1)], idempotency_key=world.key()
    )
    return "SO-2"


def _authorised(world: World) -> str:
    _placed(world)
    return world.services.cards.authorise(
        "SO-1", "tok_approve", idempotency_key=world.key()
    ).payment_id


def _pending(world: World) -> str:
    _placed(world)
    return world.services.cards.authorise(
        "SO-1", "tok_pending", idempotency_key=world.key()
    ).payment_id


def _capturable(world: World) -> str:
    payment = _authorised(world)
    world.services.orders.ship_order("SO-1", PARCEL, idempotency_key=world.key())
    world.services.billing.invoice_order("SO-1", idempotency_key=world.key())
    return payment


def _captured(world: World) -> str:
    payment = _capturable(world)
    world.services.cards.capture(payment, idempotency_key=world.key())
    return payment


def _statement(world: World, receipt_id: str, amount: str, reference: str) -> Receipt:
    return Receipt(
        receipt_id,
        eur(amount),
        world.today(),
        f"line-{receipt_id}",
        Payer(account="DE89370400440532013000"),
        reference=reference,
    )


def _paid_by_bank(world: World) -> str:
    number = _invoice(world)
    world.services.cash.import_receipts(
        [_statement(world, "R-1", "119.00", number)], idempotency_key=world.key()
    )
    return "R-1"


def _overpaid(world: World) -> str:
    number = _invoice(world)
    world.services.cash.import_receipts(
        [_statement(world, "R-1", "150.00", number)], idempotency_key=world.key()
    )
    return "R-1"


def _on_account(world: World) -> str:
    number = _invoice(world)
    world.services.cash.import_receipts(
        [_statement(world, "R-1", "50.00", "no reference")], idempotency_key=world.key()
    )
    return number


def _customer(customer_id: str) -> Customer:
    return Customer(customer_id, f"Customer {customer_id}", "EUR")


LIMIT_UNTIL = date(2027, 3, 1)

CASES = (
    Case(
        "register_customer",
        lambda w: "C-7",
        lambda w, c, k, other: w.services.customers.register_customer(
            _customer("C-8" if other else c), idempotency_key=k
        ),
    ),
    Case(
        "apply_for_credit",
        lambda w: (w.customer(limit=None), "C-1")[1],
        lambda w, c, k, other: w.services.customers.apply_for_credit(
            c, eur("900" if other else "800"), idempotency_key=k
        ),
    ),
    Case(
        "approve_credit",
        lambda w: (w.customer(limit=None), "C-1")[1],
        lambda w, c, k, other: w.services.customers.approve_credit(
            c,
            eur("900" if other else "800"),
            LIMIT_UNTIL,
            reviewer="ana",
            reason="ok",
            idempotency_key=k,
        ),
    ),
    Case(
        "deny_credit",
        lambda w: (w.customer(limit=None), "C-1")[1],
        lambda w, c, k, other: w.services.customers.deny_credit(
            c, reviewer="ana", reason="other" if other else "no references", idempotency_key=k
        ),
    ),
    Case(
        "release_credit_hold",
        _on_hold,
        lambda w, c, k, other: w.services.customers.release_credit_hold(
            c, reason="other" if other else "promised to pay", idempotency_key=k
        ),
    ),
    Case(
        "place_order",
        _ready,
        lambda w, c, k, other: w.services.orders.place_order(
            "SO-9", c, [widget_line(quantity=4 if other else 3)], idempotency_key=k
        ),
    ),
    Case(
        "approve_order",
        _in_review,
        lambda w, o, k, other: w.services.orders.approve_order(
            "SO-X" if other else o, idempotency_key=k
        ),
    ),
    Case(
        "reject_order",
        _in_review,
        lambda w, o, k, other: w.services.orders.reject_order(
            o, reason="other" if other else "unknown company", idempotency_key=k
        ),
    ),
    Case(
        "recheck_credit",
        _held_order,
        lambda w, o, k, other: w.services.orders.recheck_credit(
            "SO-X" if other else o, idempotency_key=k
        ),
    ),
    Case(
        "cancel_order",
        _placed,
        lambda w, o, k, other: w.services.orders.cancel_order(
            o, reason="other" if other else "changed mind", idempotency_key=k
        ),
    ),
    Case(
        "ship_order",
        _placed,
        lambda w, o, k, other: w.services.orders.ship_order(
            o, PARCEL, {"1": 4 if other else 3}, idempotency_key=k
        ),
    ),
    Case(
        "track_shipment",
        _delivered_later,
        lambda w, sh, k, other: w.services.orders.track_shipment(
            "SH-X" if other else sh, idempotency_key=k
        ),
    ),
    Case(
        "invoice_order",
        _shipped,
        lambda w, sh, k, other: w.services.billing.invoice_order(
            "SO-1", {"1": 4 if other else 3}, idempotency_key=k
        ),
    ),
    Case(
        "issue_credit_note",
        _invoice,
        lambda w, n, k, other: w.services.billing.issue_credit_note(
            n, reason="returned", lines={1: Decimal(2 if other else 1)}, idempotency_key=k
        ),
    ),
    Case(
        "dispute_invoice",
        _invoice,
        lambda w, n, k, other: w.services.billing.dispute_invoice(
            n, reason="other" if other else "damaged", idempotency_key=k
        ),
    ),
    Case(
        "resolve_dispute",
        lambda w: (
            n := _invoice(w),
            w.services.billing.dispute_invoice(n, reason="damaged", idempotency_key=w.key()),
        )[0],
        lambda w, n, k, other: w.services.billing.resolve_dispute(
            n, resolution="other" if other else "customer agreed", idempotency_key=k
        ),
    ),
    Case(
        "write_off_bad_debt",
        _invoice,
        lambda w, n, k, other: w.services.billing.write_off_bad_debt(
            n, reason="insolvent", amount=eur("20.00" if other else "10.00"), idempotency_key=k
        ),
    ),
    Case(
        "authorise",
        _placed,
        lambda w, o, k, other: w.services.cards.authorise(
            o, "tok_approve", eur("50.00" if other else "40.00"), idempotency_key=k
        ),
    ),
    Case(
        "resolve_pending",
        _pending,
        lambda w, p, k, other: w.services.cards.resolve_pending(
            "PAY-X" if other else p, idempotency_key=k
        ),
    ),
    Case(
        "capture",
        _capturable,
        lambda w, p, k, other: w.services.cards.capture(
            p, eur("60.00" if other else "50.00"), idempotency_key=k
        ),
    ),
    Case(
        "void",
        _authorised,
        lambda w, p, k, other: w.services.cards.void("PAY-X" if other else p, idempotency_key=k),
    ),
    Case(
        "refund",
        _captured,
        lambda w, p, k, other: w.services.cards.refund(
            p, eur("20.00" if other else "10.00"), idempotency_key=k
        ),
    ),
    Case(
        "import_receipts",
        _invoice,
        lambda w, n, k, other: w.services.cash.import_receipts(
            [_statement(w, "R-1", "100.00" if other else "119.00", n)], idempotency_key=k
        ),
    ),
    Case(
        "apply_receipt",
        _on_account,
        lambda w, n, k, other: w.services.cash.apply_receipt(
            "R-1", n, eur("40.00" if other else "30.00"), idempotency_key=k
        ),
    ),
    Case(
        "reverse_receipt",
        _paid_by_bank,
        lambda w, r, k, other: w.services.cash.reverse_receipt(
            r, reason="other" if other else "bounced", idempotency_key=k
        ),
    ),
    Case(
        "refund_unapplied",
        _overpaid,
        lambda w, r, k, other: w.services.cash.refund_unapplied(
            r, eur("20.00" if other else "31.00"), idempotency_key=k
        ),
    ),
    Case(
        "run_dunning",
        lambda w: (w.customer(), _invoiced(w), w.clock.advance(days=60))[1],
        lambda w, n, k, other: w.services.dunning.run_dunning(
            w.today() + timedelta(days=1) if other else None, idempotency_key=k
        ),
    ),
)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_retry_answers_the_first_result_and_changes_nothing(case: Case) -> None:
    world = build_world()
    subject = case.prepare(world)
    first = case.run(world, subject, "the-key", False)
    before = world.snapshot()
    with world.store.unit_of_work() as uow:
        outbox = len(uow.ledger_outbox)
    assert case.run(world, subject, "the-key", False) == first
    assert world.snapshot() == before
    with world.store.unit_of_work() as uow:
        assert len(uow.ledger_outbox) == outbox == 0


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_same_key_for_another_request_is_refused(case: Case) -> None:
    world = build_world()
    subject = case.prepare(world)
    case.run(world, subject, "the-key", False)
    before = world.snapshot()
    with pytest.raises(IdempotencyKeyReused, match="the-key"):
        case.run(world, subject, "the-key", True)
    assert world.snapshot() == before


def test_every_command_of_the_services_is_covered() -> None:
    world = build_world()
    s = world.services
    groups = (s.customers, s.orders, s.billing, s.cards, s.cash, s.dunning)
    commands = {
        name
        for group in groups
        for name in dir(group)
        if not name.startswith("_") and name != "handle_webhook"
    }
    assert commands == {case.name for case in CASES}
