"""Customers and their credit accounts: registration, credit applications and reviews."""

from __future__ import annotations

from datetime import date

from o2c.domain.credit import CreditAccount
from o2c.domain.customers import Customer
from o2c.domain.money import Money
from o2c.services import _common
from o2c.services._runtime import Runtime, Work
from o2c.services.errors import CustomerExists
from o2c.services.results import CreditStanding, CustomerRegistered

__all__ = ["CustomerService"]


def _standing(account: CreditAccount) -> CreditStanding:
    return CreditStanding(account.customer_id, account.status, account.credit_limit)


class CustomerService:
    """Registers customers and moves their credit accounts through applications and reviews."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def register_customer(self, customer: Customer, *, idempotency_key: str) -> CustomerRegistered:
        """Register a customer, with a credit account that has never applied (``unknown``).

        Raises :class:`CustomerExists` if the id is taken.
        """

        def body(work: Work) -> CustomerRegistered:
            uow = work.uow
            if uow.customers.find(customer.customer_id) is not None:
                raise CustomerExists(customer.customer_id)
            uow.customers.add(customer.customer_id, customer)
            account = CreditAccount.new(customer.customer_id, customer.currency)
            uow.credit_accounts.save(customer.customer_id, account)
            return CustomerRegistered(customer.customer_id)

        return self._runtime.execute(
            "register_customer", idempotency_key, customer, CustomerRegistered, body
        )

    def apply_for_credit(
        self,
        customer_id: str,
        requested_limit: Money | None = None,
        *,
        idempotency_key: str,
    ) -> CreditStanding:
        """The customer applies for credit (first time, after a denial or an expiry)."""

        def body(work: Work) -> CreditStanding:
            found = _common.customer(work.uow, customer_id)
            account = _common.credit_account(work.uow, found)
            account, events = account.apply(work.today, requested_limit)
            work.record(events)
            work.uow.credit_accounts.save(customer_id, account)
            return _standing(account)

        request = (customer_id, requested_limit)
        return self._runtime.execute(
            "apply_for_credit", idempotency_key, request, CreditStanding, body
        )

    def approve_credit(
        self,
        customer_id: str,
        limit: Money,
        expires_on: date,
        *,
        reviewer: str,
        reason: str,
        idempotency_key: str,
    ) -> CreditStanding:
        """A person approves the application with a limit valid up to ``expires_on``.

        An application nobody has picked up yet is put under review first, so the history shows
        that a person decided. A customer that never applied applies now.
        """

        def body(work: Work) -> CreditStanding:
            account = self._for_review(work, customer_id)
            account, events = account.approve(limit, expires_on, reviewer, reason, work.today)
            work.record(events)
            work.uow.credit_accounts.save(customer_id, account)
            return _standing(account)

        request = (customer_id, limit, expires_on, reviewer, reason)
        return self._runtime.execute(
            "approve_credit", idempotency_key, request, CreditStanding, body
        )

    def deny_credit(
        self, customer_id: str, *, reviewer: str, reason: str, idempotency_key: str
    ) -> CreditStanding:
        """A person denies the application."""

        def body(work: Work) -> CreditStanding:
            account = self._for_review(work, customer_id)
            account, events = account.deny(reviewer, reason, work.today)
            work.record(events)
            work.uow.credit_accounts.save(customer_id, account)
            return _standing(account)

        request = (customer_id, reviewer, reason)
        return self._runtime.execute("deny_credit", idempotency_key, request, CreditStanding, body)

    def release_credit_hold(
        self, customer_id: str, *, reason: str, idempotency_key: str
    ) -> CreditStanding:
        """A person releases a credit hold (manual holds are never released automatically)."""

        def body(work: Work) -> CreditStanding:
            found = _common.customer(work.uow, customer_id)
            account = _common.credit_account(work.uow, found)
            account, events = account.release(work.today, reason)
            work.record(events)
            work.uow.credit_accounts.save(customer_id, account)
            return _standing(account)

        request = (customer_id, reason)
        return self._runtime.execute(
            "release_credit_hold", idempotency_key, request, CreditStanding, body
        )

    @staticmethod
    def _for_review(work: Work, customer_id: str) -> CreditAccount:
        found = _common.customer(work.uow, customer_id)
        account = _common.credit_account(work.uow, found)
        account, events = account.bring_to_review(work.today)
        work.record(events)
        return account
