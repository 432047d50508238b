"""A sandbox payment gateway whose outcomes are chosen by test payment tokens.

Like the test cards of real gateways, the payment token decides what happens to an authorisation
(see :class:`SandboxToken`). Everything after the authorisation follows the real rules: capture at
most what was authorised, refund at most what was captured, idempotency keys that replay the first
answer, and webhooks signed with a shared secret.

Two kinds of failure are kept apart, as the port contract asks:

* ``tok_timeout`` (or :meth:`SandboxGateway.inject` with :attr:`Fault.UNAVAILABLE`) fails *before*
  the request leaves: ``AdapterUnavailable`` is raised, nothing is recorded and no money moves, so
  ``fetch_status`` of that key raises ``NotFound`` and retrying the same key is safe.
* ``tok_pending`` and ``tok_pending_decline`` (or :attr:`Fault.LOST_RESPONSE`) fail *after* the
  request arrived: the call answers ``UNKNOWN``; the gateway did act, and ``fetch_status`` (or the
  same call repeated with the same key) gives the outcome once it is settled.

Asynchronous facts (a pending authorisation settling, a chargeback) become
:class:`~o2c.ports.gateways.GatewayNotice` s delivered as signed webhook payloads: read them with
:meth:`SandboxGateway.pending_webhooks` and hand them to :meth:`SandboxGateway.parse_webhook`.
Synchronous answers produce no webhook. Every time the gateway stamps comes from the injected clock,
and facts that happen "later" become due when that clock reaches them.
"""

from __future__ import annotations

import enum
import hashlib
import heapq
import hmac
import json
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

import attrs

from o2c.domain.errors import DomainError
from o2c.domain.money import Money, from_minor, is_exact, money, to_minor
from o2c.ports.clock import Clock
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest, NotFound
from o2c.ports.gateways import (
    GatewayCapabilities,
    GatewayNotice,
    GatewayResponse,
    NoticeKind,
    ResponseStatus,
)

__all__ = [
    "DEFAULT_CURRENCIES",
    "SIGNATURE_HEADER",
    "Fault",
    "SandboxGateway",
    "SandboxPayment",
    "SandboxToken",
    "WebhookDelivery",
]

SIGNATURE_HEADER = "Sandbox-Signature"
"""The header carrying ``sha256=<hex HMAC of the payload>``."""

DEFAULT_CURRENCIES = frozenset(
    {"EUR", "USD", "GBP", "JPY", "CHF", "SEK", "DKK", "NOK", "PLN", "CZK", "CAD", "AUD"}
)


class SandboxToken(enum.Enum):
    """The payment tokens the sandbox understands, and what each does to an authorisation."""

    APPROVE = "tok_approve"
    """Approved in full."""
    PARTIAL = "tok_partial"
    """Approved for half the amount (rounded down to the minor unit): a partial authorisation."""
    DECLINE = "tok_decline"
    """Declined with ``card_declined``."""
    INSUFFICIENT_FUNDS = "tok_insufficient_funds"
    """Declined with ``insufficient_funds``."""
    EXPIRED_CARD = "tok_expired_card"
    """Declined with ``expired_card``."""
    PENDING = "tok_pending"
    """``UNKNOWN`` at first; settles as approved (an ``authorised`` webhook follows)."""
    PENDING_DECLINE = "tok_pending_decline"
    """``UNKNOWN`` at first; settles as declined, ``card_declined`` (a ``failed`` webhook)."""
    TIMEOUT = "tok_timeout"
    """``AdapterUnavailable``: the request never left; nothing happened."""
    CHARGEBACK = "tok_chargeback"
    """Approved; a chargeback of what is captured arrives as a webhook after the first capture."""


_DECLINES = MappingProxyType(
    {
        SandboxToken.DECLINE: "card_declined",
        SandboxToken.INSUFFICIENT_FUNDS: "insufficient_funds",
        SandboxToken.EXPIRED_CARD: "expired_card",
    }
)


class Fault(enum.Enum):
    """A failure to inject into the next call, whatever its token or operation."""

    UNAVAILABLE = "unavailable"
    """The call raises ``AdapterUnavailable`` before the request leaves; nothing is recorded."""
    LOST_RESPONSE = "lost_response"
    """The gateway acts, but the answer is lost: the call returns ``UNKNOWN``."""


@attrs.frozen
class WebhookDelivery:
    """One webhook as the gateway would POST it: the raw payload and its headers."""

    event_id: str
    payload: bytes
    headers: Mapping[str, str]


@attrs.frozen
class SandboxPayment:
    """What the sandbox knows about one authorisation (for tests and simulations)."""

    gateway_reference: str
    payment_id: str
    token: str
    authorised: Money
    captured: Money
    refunded: Money
    voided: bool
    charged_back: bool


@attrs.define
class _Payment:
    reference: str
    payment_id: str
    token: SandboxToken
    authorised: Money
    captured: int = 0
    """Minor units."""
    refunded: int = 0
    captures: int = 0
    voided: bool = False
    charged_back: bool = False

    @property
    def currency(self) -> str:
        return str(self.authorised.currency.code)


@attrs.frozen
class _Call:
    request: tuple[object, ...]
    outcome: GatewayResponse
    settles_at: datetime | None
    """Until then the gateway itself does not know the outcome (an asynchronous authorisation)."""


_Outcome = tuple[GatewayResponse, datetime | None]
"""The gateway's answer, and when it is settled (``None``: at once)."""


@attrs.frozen(order=True)
class _Due:
    at: datetime
    sequence: int
    kind: NoticeKind = attrs.field(order=False)
    reference: str = attrs.field(order=False)
    amount: Money | None = attrs.field(order=False)
    """``None`` for a chargeback: what is charged back is decided when it happens."""


class SandboxGateway:
    """A deterministic payment gateway, satisfying :class:`~o2c.ports.PaymentGatewayPort`.

    ``secret`` signs the webhook payloads. A pending authorisation settles ``pending_settles_after``
    after it was made; a chargeback arrives ``chargeback_after`` after the first capture.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        secret: bytes | str = b"sandbox-webhook-secret",
        capabilities: GatewayCapabilities | None = None,
        pending_settles_after: timedelta = timedelta(0),
        chargeback_after: timedelta = timedelta(days=1),
        name: str = "sandbox",
    ):
        self.name = name
        self.capabilities = capabilities or GatewayCapabilities(
            currencies=DEFAULT_CURRENCIES, partial_capture=True, multiple_captures=False
        )
        self._clock = clock
        self._secret = secret.encode() if isinstance(secret, str) else secret
        if not self._secret:
            raise AdapterRejected(name, "the webhook secret must not be empty", "invalid_secret")
        self._pending_settles_after = pending_settles_after
        self._chargeback_after = chargeback_after
        self._calls: dict[str, _Call] = {}
        self._payments: dict[str, _Payment] = {}
        self._due: list[_Due] = []
        self._deliveries: list[WebhookDelivery] = []
        self._delivered = 0
        self._faults: deque[Fault] = deque()
        self._counter = 0
        self._lock = threading.RLock()

    # --- the port ------------------------------------------------------------------------------

    def authorise(
        self, *, payment_id: str, amount: Money, payment_token: str, idempotency_key: str
    ) -> GatewayResponse:
        """Authorise ``amount`` on the card the token stands for (see :class:`SandboxToken`)."""
        self._check_amount(amount)
        try:
            token = SandboxToken(payment_token)
        except ValueError:
            raise AdapterRejected(
                self.name, f"unknown sandbox payment token {payment_token!r}", "invalid_token"
            ) from None
        request = ("authorise", payment_id, amount, payment_token)
        return self._call(
            idempotency_key, request, lambda now: self._authorise(payment_id, amount, token, now)
        )

    def capture(
        self, *, gateway_reference: str, amount: Money, idempotency_key: str
    ) -> GatewayResponse:
        """Capture (part of) an authorisation; declined if it would exceed what is left."""
        self._check_amount(amount)
        request = ("capture", gateway_reference, amount)
        return self._call(
            idempotency_key, request, lambda now: self._capture(gateway_reference, amount, now)
        )

    def void(self, *, gateway_reference: str, idempotency_key: str) -> GatewayResponse:
        """Release an authorisation nothing was captured from."""
        request = ("void", gateway_reference)
        return self._call(idempotency_key, request, lambda now: self._void(gateway_reference))

    def refund(
        self, *, gateway_reference: str, amount: Money, idempotency_key: str
    ) -> GatewayResponse:
        """Give back (part of) what was captured; declined beyond it."""
        self._check_amount(amount)
        request = ("refund", gateway_reference, amount)
        return self._call(
            idempotency_key, request, lambda now: self._refund(gateway_reference, amount)
        )

    def fetch_status(self, idempotency_key: str) -> GatewayResponse:
        """The gateway's answer to the call made with this key; ``UNKNOWN`` while still pending.

        ``NotFound`` if no call with this key ever reached the gateway.
        """
        with self._lock:
            now = self._clock.now()
            self._catch_up(now)
            call = self._calls.get(idempotency_key)
            if call is None:
                raise NotFound(
                    self.name, f"no call with idempotency key {idempotency_key}", idempotency_key
                )
            return self._answer(idempotency_key, call, now)

    def parse_webhook(
        self, payload: bytes, headers: Mapping[str, str]
    ) -> tuple[GatewayNotice, ...]:
        """Check the signature, then read the notices; ``AdapterRejected`` for anything amiss."""
        signature = next(
            (value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER.lower()),
            None,
        )
        if signature is None:
            raise AdapterRejected(self.name, "the webhook is not signed", "missing_signature")
        if not hmac.compare_digest(signature, self._signature(payload)):
            raise AdapterRejected(self.name, "the webhook signature is wrong", "bad_signature")
        try:
            document = json.loads(payload)
            return tuple(self._notice(event) for event in document["events"])
        except (ValueError, KeyError, TypeError, DomainError) as error:
            raise AdapterRejected(
                self.name, f"malformed webhook payload: {error}", "malformed_payload"
            ) from error

    # --- sandbox controls ----------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        """Make the next call that reaches the gateway fail this way (faults queue up in order)."""
        with self._lock:
            self._faults.append(fault)

    def pending_webhooks(self) -> tuple[WebhookDelivery, ...]:
        """Deliver the webhooks that are due and not yet delivered, oldest first (once each)."""
        with self._lock:
            self._catch_up(self._clock.now())
            fresh = tuple(self._deliveries[self._delivered :])
            self._delivered = len(self._deliveries)
            return fresh

    def webhook_payloads(self) -> tuple[WebhookDelivery, ...]:
        """Every webhook due so far, delivered or not (to replay a delivery in a test)."""
        with self._lock:
            self._catch_up(self._clock.now())
            return tuple(self._deliveries)

    def sign(self, payload: bytes) -> Mapping[str, str]:
        """The headers that make ``payload`` pass :meth:`parse_webhook` (for tests)."""
        return MappingProxyType({SIGNATURE_HEADER: self._signature(payload)})

    def payment(self, gateway_reference: str) -> SandboxPayment:
        """What the sandbox knows about an authorisation; ``NotFound`` if it does not exist."""
        with self._lock:
            payment = self._payment(gateway_reference)
            return SandboxPayment(
                payment.reference,
                payment.payment_id,
                payment.token.value,
                payment.authorised,
                from_minor(payment.captured, payment.currency),
                from_minor(payment.refunded, payment.currency),
                payment.voided,
                payment.charged_back,
            )

    # --- calls ---------------------------------------------------------------------------------

    def _call(
        self,
        key: str,
        request: tuple[object, ...],
        perform: Callable[[datetime], _Outcome],
    ) -> GatewayResponse:
        if not key:
            raise AdapterRejected(self.name, "an idempotency key is required", "missing_key")
        with self._lock:
            now = self._clock.now()
            self._catch_up(now)
            known = self._calls.get(key)
            if known is not None:
                if known.request != request:
                    raise DuplicateRequest(
                        self.name,
                        f"idempotency key {key} was used for a different {known.request[0]}",
                        key,
                    )
                return self._answer(key, known, now)
            fault = self._faults.popleft() if self._faults else None
            if fault is Fault.UNAVAILABLE:
                raise AdapterUnavailable(self.name, "the sandbox is unreachable (injected)")
            outcome, settles_at = perform(now)
            call = _Call(request, attrs.evolve(outcome, idempotency_key=key), settles_at)
            self._calls[key] = call
            if fault is Fault.LOST_RESPONSE:
                return GatewayResponse(ResponseStatus.UNKNOWN, key, message="the answer was lost")
            if settles_at is not None:
                # An asynchronous outcome is never the first answer, however soon it settles.
                return GatewayResponse(ResponseStatus.UNKNOWN, key, message="awaiting the outcome")
            return call.outcome

    def _answer(self, key: str, call: _Call, now: datetime) -> GatewayResponse:
        if call.settles_at is not None and now < call.settles_at:
            return GatewayResponse(ResponseStatus.UNKNOWN, key, message="awaiting the outcome")
        return call.outcome

    def _authorise(
        self, payment_id: str, amount: Money, token: SandboxToken, now: datetime
    ) -> _Outcome:
        if token is SandboxToken.TIMEOUT:
            raise AdapterUnavailable(self.name, "the connection timed out before sending")
        reference = self._next_id("sbx_pay")
        settles_at = None
        if token in (SandboxToken.PENDING, SandboxToken.PENDING_DECLINE):
            settles_at = now + self._pending_settles_after
        decline = _DECLINES.get(token)
        if decline is not None or token is SandboxToken.PENDING_DECLINE:
            if settles_at is not None:
                self._schedule(settles_at, NoticeKind.FAILED, reference, amount)
            return _declined(decline or "card_declined", reference, amount), settles_at
        approved = amount
        if token is SandboxToken.PARTIAL:
            approved = from_minor(max(1, to_minor(amount) // 2), amount.currency)
        self._payments[reference] = _Payment(reference, payment_id, token, approved)
        if settles_at is not None:
            self._schedule(settles_at, NoticeKind.AUTHORISED, reference, approved)
        return _approved(reference, approved), settles_at

    def _capture(self, reference: str, amount: Money, now: datetime) -> _Outcome:
        payment = self._payment(reference)
        self._check_same_currency(payment, amount)
        units = to_minor(amount)
        refusal = self._capture_refusal(payment, units)
        if refusal is not None:
            return _declined(refusal, reference, amount), None
        if units < to_minor(payment.authorised) - payment.captured and (
            not self.capabilities.partial_capture
        ):
            raise AdapterRejected(
                self.name, "this gateway captures the whole authorisation only", "partial_capture"
            )
        if payment.captures == 0 and payment.token is SandboxToken.CHARGEBACK:
            self._schedule(now + self._chargeback_after, NoticeKind.CHARGED_BACK, reference, None)
        payment.captured += units
        payment.captures += 1
        return _approved(reference, amount), None

    def _capture_refusal(self, payment: _Payment, units: int) -> str | None:
        if payment.voided:
            return "authorisation_voided"
        if payment.charged_back:
            return "charged_back"
        if payment.captures and not self.capabilities.multiple_captures:
            return "already_captured"
        if payment.captured + units > to_minor(payment.authorised):
            return "amount_exceeds_authorisation"
        return None

    def _void(self, reference: str) -> _Outcome:
        payment = self._payment(reference)
        if not self.capabilities.voids:
            raise AdapterRejected(self.name, "this gateway cannot void", "voids_not_supported")
        if payment.voided:
            return _declined("already_voided", reference, payment.authorised), None
        if payment.captures:
            return _declined("already_captured", reference, payment.authorised), None
        payment.voided = True
        return _approved(reference, payment.authorised), None

    def _refund(self, reference: str, amount: Money) -> _Outcome:
        payment = self._payment(reference)
        self._check_same_currency(payment, amount)
        if not self.capabilities.refunds:
            raise AdapterRejected(self.name, "this gateway cannot refund", "refunds_not_supported")
        units = to_minor(amount)
        refundable = payment.captured - payment.refunded
        if payment.charged_back:
            return _declined("charged_back", reference, amount), None
        if units > refundable:
            return _declined("amount_exceeds_capture", reference, amount), None
        if units < refundable and not self.capabilities.partial_refunds:
            raise AdapterRejected(
                self.name, "this gateway refunds the whole capture only", "partial_refund"
            )
        payment.refunded += units
        return _approved(reference, amount), None

    # --- asynchronous facts and webhooks --------------------------------------------------------

    def _schedule(
        self, at: datetime, kind: NoticeKind, reference: str, amount: Money | None
    ) -> None:
        self._counter += 1
        heapq.heappush(self._due, _Due(at, self._counter, kind, reference, amount))

    def _catch_up(self, now: datetime) -> None:
        """Let every fact due by ``now`` happen, in the order it was due."""
        while self._due and self._due[0].at <= now:
            due = heapq.heappop(self._due)
            amount = due.amount
            if due.kind is NoticeKind.CHARGED_BACK:
                payment = self._payments[due.reference]
                disputed = payment.captured - payment.refunded
                if disputed <= 0:
                    continue  # everything was refunded first: nothing left to dispute
                payment.charged_back = True
                amount = from_minor(disputed, payment.currency)
            assert amount is not None  # only chargebacks are decided late
            notice = GatewayNotice(self._next_id("evt"), due.kind, due.reference, amount, due.at)
            self._deliveries.append(self._delivery(notice))

    def _delivery(self, notice: GatewayNotice) -> WebhookDelivery:
        event = {
            "id": notice.event_id,
            "type": notice.kind.value,
            "created": notice.at.isoformat(),
            "gateway_reference": notice.gateway_reference,
            "amount": str(notice.amount.amount),
            "currency": str(notice.amount.currency.code),
        }
        payload = json.dumps({"events": [event]}, sort_keys=True).encode()
        return WebhookDelivery(notice.event_id, payload, self.sign(payload))

    def _notice(self, event: Mapping[str, object]) -> GatewayNotice:
        fields = {
            name: event[name]
            for name in ("id", "type", "created", "gateway_reference", "amount", "currency")
        }
        if not all(isinstance(value, str) for value in fields.values()):
            raise TypeError("every event field must be a string")
        text = {name: str(value) for name, value in fields.items()}
        at = datetime.fromisoformat(text["created"])
        if at.tzinfo is None:
            raise ValueError("the event time has no time zone")
        return GatewayNotice(
            text["id"],
            NoticeKind(text["type"]),
            text["gateway_reference"],
            money(text["amount"], text["currency"]),
            at,
        )

    def _signature(self, payload: bytes) -> str:
        return "sha256=" + hmac.new(self._secret, payload, hashlib.sha256).hexdigest()

    # --- helpers -------------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_{self._counter:06d}"

    def _payment(self, reference: str) -> _Payment:
        payment = self._payments.get(reference)
        if payment is None:
            raise NotFound(self.name, f"no authorisation {reference}", reference)
        return payment

    def _check_amount(self, amount: Money) -> None:
        currency = str(amount.currency.code)
        if currency not in self.capabilities.currencies:
            raise AdapterRejected(
                self.name,
                f"{currency} is not a currency this gateway takes",
                "unsupported_currency",
            )
        if amount.amount <= 0 or not is_exact(amount):
            raise AdapterRejected(
                self.name, f"{amount} is not a positive, exact amount", "invalid_amount"
            )

    def _check_same_currency(self, payment: _Payment, amount: Money) -> None:
        if amount.currency != payment.authorised.currency:
            raise AdapterRejected(
                self.name,
                f"{payment.reference} is in {payment.currency}, not {amount.currency.code}",
                "currency_mismatch",
            )


def _approved(reference: str, amount: Money) -> GatewayResponse:
    return GatewayResponse(ResponseStatus.APPROVED, "", reference, amount, message="approved")


def _declined(code: str, reference: str, amount: Money) -> GatewayResponse:
    return GatewayResponse(
        ResponseStatus.DECLINED, "", reference, amount, code, code.replace("_", " ")
    )
