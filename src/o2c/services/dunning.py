"""Dunning runs: notices, fees and interest, credit holds and releases."""

from __future__ import annotations

from datetime import date

from o2c.domain.credit import hold_if_overdue, release_if_settled
from o2c.domain.dunning import (
    CreditHoldRequested,
    CreditReleaseRequested,
    DunningBook,
    run_dunning,
)
from o2c.domain.receivables import OpenItem
from o2c.services._runtime import Runtime, Work
from o2c.services.results import DunningSummary

__all__ = ["BOOK_KEY", "DunningService"]

BOOK_KEY = "default"
"""The key of the dunning book in ``UnitOfWork.dunning``."""


class DunningService:
    """Runs dunning over every open item and acts on what it decides."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def run_dunning(self, on: date | None = None, *, idempotency_key: str) -> DunningSummary:
        """Dun every open invoice and charge as of ``on`` (default: today).

        New fee and interest charges are stored (and posted), each notice is sent to its
        customer, and the credit holds and releases dunning asks for are applied to the credit
        accounts. Running again for the same date raises nothing new. Without a dunning policy
        in the settings nothing happens.
        """

        def body(work: Work) -> DunningSummary:
            as_of = on if on is not None else work.today
            policy = self._runtime.settings.dunning_policy
            if policy is None:
                return DunningSummary(as_of, (), (), (), ())
            uow = work.uow
            book = uow.dunning.find(BOOK_KEY) or DunningBook()
            items = uow.open_items.open()
            result = run_dunning(items, book, policy, as_of)
            work.record(result.events)
            uow.dunning.save(BOOK_KEY, result.book)
            for charge in result.charges:
                uow.charges.add(charge.item_id, charge)
            notices: list[str] = []
            references = {item.item_id: item.reference for item in items}
            for notice in result.notices:
                notification_id = (
                    f"dunning:{notice.customer_id}:{notice.currency}:{notice.on.isoformat()}"
                    f":L{notice.level}"
                )
                work.notify(
                    notification_id,
                    notice.customer_id,
                    notice.template,
                    level=str(notice.level),
                    currency=notice.currency,
                    overdue_total=str(notice.overdue_total.amount),
                    items=",".join(line.item_id for line in notice.lines),
                    # what to pay each item with, in the same order ("" for an item without one)
                    references=",".join(
                        references.get(line.item_id) or "" for line in notice.lines
                    ),
                    final=str(notice.final).lower(),
                )
                notices.append(notification_id)
            everything = (*items, *result.charges)
            held: list[str] = []
            released: list[str] = []
            for action in result.actions:
                if isinstance(action, CreditHoldRequested) and self._hold(
                    work, action.customer_id, everything, as_of
                ):
                    held.append(action.customer_id)
                elif isinstance(action, CreditReleaseRequested) and self._release(
                    work, action.customer_id, everything, as_of
                ):
                    released.append(action.customer_id)
            return DunningSummary(
                as_of,
                tuple(notices),
                tuple(charge.item_id for charge in result.charges),
                tuple(held),
                tuple(released),
            )

        request = on
        return self._runtime.execute("run_dunning", idempotency_key, request, DunningSummary, body)

    @staticmethod
    def _hold(work: Work, customer_id: str, items: tuple[OpenItem, ...], as_of: date) -> bool:
        account = work.uow.credit_accounts.find(customer_id)
        if account is None:
            return False
        own = [i for i in items if i.customer_id == customer_id and i.currency == account.currency]
        account, events = hold_if_overdue(account, own, as_of)
        if not events:
            return False
        work.record(events)
        work.uow.credit_accounts.save(customer_id, account)
        return True

    @staticmethod
    def _release(work: Work, customer_id: str, items: tuple[OpenItem, ...], as_of: date) -> bool:
        account = work.uow.credit_accounts.find(customer_id)
        if account is None:
            return False
        own = [i for i in items if i.customer_id == customer_id and i.currency == account.currency]
        account, events = release_if_settled(account, own, as_of)
        if not events:
            return False
        work.record(events)
        work.uow.credit_accounts.save(customer_id, account)
        return True
