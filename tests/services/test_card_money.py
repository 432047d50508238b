"""Card money the gateway holds and the books agree: what is refused never moves money, what the
gateway approves is always booked, and gateway keys come from the command, never from counts.

Each test names the break it guards against (issue "Nothing half-done", breaks 3 to 7).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from services_world import PARCEL, World, build_world, eur, widget_line

from o2c.domain.errors import CurrencyMismatch, O2CError, OverCapture, OverRefund
from o2c.domain.invoicing import InvoiceState
from o2c.domain.ledger import AccountRole
from o2c.domain.money import Money, money, zero
from o2c.domain.payments import PaymentStatus
from o2c.ports.gateways import GatewayResponse
from o2c.services.errors import GatewayDeclined, GatewayReceipt

# --- what the gateway holds and what the books say ----------------------------------------------


def _held_by_gateway(world: World) -> Money:
    """What the sandbox holds for the business: captured, less refunded, unless charged back."""
    held = zero("EUR")
    with world.store.unit_of_work() as uow:
        references = [p.gateway_reference for p in uow.payments.values() if p.gateway_reference]
    for reference in references:
        sandbox = world.gateway.payment(reference)
        if not sandbox.charged_back:
            held = held + sandbox.captured - sandbox.refunded
    return held


def _clearing(world: World) -> Money:
    chart = world.ledger.chart
    return world.ledger.balance(chart.code(AccountRole.GATEWAY_CLEARING), "EUR")


def _books_agree(world: World) -> None:
    assert world.ledger.ledger.trial_balance().is_balanced
    assert world.receivable_balance() == world.open_total()
    assert _clearing(world) == _held_by_gateway(world)


def _invoice(world: World, number: str) -> tuple[InvoiceState, Money]:
    with world.store.unit_of_work() as uow:
        invoice = uow.invoices.get(number)
        return invoice.state, invoice.open


def _recording(
    calls: list[str], name: str, call: Callable[..., GatewayResponse]
) -> Callable[..., GatewayResponse]:
    def recording(*args: object, **kwargs: object) -> GatewayResponse:
        calls.append(name)
        return call(*args, **kwargs)

    return recording


@pytest.fixture
def gateway_calls(world: World, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the money-moving gateway calls the services make, in order."""
    calls: list[str] = []
    for name in ("authorise", "capture", "refund", "void"):
        monkeypatch.setattr(
            world.gateway, name, _recording(calls, name, getattr(world.gateway, name))
        )
    return calls


def _order(world: World, order_id: str = "SO-1") -> None:
    world.services.orders.place_order(order_id, "C-1", [widget_line()], idempotency_key=world.key())


def _invoiced(world: World, order_id: str = "SO-1") -> str:
    s = world.services
    s.orders.ship_order(order_id, PARCEL, idempotency_key=world.key())
    return s.billing.invoice_order(order_id, idempotency_key=world.key()).invoice_number


def _captured(
    world: World, *, authorise: str | None = None, capture: str | None = None
) -> tuple[str, str]:
    """An order of 119.00 EUR paid by card; returns the payment and the invoice number."""
    world.customer()
    _order(world)
    s = world.services
    amount = eur(authorise) if authorise else None
    payment = s.cards.authorise("SO-1", "tok_approve", amount, idempotency_key=world.key())
    number = _invoiced(world)
    s.cards.capture(
        payment.payment_id, eur(capture) if capture else None, idempotency_key=world.key()
    )
    return payment.payment_id, number


# --- break 3: a refund beyond one receipt's unapplied part is booked in full --------------------


def test_a_refund_beyond_the_unapplied_cash_is_booked_in_full(world: World) -> None:
    payment, number = _captured(world, authorise="150.00", capture="150.00")  # 31.00 unapplied

    refunded = world.services.cards.refund(payment, eur("50.00"), idempotency_key=world.key())

    assert refunded.refunded == eur("50.00")
    assert _invoice(world, number) == (InvoiceState.PARTIALLY_PAID, eur("19.00"))
    _books_agree(world)


def test_a_later_refund_takes_back_a_receipt_partly_refunded_before(world: World) -> None:
    payment, number = _captured(world, authorise="150.00", capture="150.00")
    s = world.services
    s.cards.refund(payment, eur("20.00"), idempotency_key=world.key())  # unapplied cash only
    _books_agree(world)

    s.cards.refund(payment, eur("50.00"), idempotency_key=world.key())

    assert _invoice(world, number) == (InvoiceState.PARTIALLY_PAID, eur("39.00"))
    _books_agree(world)
    s.cards.refund(payment, idempotency_key=world.key())  # everything that is left
    assert _invoice(world, number) == (InvoiceState.ISSUED, eur("119.00"))
    assert _clearing(world) == eur("0.00")
    _books_agree(world)


# --- break 4: a refund after a full credit note is booked against the customer's credit --------


def test_a_refund_after_a_full_credit_note_pays_back_the_customer_credit(world: World) -> None:
    payment, number = _captured(world)
    s = world.services
    note = s.billing.issue_credit_note(number, reason="cancelled", idempotency_key=world.key())
    assert note.customer_credit == eur("119.00")
    key = world.key()

    refunded = s.cards.refund(payment, idempotency_key=key)

    assert refunded.status is PaymentStatus.REFUNDED
    assert _invoice(world, number) == (InvoiceState.CREDITED, eur("0.00"))
    chart = world.ledger.chart
    assert world.ledger.balance(chart.code(AccountRole.CUSTOMER_CREDIT), "EUR") == eur("0.00")
    _books_agree(world)
    assert s.cards.refund(payment, idempotency_key=key) == refunded  # a retry changes nothing
    _books_agree(world)


def test_a_partial_refund_after_a_full_credit_note_leaves_the_rest_as_unapplied_cash(
    world: World,
) -> None:
    payment, number = _captured(world)
    s = world.services
    s.billing.issue_credit_note(number, reason="cancelled", idempotency_key=world.key())

    s.cards.refund(payment, eur("50.00"), idempotency_key=world.key())
    _books_agree(world)
    s.cards.refund(payment, idempotency_key=world.key())

    assert _invoice(world, number) == (InvoiceState.CREDITED, eur("0.00"))
    assert _clearing(world) == eur("0.00")
    _books_agree(world)


# --- break 5: another currency than the order's is refused before the gateway -------------------


def test_an_authorisation_in_another_currency_is_refused_before_the_gateway(
    world: World, gateway_calls: list[str]
) -> None:
    world.customer()
    _order(world)
    before = world.snapshot()

    with pytest.raises(CurrencyMismatch, match="expected EUR, got USD"):
        world.services.cards.authorise(
            "SO-1", "tok_approve", money("119.00", "USD"), idempotency_key=world.key()
        )

    assert gateway_calls == []
    assert world.snapshot() == before


def test_a_capture_or_refund_in_another_currency_is_refused_before_the_gateway(
    world: World, gateway_calls: list[str]
) -> None:
    world.customer()
    _order(world)
    s = world.services
    payment = s.cards.authorise("SO-1", "tok_approve", idempotency_key=world.key()).payment_id
    _invoiced(world)
    before = world.snapshot()
    with pytest.raises(CurrencyMismatch):
        s.cards.capture(payment, money("10.00", "USD"), idempotency_key=world.key())
    s.cards.capture(payment, idempotency_key=world.key())
    with pytest.raises(CurrencyMismatch):
        s.cards.refund(payment, money("10.00", "USD"), idempotency_key=world.key())
    assert gateway_calls == ["authorise", "capture"]
    assert world.snapshot() != before  # the valid capture was recorded
    _books_agree(world)


# --- break 6: a refused request never uses up the key of the next valid one --------------------


def test_after_a_declined_card_another_card_pays_the_order(world: World) -> None:
    world.customer()
    _order(world)
    s = world.services
    declined_key = world.key()
    with pytest.raises(GatewayDeclined):
        s.cards.authorise("SO-1", "tok_decline", idempotency_key=declined_key)
    with pytest.raises(GatewayDeclined):  # the same command again: the same answer
        s.cards.authorise("SO-1", "tok_decline", idempotency_key=declined_key)

    approved = s.cards.authorise("SO-1", "tok_approve", idempotency_key=world.key())

    assert approved.status is PaymentStatus.AUTHORISED
    assert approved.authorised == eur("119.00")


def test_an_over_capture_is_refused_before_the_gateway_and_a_valid_capture_follows(
    world: World, gateway_calls: list[str]
) -> None:
    world.customer()
    _order(world)
    s = world.services
    payment = s.cards.authorise("SO-1", "tok_approve", idempotency_key=world.key()).payment_id
    _invoiced(world)
    before = world.snapshot()

    with pytest.raises(OverCapture):
        s.cards.capture(payment, eur("200.00"), idempotency_key=world.key())
    assert world.snapshot() == before
    captured = s.cards.capture(payment, idempotency_key=world.key())

    assert captured.captured == eur("119.00")
    assert gateway_calls == ["authorise", "capture"]
    _books_agree(world)


def test_an_over_refund_is_refused_before_the_gateway_and_a_valid_refund_follows(
    world: World, gateway_calls: list[str]
) -> None:
    payment, number = _captured(world)
    s = world.services
    before = world.snapshot()

    with pytest.raises(OverRefund):
        s.cards.refund(payment, eur("500.00"), idempotency_key=world.key())
    assert world.snapshot() == before
    refunded = s.cards.refund(payment, eur("19.00"), idempotency_key=world.key())

    assert refunded.refunded == eur("19.00")
    assert gateway_calls == ["authorise", "capture", "refund"]
    assert _invoice(world, number) == (InvoiceState.PARTIALLY_PAID, eur("19.00"))
    _books_agree(world)


def test_a_declined_capture_leaves_the_next_capture_its_own_key(world: World) -> None:
    world.customer()
    _order(world)
    s = world.services
    payment = s.cards.authorise("SO-1", "tok_approve", idempotency_key=world.key())
    _invoiced(world)
    assert payment.gateway_reference is not None
    # The gateway declines what the books allowed: another capture was taken there meanwhile.
    world.gateway.capture(
        gateway_reference=payment.gateway_reference,
        amount=eur("119.00"),
        idempotency_key="elsewhere",
    )
    world.gateway.refund(
        gateway_reference=payment.gateway_reference,
        amount=eur("119.00"),
        idempotency_key="elsewhere-back",
    )
    with pytest.raises(GatewayDeclined):
        s.cards.capture(payment.payment_id, idempotency_key=world.key())
    with world.store.unit_of_work() as uow:
        assert uow.payments.get(payment.payment_id).captured == eur("0.00")


# --- break 7: card money leaves only through the gateway ----------------------------------------


def test_a_card_receipt_cannot_bounce_like_a_bank_payment(world: World) -> None:
    payment, number = _captured(world)
    s = world.services
    with world.store.unit_of_work() as uow:
        (receipt,) = uow.receipts.of_payment(payment)
    before = world.snapshot()

    with pytest.raises(GatewayReceipt, match="refund payment"):
        s.cash.reverse_receipt(receipt.receipt_id, reason="bounced", idempotency_key=world.key())
    with pytest.raises(GatewayReceipt):
        s.cash.refund_unapplied(receipt.receipt_id, idempotency_key=world.key())

    assert world.snapshot() == before
    assert _invoice(world, number) == (InvoiceState.PAID, eur("0.00"))
    _books_agree(world)


# --- any sequence keeps the gateway's money and the clearing account equal ----------------------

_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("capture"), st.integers(1, 200)),
        st.tuples(st.just("refund"), st.integers(1, 200)),
        st.tuples(st.just("credit"), st.integers(0, 10)),
        st.tuples(st.just("time"), st.integers(0, 2)),
        st.tuples(st.just("void"), st.just(0)),
        st.tuples(st.just("bounce"), st.just(0)),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    token=st.sampled_from(["tok_approve", "tok_chargeback"]),
    authorise=st.sampled_from([None, "150.00"]),
    steps=_STEPS,
)
def test_gateway_money_always_equals_the_clearing_account(
    token: str, authorise: str | None, steps: list[tuple[str, int]]
) -> None:
    world = build_world()
    world.customer()
    _order(world)
    s = world.services
    amount = eur(authorise) if authorise else None
    payment = s.cards.authorise("SO-1", token, amount, idempotency_key=world.key()).payment_id
    number = _invoiced(world)
    for kind, value in steps:
        held = _held_by_gateway(world)
        try:
            if kind == "capture":
                s.cards.capture(payment, eur(f"{value}.00"), idempotency_key=world.key())
            elif kind == "refund":
                s.cards.refund(payment, eur(f"{value}.00"), idempotency_key=world.key())
            elif kind == "credit":
                lines = None if value == 0 else {1: Decimal(value)}
                s.billing.issue_credit_note(
                    number, reason="returned", lines=lines, idempotency_key=world.key()
                )
            elif kind == "void":
                s.cards.void(payment, idempotency_key=world.key())
            elif kind == "bounce":
                with world.store.unit_of_work() as uow:
                    receipts = [r.receipt_id for r in uow.receipts.of_payment(payment)]
                for receipt_id in receipts:
                    with pytest.raises(GatewayReceipt):
                        s.cash.reverse_receipt(
                            receipt_id, reason="bounced", idempotency_key=world.key()
                        )
            else:
                world.clock.advance(days=value)
                for delivery in world.gateway.pending_webhooks():
                    s.cards.handle_webhook(delivery.payload, delivery.headers)
        except O2CError:
            assert _held_by_gateway(world) == held  # a refusal moves no money
        _books_agree(world)
