"""The contract kit catches broken adapters: each of these breaks one rule and fails the kit.

The kit's test methods are called directly with the broken adapter as their fixture value; a
contract that let the adapter pass would make these tests fail. One end-to-end run shows how an
integrator sees a failure and a skipped capability.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any

import attrs
import pytest

from o2c.adapters.memory import (
    FixedClock,
    MemoryInventory,
    MemoryLedger,
    MemoryStore,
    MemoryUnitOfWork,
    SandboxGateway,
    SandboxToken,
    TableRateCarrier,
)
from o2c.domain.ledger import ChartOfAccounts, JournalEntry
from o2c.domain.money import Money
from o2c.ports.carriers import Booking, ShipmentRequest
from o2c.ports.gateways import (
    DEFAULT_WEBHOOK_TOLERANCE,
    GatewayCapabilities,
    GatewayNotice,
    GatewayResponse,
    PaymentGatewayPort,
    ResponseStatus,
)
from o2c.ports.inventory import Reservation
from o2c.ports.ledger import PostingResult
from o2c.ports.notifications import Notification, Notifier
from o2c.testing import (
    CarrierContract,
    ClockContract,
    GatewayTokens,
    InventoryContract,
    LedgerContract,
    NotifierContract,
    PaymentGatewayContract,
    UnitOfWorkContract,
)
from o2c.testing.carrier import domestic_parcel
from o2c.testing.ledger import LedgerCapabilities
from o2c.testing.strategies import ALL_CURRENCIES

pytest_plugins = ["pytester"]

MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOKENS = GatewayTokens(SandboxToken.APPROVE.value, SandboxToken.DECLINE.value)
FAILS = (AssertionError, pytest.fail.Exception)
"""A contract test fails with an assertion, or with pytest's failure when a refusal is missing."""


# --- ledgers ----------------------------------------------------------------------------------


class DoublePostingLedger(MemoryLedger):
    """Posts a repeated entry again under a new id: not idempotent, money moves twice."""

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        result = super().post_batch(entries)
        again = [
            attrs.evolve(e, entry_id=f"{e.entry_id}/again")
            for e in entries
            if e.entry_id in result.already_posted
        ]
        if again:
            super().post_batch(again)
        return PostingResult((*result.posted, *result.already_posted), ())


class OneByOneLedger(MemoryLedger):
    """Posts entry by entry, so a bad entry leaves the ones before it posted: not atomic."""

    def post_batch(self, entries: Sequence[JournalEntry]) -> PostingResult:
        posted: list[str] = []
        already: list[str] = []
        for entry in entries:
            result = super().post_batch([entry])
            posted.extend(result.posted)
            already.extend(result.already_posted)
        return PostingResult(tuple(posted), tuple(already))


def test_a_ledger_that_posts_twice_fails_the_idempotency_tests() -> None:
    contract = LedgerContract()
    with pytest.raises(FAILS):
        contract.test_posting_again_moves_no_money(DoublePostingLedger())
    with pytest.raises(FAILS):
        contract.test_a_batch_mixing_new_and_known_entries_posts_the_new_ones_once(
            DoublePostingLedger()
        )


def test_a_ledger_that_is_not_atomic_fails_the_batch_tests() -> None:
    contract = LedgerContract()
    with pytest.raises(FAILS):
        contract.test_an_unknown_account_refuses_the_whole_batch(OneByOneLedger())
    with pytest.raises(FAILS):
        contract.test_a_known_id_with_other_content_refuses_the_whole_batch(OneByOneLedger())


def test_the_ledger_property_finds_a_ledger_that_posts_twice() -> None:
    with pytest.raises(FAILS):
        LedgerContract().test_balances_follow_the_accepted_batches(
            DoublePostingLedger, ChartOfAccounts.default(), LedgerCapabilities()
        )


# --- gateways ---------------------------------------------------------------------------------


class GenerousGateway(SandboxGateway):
    """Approves the refunds and captures it should decline for going over the limit."""

    def refund(
        self, *, gateway_reference: str, amount: Money, idempotency_key: str
    ) -> GatewayResponse:
        answer = super().refund(
            gateway_reference=gateway_reference, amount=amount, idempotency_key=idempotency_key
        )
        return _approve(answer)

    def capture(
        self, *, gateway_reference: str, amount: Money, idempotency_key: str
    ) -> GatewayResponse:
        answer = super().capture(
            gateway_reference=gateway_reference, amount=amount, idempotency_key=idempotency_key
        )
        return _approve(answer)


def _approve(answer: GatewayResponse) -> GatewayResponse:
    if answer.decline_code in ("amount_exceeds_capture", "amount_exceeds_authorisation"):
        return attrs.evolve(answer, status=ResponseStatus.APPROVED, decline_code=None)
    return answer


class CurrencyBlindGateway(SandboxGateway):
    """Declares two currencies but takes any."""

    def __init__(self) -> None:
        anything = GatewayCapabilities(currencies=frozenset(ALL_CURRENCIES))
        super().__init__(FixedClock(MORNING), capabilities=anything)
        self.declared = GatewayCapabilities(currencies=frozenset({"EUR", "USD"}))


def test_a_gateway_that_over_refunds_fails_the_kit() -> None:
    contract = PaymentGatewayContract()
    with pytest.raises(FAILS):
        contract.test_refunds_never_exceed_the_capture(
            GenerousGateway(FixedClock(MORNING)), TOKENS, "EUR"
        )
    with pytest.raises(FAILS):
        contract.test_money_moved_never_exceeds_what_is_allowed(
            lambda: GenerousGateway(FixedClock(MORNING)),
            TOKENS,
            SandboxGateway(FixedClock(MORNING)).capabilities,
        )


def test_a_gateway_that_over_captures_fails_the_kit() -> None:
    with pytest.raises(FAILS):
        PaymentGatewayContract().test_capture_beyond_the_authorisation_is_declined(
            GenerousGateway(FixedClock(MORNING)), TOKENS, "EUR"
        )


def test_a_gateway_taking_an_undeclared_currency_fails_the_kit() -> None:
    gateway = CurrencyBlindGateway()
    with pytest.raises(FAILS):
        PaymentGatewayContract().test_a_currency_it_does_not_take_is_rejected(
            gateway, TOKENS, gateway.declared
        )


class TimelessGateway(SandboxGateway):
    """Checks the signature of a webhook but not when it was signed: a replay passes."""

    def _check_age(self, signed_at: int) -> None:
        return None


class NaiveWebhookGateway(SandboxGateway):
    """Hashes whatever it is given: a text body raises ``TypeError`` instead of a refusal."""

    def parse_webhook(
        self, payload: bytes, headers: Mapping[str, str]
    ) -> tuple[GatewayNotice, ...]:
        hmac.new(b"key", payload, hashlib.sha256)
        return super().parse_webhook(payload, headers)


def _signed(gateway: PaymentGatewayPort, age: timedelta) -> tuple[bytes, Mapping[str, str]]:
    assert isinstance(gateway, SandboxGateway)
    event = {
        "id": "evt_1",
        "type": "charged_back",
        "created": MORNING.isoformat(),
        "gateway_reference": "sbx_pay_000001",
        "amount": "10.00",
        "currency": "EUR",
    }
    payload = json.dumps({"events": [event]}).encode()
    return payload, gateway.sign(payload, at=MORNING - age)


def test_a_gateway_that_takes_a_replayed_webhook_fails_the_kit() -> None:
    contract = PaymentGatewayContract()
    gateway = TimelessGateway(FixedClock(MORNING))
    with pytest.raises(FAILS):
        contract.test_a_webhook_signed_before_the_tolerance_is_rejected(
            gateway, _signed, DEFAULT_WEBHOOK_TOLERANCE
        )
    honest = SandboxGateway(FixedClock(MORNING))
    contract.test_a_webhook_signed_before_the_tolerance_is_rejected(
        honest, _signed, DEFAULT_WEBHOOK_TOLERANCE
    )


def test_a_gateway_that_lets_a_type_error_escape_a_webhook_fails_the_kit() -> None:
    contract = PaymentGatewayContract()
    with pytest.raises(TypeError):
        contract.test_a_webhook_body_given_as_text_is_rejected(
            NaiveWebhookGateway(FixedClock(MORNING)), _signed
        )
    with pytest.raises(TypeError):
        contract.test_webhook_input_no_web_framework_sends_is_rejected(
            NaiveWebhookGateway(FixedClock(MORNING)), '{"events": []}', {}
        )


# --- inventory, carrier, persistence, notifier, clock -------------------------------------------


class OversellingInventory(MemoryInventory):
    """Reserves whatever is asked and ships whatever is asked."""

    def reserve(self, reservation_id: str, **line: Any) -> Reservation:
        self.receive(line["product_id"], line["quantity"])  # conjures the stock it lacks
        return super().reserve(reservation_id, **line)

    def commit(self, reservation_id: str, quantity: Decimal) -> None:
        held = self.held(reservation_id)
        super().commit(reservation_id, min(quantity, held))


def test_an_inventory_that_oversells_fails_the_kit() -> None:
    contract = InventoryContract()

    def inventory() -> OversellingInventory:
        return OversellingInventory({"P-1": Decimal(10), "P-2": Decimal(0), "P-3": Decimal(4)})

    with pytest.raises(FAILS):
        contract.test_a_shortfall_is_back_ordered_not_refused(inventory())
    with pytest.raises(FAILS):
        contract.test_commit_refuses_more_than_is_reserved(inventory())
    with pytest.raises(FAILS):
        contract.test_reservations_never_oversell(OversellingInventory)


class ForgetfulCarrier(TableRateCarrier):
    """Books a shipment anew every time it is asked."""

    def __init__(self) -> None:
        super().__init__(FixedClock(MORNING))
        self._numbers = itertools.count(1)

    def book(self, request: ShipmentRequest, service: str) -> Booking:
        fresh = attrs.evolve(request, shipment_id=f"{request.shipment_id}#{next(self._numbers)}")
        return attrs.evolve(super().book(fresh, service), shipment_id=request.shipment_id)


def test_a_carrier_that_books_twice_fails_the_kit() -> None:
    contract = CarrierContract()
    request = domestic_parcel()
    with pytest.raises(FAILS):
        contract.test_booking_again_returns_the_first_booking(ForgetfulCarrier(), request)


class LeakyUnitOfWork(MemoryUnitOfWork):
    """Commits on the way out of the block, even without ``commit``."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.commit()


def test_a_unit_of_work_that_keeps_uncommitted_work_fails_the_kit() -> None:
    contract = UnitOfWorkContract()

    def leaky() -> Any:
        store = MemoryStore()
        return lambda: LeakyUnitOfWork(store)

    with pytest.raises(FAILS):
        contract.test_leaving_without_commit_forgets_everything(leaky(), "ledger_outbox")
    with pytest.raises(FAILS):
        contract.test_committed_numbers_are_gap_free_whatever_rolls_back(leaky)


class CommittedOnlyQueries(MemoryUnitOfWork):
    """Answers the open-item queries from what is committed, blind to its own writes."""

    def __init__(self, store: MemoryStore):
        super().__init__(store)
        self.open_items = MemoryStore.unit_of_work(store).open_items


def test_a_store_whose_queries_miss_their_own_writes_fails_the_kit() -> None:
    contract = UnitOfWorkContract()

    def blind() -> Any:
        store = MemoryStore()
        return lambda: CommittedOnlyQueries(store)

    with pytest.raises(FAILS):
        contract.test_named_queries_follow_the_writes_of_the_unit_of_work(blind())
    with pytest.raises(FAILS):
        contract.test_named_queries_answer_what_their_definitions_say(blind)


class ForgetfulOutbox:
    """An outbox that lists its messages newest first and forgets failed deliveries."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def add(self, *messages: Any) -> None:
        self.inner.add(*messages)

    def find(self, message_id: str) -> Any:
        return self.inner.find(message_id)

    def waiting(self, streams: Any = None, limit: int | None = None) -> Any:
        return tuple(reversed(self.inner.waiting(streams)))[:limit]

    def retry_later(self, message_id: str, not_before: Any, error: str) -> None:
        """Forgets the failure."""

    def delivered(self, *message_ids: str) -> None:
        self.inner.delivered(*message_ids)

    def backlog(self) -> Any:
        return self.inner.backlog()


class OutOfOrderOutboxes(MemoryUnitOfWork):
    def __init__(self, store: MemoryStore):
        super().__init__(store)
        self.event_outbox = ForgetfulOutbox(self.event_outbox)  # type: ignore[assignment]


def test_an_outbox_out_of_commit_order_or_forgetting_failures_fails_the_kit() -> None:
    contract = UnitOfWorkContract()

    def broken() -> Any:
        store = MemoryStore()
        return lambda: OutOfOrderOutboxes(store)

    with pytest.raises(FAILS):
        contract.test_an_outbox_lists_messages_in_commit_order(broken(), "event_outbox")
    with pytest.raises(FAILS):
        contract.test_a_failed_delivery_is_recorded_and_a_delivered_message_removed(
            broken(), "event_outbox"
        )
    with pytest.raises(FAILS):
        contract.test_an_outbox_answers_what_its_messages_say(broken, "event_outbox")


class EchoingNotifier:
    """Delivers every send, repeats included."""

    name = "echo"

    def __init__(self) -> None:
        self.mailbox: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.mailbox.append(notification)


def test_a_notifier_that_delivers_repeats_fails_the_kit() -> None:
    notifier = EchoingNotifier()

    def delivered(sent_by: Notifier) -> Sequence[Notification]:
        return notifier.mailbox

    with pytest.raises(FAILS):
        NotifierContract().test_a_notification_sent_twice_is_delivered_once(notifier, delivered)


class NaiveClock:
    """Reads the wall clock without a time zone."""

    def now(self) -> datetime:
        return datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001 - naive on purpose

    def today(self) -> date:
        return self.now().date()


def test_a_naive_clock_fails_the_kit() -> None:
    with pytest.raises(FAILS):
        ClockContract().test_now_is_timezone_aware(NaiveClock())


# --- as an integrator sees it -------------------------------------------------------------------


def test_an_integrators_run_reports_the_failure_and_the_missing_capability(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_adapters="""
        import pytest
        from datetime import UTC, datetime

        from o2c.adapters.memory import FixedClock, MemoryLedger, SandboxGateway
        from o2c.ports.gateways import GatewayCapabilities
        from o2c.ports.ledger import PostingResult
        from o2c.testing import GatewayTokens, LedgerContract, PaymentGatewayContract


        class NoRefunds(SandboxGateway):
            def __init__(self):
                clock = FixedClock(datetime(2026, 3, 2, tzinfo=UTC))
                no_refunds = GatewayCapabilities(currencies=frozenset({"EUR"}), refunds=False)
                super().__init__(clock, capabilities=no_refunds)


        class TestNoRefunds(PaymentGatewayContract):
            @pytest.fixture
            def make_gateway(self):
                return NoRefunds

            @pytest.fixture
            def gateway_tokens(self):
                return GatewayTokens("tok_approve", "tok_decline")


        class Repeating(MemoryLedger):
            def post_batch(self, entries):
                result = super().post_batch(entries)
                return PostingResult(result.posted + result.already_posted, ())


        class TestRepeating(LedgerContract):
            @pytest.fixture
            def make_ledger(self):
                return Repeating
        """
    )
    result = pytester.runpytest_subprocess("-rfs", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] >= 2
    result.stdout.fnmatch_lines(
        [
            "*FAILED*TestRepeating::test_posting_again_moves_no_money*",
            "*SKIPPED*GatewayCapabilities.refunds = false*",
        ]
    )
    # Assertions in the kit are rewritten: the failure shows the values compared.
    result.stdout.fnmatch_lines(["E*AssertionError: assert PostingResult*== PostingResult*"])
