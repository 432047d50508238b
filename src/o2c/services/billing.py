"""Invoices and credit notes: issuing by the order's policy, correcting, disputing, writing off.

Invoicing follows the two-step protocol of :mod:`o2c.domain.invoicing` inside one unit of work:
the order records what the invoice bills (and refuses more than its policy allows) and the draft
is issued under a number drawn from the gap-free sequence of ``Settings.invoice_series``, with the
customer's payment terms and the business calendar. A refused invoice hands its number back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from o2c.domain.events import Changed
from o2c.domain.invoicing import CreditNote, CreditNoteIssued, Invoice, WriteOffKind
from o2c.domain.money import Money
from o2c.domain.orders import QuantityLike
from o2c.services import _common
from o2c.services._runtime import Runtime, Work
from o2c.services.results import CreditNoteResult, InvoiceResult, InvoiceUpdate

__all__ = ["BillingService"]


class BillingService:
    """Issues invoices and credit notes, records disputes and bad-debt write-offs."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def _number(self, work: Work, series: str) -> str:
        drawn = work.uow.sequences.next(series)
        return self._runtime.settings.number_format.format(series=series, number=drawn)

    def invoice_order(
        self,
        order_id: str,
        quantities: Mapping[str, QuantityLike] | None = None,
        *,
        idempotency_key: str,
    ) -> InvoiceResult:
        """Invoice what the order's policy allows now (or only ``quantities`` per line id).

        Raises :class:`UnknownOrder`; ``EmptyInvoice`` when nothing may be invoiced and
        ``OverInvoicing`` for more than the policy allows pass through from the domain.
        """

        def body(work: Work) -> InvoiceResult:
            uow = work.uow
            order = _common.order(uow, order_id)
            customer = _common.customer(uow, order.customer_id)
            settings = self._runtime.settings
            draft = Invoice.from_order(
                order,
                f"{order_id}/draft",
                quantities=quantities,
                tax_rounding=settings.tax_rounding,
            )
            billed = draft.quantities_by_order_line()
            order.check_invoiceable(billed)  # before a number is drawn
            number = self._number(work, settings.invoice_series)
            order, events = order.record_invoice(billed, invoice_id=number, on=work.today)
            work.record(events)
            invoice, events = draft.issue(number, work.today, customer.terms, settings.calendar)
            work.record(events)
            uow.orders.save(order.order_id, order)
            uow.invoices.add(number, invoice)
            item = invoice.open_item
            assert item is not None  # issued invoices always hold their open item
            return InvoiceResult(number, order_id, invoice.gross, item.due_date)

        request = (order_id, dict(quantities or {}))
        return self._runtime.execute("invoice_order", idempotency_key, request, InvoiceResult, body)

    def issue_credit_note(
        self,
        invoice_number: str,
        *,
        reason: str,
        lines: Mapping[int, Decimal] | None = None,
        amount: Money | None = None,
        idempotency_key: str,
    ) -> CreditNoteResult:
        """Credit an invoice: in full, for quantities of its lines (returned goods), or an amount.

        Give ``lines`` (invoice line number to quantity) or ``amount`` (a gross price
        reduction), or neither for a full credit. What exceeds the open amount becomes the
        customer's credit. Raises :class:`UnknownInvoice`; ``OverCredit`` passes through.
        """

        def body(work: Work) -> CreditNoteResult:
            uow = work.uow
            invoice = _common.invoice(uow, invoice_number)
            number = self._number(work, self._runtime.settings.credit_note_series)
            if lines is not None:
                note = CreditNote.for_lines(invoice, number, work.today, reason, lines)
            elif amount is not None:
                note = CreditNote.for_amount(invoice, number, work.today, reason, amount)
            else:
                note = CreditNote.full(invoice, number, work.today, reason)
            invoice, events = invoice.apply_credit_note(note)
            work.record(events)
            uow.credit_notes.add(number, note)
            uow.invoices.save(invoice_number, invoice)
            issued = next(e for e in events if isinstance(e, CreditNoteIssued))
            return CreditNoteResult(
                number, invoice_number, note.gross, issued.applied, issued.customer_credit
            )

        request = (invoice_number, reason, dict(lines or {}), amount)
        return self._runtime.execute(
            "issue_credit_note", idempotency_key, request, CreditNoteResult, body
        )

    def dispute_invoice(
        self, invoice_number: str, *, reason: str, idempotency_key: str
    ) -> InvoiceUpdate:
        """The customer disputes an invoice; dunning pauses until the dispute is resolved."""
        return self._change_invoice(
            "dispute_invoice",
            invoice_number,
            idempotency_key,
            (invoice_number, reason),
            lambda invoice, work: invoice.dispute(work.today, reason),
        )

    def resolve_dispute(
        self, invoice_number: str, *, resolution: str, idempotency_key: str
    ) -> InvoiceUpdate:
        """End a dispute (issue a credit note first if the customer was right)."""
        return self._change_invoice(
            "resolve_dispute",
            invoice_number,
            idempotency_key,
            (invoice_number, resolution),
            lambda invoice, work: invoice.resolve_dispute(work.today, resolution),
        )

    def write_off_bad_debt(
        self,
        invoice_number: str,
        *,
        reason: str,
        amount: Money | None = None,
        idempotency_key: str,
    ) -> InvoiceUpdate:
        """Write off (part of) an invoice as bad debt; the whole rest by default."""
        return self._change_invoice(
            "write_off_bad_debt",
            invoice_number,
            idempotency_key,
            (invoice_number, reason, amount),
            lambda invoice, work: invoice.record_write_off(
                amount if amount is not None else invoice.open,
                work.today,
                reason,
                WriteOffKind.BAD_DEBT,
            ),
        )

    def _change_invoice(
        self,
        command: str,
        invoice_number: str,
        idempotency_key: str,
        request: object,
        step: Callable[[Invoice, Work], Changed[Invoice]],
    ) -> InvoiceUpdate:
        """Run one domain step on an issued invoice as a command of its own."""

        def body(work: Work) -> InvoiceUpdate:
            invoice, events = step(_common.invoice(work.uow, invoice_number), work)
            work.record(events)
            work.uow.invoices.save(invoice_number, invoice)
            return InvoiceUpdate(invoice_number, invoice.state, invoice.open)

        return self._runtime.execute(command, idempotency_key, request, InvoiceUpdate, body)
