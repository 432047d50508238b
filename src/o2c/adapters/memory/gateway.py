"""A sandbox payment gateway whose outcomes are chosen by test payment tokens.

Like the test cards of real gateways, the payment token decides what happens to an authorisation
(see :class:`SandboxToken`). Everything after the authorisation follows the real rules: capture at
most what was authorised, refund at most what was captured, idempotency keys that replay the first
answer, and webhooks signed with a shared secret and the time they were sent.

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

Webhooks are signed as the well-known gateways sign theirs: the header
``Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + payload>``. A delivery
is signed when it is handed out (a redelivery is signed afresh), and
:meth:`SandboxGateway.parse_webhook` refuses one signed more than ``webhook_tolerance`` (five
minutes by default) before or after the gateway's clock, so a captured delivery cannot be replayed
later. Several ``v1`` signatures may be given (a secret being rotated): one matching is enough.

Without a configured ``secret`` the gateway draws a random one of its own when it is built, as a
gateway's test CLI mints a fresh signing secret per session: only the deliveries it signed itself
are accepted, never a payload signed with a constant anyone can read in the source. Configure the
secret (``[adapters.payment_gateway] options = { secret = "..." }``) wherever deliveries come from
another process.
"""

from __future__ import annotations

import enum
import hashlib
import heapq
import hmac
import json
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import attrs

from o2c.domain.errors import DomainError
from o2c.domain.money import Money, from_minor, is_exact, money, to_minor
from o2c.domain.redaction import mask_card_numbers
from o2c.ports.clock import Clock
from o2c.ports.errors import AdapterRejected, AdapterUnavailable, DuplicateRequest, NotFound
from o2c.ports.gateways import (
    DEFAULT_WEBHOOK_TOLERANCE,
    GatewayCapabilities,
    GatewayNotice,
    GatewayResponse,
    NoticeKind,
    ResponseStatus,
    WebhookSecret,
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
"""The header carrying ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + payload>``."""

_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")

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
    """One webhook as the gateway would POST it: the raw payload and its signed headers."""

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

    ``secret`` signs the webhook payloads (a random secret of this gateway's own when not given);
    a delivery signed more than ``webhook_tolerance`` away from the clock's time is refused. A
    pending authorisation settles ``pending_settles_after`` after it was made; a chargeback arrives
    ``chargeback_after`` after the first capture.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        secret: WebhookSecret | bytes | str | None = None,
        capabilities: GatewayCapabilities | None = None,
        pending_settles_after: timedelta = timedelta(0),
        chargeback_after: timedelta = timedelta(days=1),
        webhook_tolerance: timedelta = DEFAULT_WEBHOOK_TOLERANCE,
        name: str = "sandbox",
    ):
        self.name = name
        self.capabilities = capabilities or GatewayCapabilities(
            currencies=DEFAULT_CURRENCIES, partial_capture=True, multiple_captures=False
        )
        self._clock = clock
        if secret is None:
            secret = secrets.token_bytes(32)
        if not isinstance(secret, WebhookSecret):
            if not secret:
                raise AdapterRejected(
                    name, "the webhook secret must not be empty", "invalid_secret"
                )
            secret = WebhookSecret(secret)
        self._secret = secret
        if webhook_tolerance <= timedelta(0):
            raise AdapterRejected(
                name, "the webhook tolerance must be a positive duration", "invalid_tolerance"
            )
        self.webhook_tolerance = webhook_tolerance
        self._pending_settles_after = pending_settles_after
        self._chargeback_after = chargeback_after
        self._calls: dict[str, _Call] = {}
        self._payments: dict[str, _Payment] = {}
        self._due: list[_Due] = []
        self._deliveries: list[tuple[str, bytes]] = []
        """Event id and payload of every webhook due, signed only when handed out."""
        self._delivered = 0
        self._faults: deque[Fault] = deque()
        self._counter = 0
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SandboxGateway(name={self.name!r}, secret=<redacted>)"

    # --- the port ------------------------------------------------------------------------------

    def authorise(
        self, *, payment_id: str, amount: Money, payment_token: str, idempotency_key: str
    ) -> GatewayResponse:
        """Authorise ``amount`` on the card the token stands for (see :class:`SandboxToken`)."""
        self._check_amount(amount)
        try:
            token = SandboxToken(payment_token)
        except ValueError:
            raise self._unknown_token(payment_token) from None
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
        """Check the signature and its age, then read the notices; ``AdapterRejected`` for
        anything amiss (see the module doc)."""
        body, fields = self._webhook_input(payload, headers)
        signed_at, signatures = self._read_signature(fields)
        expected = self._signature(body, signed_at).encode("ascii")
        if not any(hmac.compare_digest(expected, given) for given in signatures):
            raise AdapterRejected(self.name, "the webhook signature is wrong", "bad_signature")
        self._check_age(signed_at)
        try:
            document = json.loads(payload)
            return tuple(self._notice(event) for event in document["events"])
        except (ValueError, KeyError, TypeError, DomainError) as error:
            raise AdapterRejected(
                self.name, f"malformed webhook payload: {error}", "malformed_payload"
            ) from error

    def _webhook_input(
        self, payload: object, headers: object
    ) -> tuple[bytes, Mapping[object, object]]:
        """The payload and headers as the caller should have sent them (callers may be untyped)."""
        if not isinstance(payload, bytes | bytearray):
            raise AdapterRejected(
                self.name,
                f"the webhook payload must be the raw request body as bytes, not "
                f"{type(payload).__name__}",
                "malformed_payload",
            )
        if not isinstance(headers, Mapping):
            raise AdapterRejected(
                self.name,
                f"the webhook headers must be a mapping, not {type(headers).__name__}",
                "malformed_payload",
            )
        return bytes(payload), headers

    def _read_signature(self, headers: Mapping[object, object]) -> tuple[int, list[bytes]]:
        """The signed time and the signatures of a signature header; refuses a malformed one."""
        wanted = SIGNATURE_HEADER.lower()
        value = next(
            (v for k, v in headers.items() if isinstance(k, str) and k.lower() == wanted), None
        )
        if value is None:
            raise AdapterRejected(self.name, "the webhook is not signed", "missing_signature")
        if not isinstance(value, str) or not value.isascii():
            raise AdapterRejected(
                self.name, "the webhook signature is not ASCII text", "malformed_signature"
            )
        timestamps: list[str] = []
        signatures: list[bytes] = []
        for part in value.split(","):
            name, _, text = part.strip().partition("=")
            if name == "t":
                timestamps.append(text)
            elif name == "v1" and _HEX_SIGNATURE.fullmatch(text):
                signatures.append(text.encode("ascii"))
        if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]) or not signatures:
            raise AdapterRejected(
                self.name,
                "the webhook signature must read t=<unix seconds>,v1=<64 hex digits>",
                "malformed_signature",
            )
        return int(timestamps[0]), signatures

    def _check_age(self, signed_at: int) -> None:
        now = self._clock.now()
        sent = datetime.fromtimestamp(signed_at, UTC)
        if abs(now - sent) > self.webhook_tolerance:
            when = "ago" if sent < now else "ahead"
            raise AdapterRejected(
                self.name,
                f"the webhook was signed at {sent.isoformat()}, more than "
                f"{self.webhook_tolerance} {when} of {now.isoformat()}; refused as a replay",
                "stale_signature",
            )

    # --- sandbox controls ----------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        """Make the next call that reaches the gateway fail this way (faults queue up in order)."""
        with self._lock:
            self._faults.append(fault)

    def pending_webhooks(self) -> tuple[WebhookDelivery, ...]:
        """Deliver the webhooks that are due and not yet delivered, oldest first (once each),
        each signed now."""
        with self._lock:
            now = self._clock.now()
            self._catch_up(now)
            fresh = self._deliveries[self._delivered :]
            self._delivered = len(self._deliveries)
            return tuple(self._delivery(event_id, payload, now) for event_id, payload in fresh)

    def webhook_payloads(self) -> tuple[WebhookDelivery, ...]:
        """Every webhook due so far, delivered or not, signed afresh now (a redelivery)."""
        with self._lock:
            now = self._clock.now()
            self._catch_up(now)
            return tuple(self._delivery(e, payload, now) for e, payload in self._deliveries)

    def sign(self, payload: bytes, *, at: datetime | None = None) -> Mapping[str, str]:
        """The headers that make ``payload`` pass :meth:`parse_webhook`, signed at ``at`` (by
        default the clock's now): for tests and for replaying a delivery."""
        moment = self._clock.now() if at is None else at
        timestamp = int(moment.timestamp())
        signature = self._signature(payload, timestamp)
        return MappingProxyType({SIGNATURE_HEADER: f"t={timestamp},v1={signature}"})

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
            self._deliveries.append((notice.event_id, _payload(notice)))

    def _delivery(self, event_id: str, payload: bytes, now: datetime) -> WebhookDelivery:
        return WebhookDelivery(event_id, payload, self.sign(payload, at=now))

    def _notice(self, event: Mapping[str, object]) -> GatewayNotice:
        fields = {
            name: event[name]
            for name in ("id", "type", "created", "gateway_reference", "amount", "currency")
        }
        if not all(isinstance(value, str) for value in fields.values()):
            raise TypeError("every event field must be a string")
        text = {name: str(value) for name, value in fields.items()}
        if not text["id"]:
            raise ValueError("an event needs an id")
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

    def _signature(self, payload: bytes, timestamp: int) -> str:
        signed = f"{timestamp}.".encode("ascii") + payload
        return hmac.new(self._secret.reveal(), signed, hashlib.sha256).hexdigest()

    def _unknown_token(self, payment_token: str) -> AdapterRejected:
        if mask_card_numbers(payment_token) != payment_token:
            return AdapterRejected(
                self.name,
                f"a card number ({mask_card_numbers(payment_token)}) was sent as the payment "
                "token; send the token the payment page returned, never the card number",
                "card_number_as_token",
            )
        return AdapterRejected(
            self.name, f"unknown sandbox payment token {payment_token!r}", "invalid_token"
        )

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


def _payload(notice: GatewayNotice) -> bytes:
    event = {
        "id": notice.event_id,
        "type": notice.kind.value,
        "created": notice.at.isoformat(),
        "gateway_reference": notice.gateway_reference,
        "amount": str(notice.amount.amount),
        "currency": str(notice.amount.currency.code),
    }
    return json.dumps({"events": [event]}, sort_keys=True).encode()


def _approved(reference: str, amount: Money) -> GatewayResponse:
    return GatewayResponse(ResponseStatus.APPROVED, "", reference, amount, message="approved")


def _declined(code: str, reference: str, amount: Money) -> GatewayResponse:
    return GatewayResponse(
        ResponseStatus.DECLINED, "", reference, amount, code, code.replace("_", " ")
    )
