"""Card payments through the gateway, and how captured card money reaches accounts receivable.

The flow of a card payment:

1. **Authorise at checkout** (:meth:`CardService.authorise`): a :class:`Payment` is opened
   for the order (its ``reference`` is the order id) and the gateway reserves the amount. A
   decline raises :class:`GatewayDeclined` and records nothing; a lost answer leaves the payment
   ``pending`` until :meth:`resolve_pending` or a webhook tells the outcome.
2. **Capture on shipment** (:meth:`capture`), in full or in part, once the order is invoiced.
   The captured money becomes a :class:`~o2c.domain.receipts.Receipt` (method ``card``, source id
   the gateway's capture) that is applied straight to the order's open invoices, oldest first, so
   cash application and the invoices agree the moment the money is taken; anything the invoices
   do not need stays on the receipt as unapplied cash.
3. **Void** an uncaptured authorisation, or **refund** captured money: a refund first gives back
   the unapplied cash of the payment's receipts; beyond that, the receipts are reversed, as the
   money no longer pays them: their invoices reopen, or, where a credit note handed the customer
   credit (a return, a fully credited invoice), that credit is what is paid back. What the
   business keeps of a reversed receipt is recorded again as a card receipt.
4. **Webhooks** report what happened asynchronously: a pending authorisation settling, a
   chargeback. Each notice is handled once by its gateway event id; a chargeback reverses the
   card receipts so the invoices are open again.

What can be refused is refused before the gateway is called: the currency (an authorisation
in the order's currency, captures and refunds in the payment's), the amounts (no capture beyond
the authorisation, no refund beyond what is held), the payment's state, and whether the books can
take the refund. So a refused request never moves money, and a request the gateway approves is
always recorded in the same unit of work.

Every gateway call carries an idempotency key derived from the intent, never from counts of
recorded operations: ``{payment}:{operation}:{command key}``, where the command key is the
idempotency key the caller gave the command. A command retried after a failure sends the same
gateway key, so the money moves at most once; a new command (a new key) is a new request, so a
declined card, an over-capture or an over-refund never uses up the key of the next valid request.
Every call goes through one method, :meth:`CardService._call_gateway`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import date
from functools import partial
from typing import TypeVar

from o2c.domain.calls import CallStatus, ExternalCall
from o2c.domain.cash import ReceiptRecorded, apply_to_item, refund_receipt
from o2c.domain.errors import CurrencyMismatch
from o2c.domain.events import DomainEvent
from o2c.domain.invoicing import Invoice
from o2c.domain.money import Money, zero
from o2c.domain.payments import (
    GatewayOutcome,
    OperationKind,
    OutcomeStatus,
    Payment,
    PaymentStatus,
    capturable,
    refundable,
)
from o2c.domain.receipts import Payer, PaymentMethod, Receipt, ReceiptState
from o2c.ports.errors import AdapterError
from o2c.ports.gateways import (
    GatewayNotice,
    GatewayResponse,
    NoticeKind,
    PaymentGatewayPort,
    ResponseStatus,
)
from o2c.services import _common
from o2c.services._runtime import Runtime, Work
from o2c.services.calls import CallProtocol, call_id
from o2c.services.cash import record_allocations, reverse_allocations
from o2c.services.errors import (
    CallUndone,
    GatewayDeclined,
    GatewayOutcomePending,
    NothingToApply,
    UnknownPayment,
)
from o2c.services.results import PaymentResult, WebhookResult

__all__ = ["CardService"]

T = TypeVar("T")


def _result(payment: Payment, receipt_id: str | None = None) -> PaymentResult:
    return PaymentResult(
        payment.payment_id,
        payment.status,
        payment.authorised,
        payment.captured,
        payment.refunded,
        payment.gateway_reference,
        receipt_id,
    )


def _count(payment: Payment, kind: OperationKind) -> int:
    return sum(1 for op in payment.operations if op.kind is kind)


class CardService:
    """Authorises, captures, voids and refunds card payments, and handles gateway webhooks."""

    def __init__(self, runtime: Runtime, calls: CallProtocol | None = None) -> None:
        self._runtime = runtime
        self._calls = calls if calls is not None else CallProtocol(runtime)

    @property
    def _gateway(self) -> PaymentGatewayPort:
        return self._runtime.adapters.payment_gateway

    # -- authorise -----------------------------------------------------------------------------

    def authorise(
        self,
        order_id: str,
        payment_token: str,
        amount: Money | None = None,
        *,
        idempotency_key: str,
    ) -> PaymentResult:
        """Reserve the order's (estimated gross) amount, or ``amount``, on the customer's card.

        ``amount`` must be in the order's currency (``CurrencyMismatch`` otherwise, before the
        gateway is asked).
        """

        def body(work: Work) -> PaymentResult:
            uow = work.uow
            order = _common.order(uow, order_id)
            wanted = amount if amount is not None else order.gross_total
            if wanted.currency != order.gross_total.currency:
                raise CurrencyMismatch(
                    expected=str(order.gross_total.currency.code),
                    actual=str(wanted.currency.code),
                )
            payment_id = f"{order_id}-PAY{len(uow.payments.of_order(order_id)) + 1}"
            payment, events = Payment.create(
                payment_id,
                order.customer_id,
                order_id,
                wanted,
                at=work.now,
                multiple_captures=self._gateway.capabilities.multiple_captures,
            )
            work.record(events)
            key = _gateway_key(payment_id, "authorise", work)
            response = self._call_gateway(
                work,
                "authorise",
                key,
                lambda: self._gateway.authorise(
                    payment_id=payment_id,
                    amount=wanted,
                    payment_token=payment_token,
                    idempotency_key=key,
                ),
            )
            if response.status is ResponseStatus.DECLINED:
                raise GatewayDeclined(
                    payment_id, "authorisation", response.decline_code, response.message
                )
            if response.status is ResponseStatus.UNKNOWN:
                payment, events = payment.mark_pending(
                    OperationKind.AUTHORISE,
                    wanted,
                    at=work.now,
                    idempotency_key=key,
                    gateway_reference=response.gateway_reference,
                )
            else:
                payment, events = payment.authorise(
                    response.amount or wanted,
                    at=work.now,
                    idempotency_key=key,
                    gateway_reference=response.gateway_reference,
                )
            work.record(events)
            uow.payments.add(payment.payment_id, payment)
            return _result(payment)

        request = (order_id, payment_token, amount)
        return self._execute("authorise_card", idempotency_key, request, body)

    def resolve_pending(self, payment_id: str, *, idempotency_key: str) -> PaymentResult:
        """Ask the gateway how a pending authorisation ended and record it."""

        def body(work: Work) -> PaymentResult:
            payment = _common.payment(work.uow, payment_id)
            if payment.status is not PaymentStatus.PENDING:
                return _result(payment)
            key = _authorise_key(payment)
            response = self._call_gateway(
                work, "fetch_status", key, lambda: self._gateway.fetch_status(key)
            )
            if response.status is ResponseStatus.UNKNOWN:
                raise GatewayOutcomePending(payment_id, "authorisation")
            outcome = GatewayOutcome(
                OutcomeStatus.AUTHORISED
                if response.status is ResponseStatus.APPROVED
                else OutcomeStatus.DECLINED,
                response.amount if response.status is ResponseStatus.APPROVED else None,
                response.gateway_reference,
                response.decline_code,
            )
            payment, events = payment.resolve(
                outcome, at=work.now, idempotency_key=f"{payment_id}:resolve"
            )
            work.record(events)
            work.uow.payments.save(payment.payment_id, payment)
            return _result(payment)

        return self._runtime.execute(
            "resolve_card", idempotency_key, payment_id, PaymentResult, body
        )

    # -- capture -------------------------------------------------------------------------------

    def capture(
        self, payment_id: str, amount: Money | None = None, *, idempotency_key: str
    ) -> PaymentResult:
        """Take (part of) the authorisation and apply it to the order's open invoices.

        ``amount`` defaults to what the order's open invoices need, at most what is left to
        capture. The captured money becomes a card receipt applied oldest invoice first.
        Everything is booked first and the gateway asked last, so an over-capture, another
        currency or a payment that cannot be captured is refused before money moves.
        """

        def body(work: Work) -> PaymentResult:
            uow = work.uow
            payment = _common.payment(uow, payment_id)
            invoices = _open_invoices(work, payment.reference)
            for inv in invoices:
                if inv.currency != payment.currency:
                    raise CurrencyMismatch(expected=payment.currency, actual=inv.currency)
            left = capturable(payment)
            if amount is not None:
                wanted = amount
            else:
                owed = zero(payment.currency)
                for inv in invoices:
                    owed = owed + inv.open
                wanted = min(owed, left)
            if wanted.amount <= 0:
                raise NothingToApply(payment_id, "nothing is left to capture for open invoices")
            number = _count(payment, OperationKind.CAPTURE) + 1
            key = _gateway_key(payment_id, "capture", work)
            reference = payment.gateway_reference or ""
            payment, events = payment.capture(
                wanted, at=work.now, idempotency_key=key, gateway_reference=reference
            )
            work.record(events)
            uow.payments.save(payment.payment_id, payment)
            receipt = Receipt(
                f"{payment_id}-C{number}",
                wanted,
                work.today,
                f"{self._gateway.name}:{key}",
                Payer(payment.customer_id),
                reference=payment.reference,
                method=PaymentMethod.CARD,
                payment_id=payment_id,
            )
            _apply_card_money(work, payment, receipt)
            response = self._call_gateway(
                work,
                "capture",
                key,
                lambda: self._gateway.capture(
                    gateway_reference=reference, amount=wanted, idempotency_key=key
                ),
            )
            self._check(response, payment_id, "capture")
            return _result(payment, receipt.receipt_id)

        request = (payment_id, amount)
        return self._execute("capture_card", idempotency_key, request, body)

    # -- void and refund -----------------------------------------------------------------------

    def void(self, payment_id: str, *, idempotency_key: str) -> PaymentResult:
        """Cancel an authorisation that was not captured."""

        def body(work: Work) -> PaymentResult:
            payment = _common.payment(work.uow, payment_id)
            key = _gateway_key(payment_id, "void", work)
            reference = payment.gateway_reference or ""
            payment, events = payment.void(at=work.now, idempotency_key=key)
            work.record(events)
            work.uow.payments.save(payment.payment_id, payment)
            response = self._call_gateway(
                work,
                "void",
                key,
                lambda: self._gateway.void(gateway_reference=reference, idempotency_key=key),
            )
            self._check(response, payment_id, "void")
            return _result(payment)

        return self._execute("void_card", idempotency_key, payment_id, body)

    def refund(
        self, payment_id: str, amount: Money | None = None, *, idempotency_key: str
    ) -> PaymentResult:
        """Give back (part of) the captured money; everything refundable by default.

        The refund comes out of the card receipts' unapplied cash first; what it takes beyond
        that no longer pays the invoices, so those receipts are reversed (their invoices reopen,
        or the customer credit of a credit note is paid back) and what the business keeps is
        recorded again (see the module doc). All of it is booked before the gateway is asked: an
        over-refund (``OverRefund``), another currency or a payment holding nothing is refused
        before money moves.
        """

        def body(work: Work) -> PaymentResult:
            uow = work.uow
            payment = _common.payment(uow, payment_id)
            wanted = amount if amount is not None else refundable(payment)
            if wanted.amount <= 0:
                raise NothingToApply(payment_id, "nothing captured is left to refund")
            key = _gateway_key(payment_id, "refund", work)
            reference = payment.gateway_reference or ""
            payment, events = payment.refund(
                wanted, at=work.now, idempotency_key=key, gateway_reference=reference
            )
            work.record(events)
            uow.payments.save(payment.payment_id, payment)
            self._take_back(work, payment, wanted)
            response = self._call_gateway(
                work,
                "refund",
                key,
                lambda: self._gateway.refund(
                    gateway_reference=reference, amount=wanted, idempotency_key=key
                ),
            )
            self._check(response, payment_id, "refund")
            return _result(payment)

        request = (payment_id, amount)
        return self._execute("refund_card", idempotency_key, request, body)

    # -- webhooks ------------------------------------------------------------------------------

    def handle_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookResult:
        """Turn a gateway webhook delivery into payment operations, each notice once.

        Each notice is remembered by its gateway event id (its idempotency key), so the same
        notice delivered again, alone or in another delivery, changes nothing.
        """
        notices = self._call_gateway(
            None, "parse_webhook", None, lambda: self._gateway.parse_webhook(payload, headers)
        )
        handled: list[str] = []
        duplicates: list[str] = []
        for notice in notices:
            if self._runtime.has_run("gateway_notice", notice.event_id):
                duplicates.append(notice.event_id)
                continue
            self._runtime.execute(
                "gateway_notice", notice.event_id, notice, bool, self._notice_body(notice)
            )
            handled.append(notice.event_id)
        return WebhookResult(tuple(handled), tuple(duplicates))

    def _notice_body(self, notice: GatewayNotice) -> Callable[[Work], bool]:
        return lambda work: self._apply_notice(work, notice)

    def _apply_notice(self, work: Work, notice: GatewayNotice) -> bool:
        uow = work.uow
        payment = self._payment_for(work, notice.gateway_reference)
        key = f"notice:{notice.event_id}"
        events: tuple[DomainEvent, ...] = ()
        pending = payment.status is PaymentStatus.PENDING
        if notice.kind in (NoticeKind.AUTHORISED, NoticeKind.CAPTURED, NoticeKind.FAILED):
            if not pending:
                return True  # a confirmation of a call answered synchronously
            status = {
                NoticeKind.AUTHORISED: OutcomeStatus.AUTHORISED,
                NoticeKind.CAPTURED: OutcomeStatus.CAPTURED,
                NoticeKind.FAILED: OutcomeStatus.DECLINED,
            }[notice.kind]
            outcome = GatewayOutcome(
                status,
                None if status is OutcomeStatus.DECLINED else notice.amount,
                notice.gateway_reference,
            )
            payment, events = payment.resolve(outcome, at=notice.at, idempotency_key=key)
        elif notice.kind is NoticeKind.REFUNDED:
            return True  # refunds are made by this service and recorded when answered
        else:
            taken = min(notice.amount, refundable(payment))
            if taken.amount <= 0:
                return True
            payment, events = payment.charge_back(taken, at=notice.at, idempotency_key=key)
            self._take_back(work, payment, taken)
        work.record(events)
        uow.payments.save(payment.payment_id, payment)
        return True

    # -- helpers -------------------------------------------------------------------------------

    def _payment_for(self, work: Work, gateway_reference: str) -> Payment:
        """The payment the gateway knows by ``gateway_reference``.

        A payment whose authorisation answer was lost may not know its reference yet: the
        gateway is asked for the outcome of its pending call to find out.
        """
        uow = work.uow
        known = uow.payments.by_gateway_reference(gateway_reference)
        if known is not None:
            return known
        for payment in uow.payments.awaiting_gateway_reference():
            key = _authorise_key(payment)
            answer = self._call_gateway(
                work, "fetch_status", key, partial(self._gateway.fetch_status, key)
            )
            if answer.gateway_reference == gateway_reference:
                return payment
        raise UnknownPayment(gateway_reference)

    def _call_gateway(
        self, work: Work | None, operation: str, key: str | None, call: Callable[[], T]
    ) -> T:
        """The one door to the gateway: every call this service makes passes here.

        ``operation`` names the call, ``key`` is the gateway idempotency key it carries (``None``
        for reading a webhook, which runs outside a command and moves nothing), and ``work`` the
        command it belongs to. A call that moves money is refused if an earlier run of the same
        request was undone (``CallUndone``), and remembered: if its command then fails to
        commit, the call is kept as ``unknown`` in the call log (:mod:`o2c.services.calls`), so
        a retry of the command records it or the janitor undoes it.
        """
        made = _MADE.get()
        if work is None or key is None or made is None or operation not in _MONEY_MOVES:
            return call()
        recorded = work.uow.calls.find(call_id("payment_gateway", operation, key))
        if recorded is not None and recorded.status is CallStatus.COMPENSATED:
            raise CallUndone(recorded.call_id, recorded.command)
        try:
            answer = call()
        except AdapterError:
            raise  # by the port's contract the request did not leave: nothing moved
        except Exception as error:  # anything else may have come after the gateway acted
            made.append((operation, key, f"raised {type(error).__name__}: {error}"))
            raise
        if isinstance(answer, GatewayResponse) and answer.status is not ResponseStatus.DECLINED:
            made.append((operation, key, f"answered {answer.status.value}"))
        return answer

    def _execute(
        self,
        command: str,
        idempotency_key: str,
        request: object,
        body: Callable[[Work], PaymentResult],
    ) -> PaymentResult:
        """Run a command that moves money; keep what it did at the gateway if it fails."""
        made: list[tuple[str, str, str]] = []
        token = _MADE.set(made)
        try:
            return self._runtime.execute(command, idempotency_key, request, PaymentResult, body)
        except BaseException:
            if made and not self._runtime.has_run(command, idempotency_key):
                now = self._runtime.adapters.clock.now()
                self._calls.record_unfinished(
                    ExternalCall(
                        call_id("payment_gateway", operation, key),
                        "payment_gateway",
                        operation,
                        key,
                        key.split(f":{operation}:", 1)[0],
                        f"{command}:{idempotency_key}",
                        now,
                        now,
                    ).lost(at=now, detail=f"the command did not commit; the gateway {outcome}")
                    for operation, key, outcome in made
                )
            raise
        finally:
            _MADE.reset(token)

    @staticmethod
    def _check(response: GatewayResponse, payment_id: str, operation: str) -> None:
        if response.status is ResponseStatus.DECLINED:
            raise GatewayDeclined(payment_id, operation, response.decline_code, response.message)
        if response.status is ResponseStatus.UNKNOWN:
            raise GatewayOutcomePending(payment_id, operation)

    def _take_back(self, work: Work, payment: Payment, amount: Money) -> None:
        """Money left the business for a card payment: book all of it, or refuse.

        First the unapplied cash of the payment's receipts is paid back. Beyond it, a receipt
        that paid invoices is reversed (refunds made from it before stand): its invoices reopen
        and the ledger mirrors it, or, where a credit note had handed the customer credit (a
        return, a fully credited invoice), that credit covers the reversal instead. The part of
        the receipt the business keeps is recorded again as a new card receipt and applied to
        what is open. So a partial refund after a return ends with the invoice settled, and the
        gateway clearing account always equals what the gateway holds.
        """
        uow = work.uow
        receipt_ids = [r.receipt_id for r in uow.receipts.of_payment(payment.payment_id)]
        remaining = amount
        for receipt_id in receipt_ids:
            receipt = uow.receipts.get(receipt_id)
            spare = receipt.unapplied
            if remaining.amount <= 0 or spare.amount <= 0:
                continue
            part = min(spare, remaining)
            refunded, events = refund_receipt(receipt, part, on=work.today)
            work.record(events)
            uow.receipts.save(refunded.receipt_id, refunded)
            remaining = remaining - part
        for receipt_id in receipt_ids:
            if remaining.amount <= 0:
                break
            current = uow.receipts.get(receipt_id)
            if current.state is ReceiptState.REVERSED or current.applied.amount <= 0:
                continue
            held = current.amount - current.refunded
            allocations = uow.allocations.find(current.receipt_id) or ()
            reverse_allocations(work, current, allocations, refunds_stand=True)
            taken = min(remaining, held)
            remaining = remaining - taken
            kept = held - taken
            if kept.amount > 0:
                replacement = Receipt(
                    f"{current.receipt_id}-K",
                    kept,
                    work.today,
                    f"{current.source_id}:kept",
                    current.payer,
                    reference=current.reference,
                    method=PaymentMethod.CARD,
                    payment_id=payment.payment_id,
                )
                _apply_card_money(work, payment, replacement)
        if remaining.amount > 0:
            raise NothingToApply(
                payment.payment_id,
                f"its card receipts hold {amount - remaining} of the {amount} to give back; "
                "the rest cannot be booked",
            )


_MONEY_MOVES = frozenset({"authorise", "capture", "void", "refund"})
"""Gateway operations that change what the gateway holds (``fetch_status`` only reads)."""

_MADE: ContextVar[list[tuple[str, str, str]] | None] = ContextVar("o2c_gateway_calls", default=None)
"""The money-moving gateway calls of the running card command: operation, key, what happened."""


def _gateway_key(payment_id: str, operation: str, work: Work) -> str:
    """The gateway idempotency key of one intent: the payment, the operation, the command key.

    A retry of the command sends the same key; another command is another request.
    """
    return f"{payment_id}:{operation}:{work.idempotency_key}"


def _authorise_key(payment: Payment) -> str:
    """The key the payment's authorisation was sent with (recorded on its history)."""
    for op in payment.operations:
        if op.kind in (OperationKind.AUTHORISE, OperationKind.MARK_PENDING):
            return op.idempotency_key
    return f"{payment.payment_id}:authorise"


def _open_invoices(work: Work, order_id: str) -> list[Invoice]:
    """The order's invoices with something open, oldest due date first."""
    open_ones = [
        inv
        for inv in work.uow.invoices.of_order(order_id)
        if inv.open_item is not None and not inv.open_item.is_settled
    ]
    return sorted(open_ones, key=lambda inv: inv.open_item.due_date if inv.open_item else date.max)


def _apply_card_money(work: Work, payment: Payment, receipt: Receipt) -> None:
    """Store a card receipt and apply it to the order's open invoices, oldest first.

    What the invoices do not need stays on the receipt as unapplied cash (customer credit).
    """
    made = []
    for inv in _open_invoices(work, payment.reference):
        item = inv.open_item
        if item is None or receipt.unapplied.amount <= 0:
            continue
        applied = apply_to_item(
            receipt,
            item,
            min(receipt.unapplied, item.open),
            on=work.today,
            explanation=f"card payment {payment.payment_id} for order {payment.reference}",
        )
        work.record(applied.events)
        receipt = applied.receipt
        made.append(applied.allocation)
    if not made:
        work.record((ReceiptRecorded.of(receipt),))  # the money arrived all the same
    work.uow.receipts.add(receipt.receipt_id, receipt)
    record_allocations(work, receipt, made)
