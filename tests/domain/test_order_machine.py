"""A stateful test of the order lifecycle against a simple model of the expected quantities.

The model knows, for each line, what was ordered, cancelled, shipped, delivered, back-ordered,
invoiced and returned, and which lifecycle state the order should be in. Each rule predicts whether
the operation is allowed; allowed operations must succeed and match the model, refused ones must
raise a domain error and leave the order exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from o2c.domain.errors import DomainError
from o2c.domain.events import Changed
from o2c.domain.money import total, unit_price
from o2c.domain.orders import InvoicingPolicy, Order, OrderLine, OrderStatus, Progress
from o2c.domain.tax import TaxCategory

DAY = date(2026, 3, 2)
S = OrderStatus
LINE_IDS = ("a", "b", "c")
QUANTITY = st.integers(1, 4).map(Decimal)
LINE = st.sampled_from(LINE_IDS)
BEFORE_APPROVAL = (S.DRAFT, S.PLACED, S.CREDIT_REVIEW, S.CREDIT_HOLD)
SHIPPING = (S.APPROVED, S.PARTIALLY_FULFILLED)
HAS_SHIPPED = (S.PARTIALLY_FULFILLED, S.FULFILLED, S.PARTIALLY_INVOICED, S.INVOICED, S.COMPLETED)


@attrs.define
class ModelLine:
    ordered: Decimal
    cancelled: Decimal = Decimal(0)
    fulfilled: Decimal = Decimal(0)
    back_ordered: Decimal = Decimal(0)
    invoiced: Decimal = Decimal(0)
    returned: Decimal = Decimal(0)
    delivered: Decimal = Decimal(0)

    @property
    def effective(self) -> Decimal:
        return self.ordered - self.cancelled

    @property
    def open(self) -> Decimal:
        return self.effective - self.fulfilled

    @property
    def in_transit(self) -> Decimal:
        # a return is counted against delivered goods first
        return self.fulfilled - max(self.delivered, self.returned)


class OrderMachine(RuleBasedStateMachine):
    order: Order
    model: dict[str, ModelLine]
    status: OrderStatus

    @initialize(
        policy=st.sampled_from(InvoicingPolicy),
        quantities=st.tuples(QUANTITY, QUANTITY, QUANTITY),
        approved=st.integers(0, 2).map(bool),
    )
    def create(
        self, policy: InvoicingPolicy, quantities: tuple[Decimal, ...], approved: bool
    ) -> None:
        lines = [
            OrderLine(
                line_id,
                f"P-{line_id}",
                "",
                quantity=quantity,
                unit_price=unit_price("2.50", "EUR"),
                tax=TaxCategory.standard("19"),
            )
            for line_id, quantity in zip(LINE_IDS, quantities, strict=True)
        ]
        self.order = Order.create("SO-1", "C-1", lines, on=DAY, invoicing_policy=policy).state
        self.model = {i: ModelLine(q) for i, q in zip(LINE_IDS, quantities, strict=True)}
        self.status = S.DRAFT
        if approved:  # most runs start where shipping can begin, to reach the later states
            self.place()
            self.approve()

    # --- helpers -------------------------------------------------------------------------------

    def attempt(self, allowed: bool, operation: Callable[[Order], Changed[Order]]) -> bool:
        """Run the operation; it must succeed exactly when the model says it is allowed."""
        before = self.order
        if allowed:
            self.order, events = operation(before)
            assert events
            return True
        try:
            operation(before)
        except DomainError:
            assert self.order == before
            return False
        raise AssertionError("the order accepted an operation the model refuses")

    def invoice_ceiling(self, line: ModelLine) -> Decimal:
        policy = self.order.invoicing_policy
        if policy is InvoicingPolicy.ON_SHIPMENT:
            return line.fulfilled
        if policy is InvoicingPolicy.ON_DELIVERY:
            return line.delivered
        return line.effective

    def after_shipping_change(self) -> None:
        lines = self.model.values()
        if self.status in SHIPPING:
            if all(m.effective == 0 for m in lines):
                self.status = S.CANCELLED
            elif all(m.open == 0 for m in lines):
                self.status = S.FULFILLED
            elif any(m.fulfilled for m in lines):
                self.status = S.PARTIALLY_FULFILLED
        self.after_invoicing_change()

    def after_invoicing_change(self) -> None:
        if self.status in (S.FULFILLED, S.PARTIALLY_INVOICED):
            lines = self.model.values()
            if all(m.invoiced == m.effective for m in lines):
                self.status = S.INVOICED
            elif any(m.invoiced for m in lines):
                self.status = S.PARTIALLY_INVOICED

    # --- credit and confirmation ---------------------------------------------------------------

    @rule()
    def place(self) -> None:
        if self.attempt(self.status is S.DRAFT, lambda o: o.place(on=DAY)):
            self.status = S.PLACED

    @rule()
    def review(self) -> None:
        allowed = self.status in (S.PLACED, S.CREDIT_HOLD)
        if self.attempt(allowed, lambda o: o.send_to_credit_review(on=DAY)):
            self.status = S.CREDIT_REVIEW

    @rule()
    def hold(self) -> None:
        allowed = self.status in (S.PLACED, S.CREDIT_REVIEW)
        if self.attempt(allowed, lambda o: o.put_on_credit_hold(on=DAY)):
            self.status = S.CREDIT_HOLD

    @rule()
    def approve(self) -> None:
        allowed = self.status in (S.PLACED, S.CREDIT_REVIEW, S.CREDIT_HOLD)
        if self.attempt(allowed, lambda o: o.approve(on=DAY)):
            self.status = S.APPROVED

    @rule(line_id=LINE, quantity=QUANTITY)
    def amend(self, line_id: str, quantity: Decimal) -> None:
        line = self.model.get(line_id)
        started = any(m.fulfilled or m.invoiced for m in self.model.values())
        allowed = (
            line is not None
            and not started
            and self.status in (*BEFORE_APPROVAL, S.APPROVED)
            and quantity > line.cancelled
            and quantity != line.ordered
        )
        if self.attempt(
            allowed, lambda o: o.change_quantity(line_id, quantity, reason="r", on=DAY)
        ):
            assert line is not None
            revision = self.order.revision
            line.ordered = quantity
            line.back_ordered = min(line.back_ordered, line.open)
            if self.status is S.APPROVED:
                self.status = S.PLACED
            assert self.order.revision == revision
            assert len(self.order.revisions) == revision - 1

    @rule(line_id=LINE)
    def remove(self, line_id: str) -> None:
        started = any(m.fulfilled or m.invoiced for m in self.model.values())
        allowed = (
            line_id in self.model
            and len(self.model) > 1
            and not started
            and self.status in (*BEFORE_APPROVAL, S.APPROVED)
        )
        if self.attempt(allowed, lambda o: o.remove_line(line_id, reason="r", on=DAY)):
            del self.model[line_id]
            if self.status is S.APPROVED:
                self.status = S.PLACED

    # --- shipping ------------------------------------------------------------------------------

    @rule(line_id=LINE, quantity=QUANTITY)
    def fulfil(self, line_id: str, quantity: Decimal) -> None:
        line = self.model.get(line_id)
        allowed = self.status in SHIPPING and line is not None and quantity <= line.open
        if self.attempt(allowed, lambda o: o.fulfil({line_id: quantity}, on=DAY)):
            assert line is not None
            line.fulfilled += quantity
            line.back_ordered = min(line.back_ordered, line.open)
            self.after_shipping_change()

    @rule(line_id=LINE)
    def fulfil_rest(self, line_id: str) -> None:
        """Ship everything a line has open (a shortcut to the later states)."""
        line = self.model.get(line_id)
        if line is not None and line.open > 0:
            self.fulfil(line_id, line.open)

    @rule(line_id=LINE, quantity=QUANTITY)
    def back_order(self, line_id: str, quantity: Decimal) -> None:
        line = self.model.get(line_id)
        allowed = (
            self.status in SHIPPING
            and line is not None
            and quantity <= line.open - line.back_ordered
        )
        if self.attempt(allowed, lambda o: o.back_order(line_id, quantity, on=DAY)):
            assert line is not None
            line.back_ordered += quantity

    @rule(line_id=LINE, quantity=st.none() | QUANTITY)
    def cancel_line(self, line_id: str, quantity: Decimal | None) -> None:
        line = self.model.get(line_id)
        amount = Decimal(0) if line is None else (line.open if quantity is None else quantity)
        allowed = (
            self.status in SHIPPING
            and line is not None
            and 0 < amount <= line.effective - max(line.fulfilled, line.invoiced)
        )
        if self.attempt(allowed, lambda o: o.cancel_line(line_id, quantity, on=DAY)):
            assert line is not None
            line.cancelled += amount
            line.back_ordered = min(line.back_ordered, line.open)
            self.after_shipping_change()

    @rule(attempt=st.integers(0, 3))
    def cancel(self, attempt: int) -> None:
        if attempt:  # cancelling ends a run; try it in a quarter of the draws only
            return
        allowed = self.status in (*BEFORE_APPROVAL, S.APPROVED) and not any(
            m.invoiced for m in self.model.values()
        )
        if self.attempt(allowed, lambda o: o.cancel(on=DAY)):
            for line in self.model.values():
                line.cancelled, line.back_ordered = line.ordered, Decimal(0)
            self.status = S.CANCELLED

    @rule(line_id=LINE, quantity=QUANTITY)
    def deliver(self, line_id: str, quantity: Decimal) -> None:
        line = self.model.get(line_id)
        allowed = self.status in HAS_SHIPPED and line is not None and quantity <= line.in_transit
        if self.attempt(allowed, lambda o: o.record_delivery({line_id: quantity}, on=DAY)):
            assert line is not None
            line.delivered += quantity

    @rule(line_id=LINE)
    def deliver_rest(self, line_id: str) -> None:
        """Deliver everything a line has on its way."""
        line = self.model.get(line_id)
        if line is not None and line.in_transit > 0:
            self.deliver(line_id, line.in_transit)

    # --- invoicing, returns, completion --------------------------------------------------------

    @rule(line_id=LINE, quantity=QUANTITY)
    def invoice(self, line_id: str, quantity: Decimal) -> None:
        line = self.model.get(line_id)
        allowed = (
            self.status in (*SHIPPING, S.FULFILLED, S.PARTIALLY_INVOICED)
            and line is not None
            and line.invoiced + quantity <= self.invoice_ceiling(line)
        )
        if self.attempt(
            allowed, lambda o: o.record_invoice({line_id: quantity}, invoice_id="I", on=DAY)
        ):
            assert line is not None
            line.invoiced += quantity
            self.after_invoicing_change()

    @rule(line_id=LINE)
    def invoice_rest(self, line_id: str) -> None:
        """Invoice everything a line may still be billed for."""
        line = self.model.get(line_id)
        if line is not None and self.invoice_ceiling(line) > line.invoiced:
            self.invoice(line_id, self.invoice_ceiling(line) - line.invoiced)

    @rule()
    def ship_and_bill_the_rest(self) -> None:
        """Ship and invoice whatever is left, line by line (reaches the closing states)."""
        for line_id in list(self.model):
            self.fulfil_rest(line_id)
        for line_id in list(self.model):
            self.deliver_rest(line_id)
        for line_id in list(self.model):
            self.invoice_rest(line_id)

    @rule(line_id=LINE, quantity=QUANTITY)
    def record_return(self, line_id: str, quantity: Decimal) -> None:
        line = self.model.get(line_id)
        allowed = (
            self.status in HAS_SHIPPED
            and line is not None
            and quantity <= line.fulfilled - line.returned
        )
        if self.attempt(allowed, lambda o: o.record_return({line_id: quantity}, on=DAY)):
            assert line is not None
            line.returned += quantity

    @rule()
    def complete(self) -> None:
        if self.attempt(self.status is S.INVOICED, lambda o: o.complete(on=DAY)):
            self.status = S.COMPLETED

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def matches_the_model(self) -> None:
        assert self.order.status is self.status
        assert [line.line_id for line in self.order.lines] == list(self.model)
        for line in self.order.lines:
            m = self.model[line.line_id]
            assert (line.quantity, line.cancelled, line.fulfilled) == (
                m.ordered,
                m.cancelled,
                m.fulfilled,
            )
            assert (line.back_ordered, line.invoiced, line.returned, line.delivered) == (
                m.back_ordered,
                m.invoiced,
                m.returned,
                m.delivered,
            )

    @invariant()
    def quantities_stay_in_bounds(self) -> None:
        for line in self.order.lines:
            assert 0 <= line.fulfilled <= line.quantity - line.cancelled
            assert 0 <= line.back_ordered <= line.open_quantity
            assert 0 <= line.returned <= line.fulfilled
            assert 0 <= line.delivered <= line.fulfilled
            assert 0 <= line.invoiced <= self.invoice_ceiling(self.model[line.line_id])
            assert line.invoiceable_quantity(self.order.invoicing_policy) == max(
                Decimal(0), self.invoice_ceiling(self.model[line.line_id]) - line.invoiced
            )

    @invariant()
    def state_agrees_with_quantities(self) -> None:
        order = self.order
        shipping, invoicing = order.shipping_status, order.invoicing_status
        if order.status in (*BEFORE_APPROVAL, S.CANCELLED):
            assert shipping is Progress.NONE
            assert invoicing is Progress.NONE
        elif order.status is S.APPROVED:
            assert shipping is Progress.NONE
        elif order.status is S.PARTIALLY_FULFILLED:
            assert shipping is Progress.PARTIAL
        elif order.status is S.FULFILLED:
            assert (shipping, invoicing) == (Progress.FULL, Progress.NONE)
        elif order.status is S.PARTIALLY_INVOICED:
            assert (shipping, invoicing) == (Progress.FULL, Progress.PARTIAL)
        else:
            assert (shipping, invoicing) == (Progress.FULL, Progress.FULL)
        assert order.net_total == total((line.net_amount for line in order.lines), "EUR")

    @invariant()
    def delivery_status_agrees_with_the_model(self) -> None:
        lines = self.model.values()
        if not any(m.delivered for m in lines):
            expected = Progress.NONE
        elif all(m.open == 0 and m.in_transit == 0 for m in lines):
            expected = Progress.FULL
        else:
            expected = Progress.PARTIAL
        assert self.order.delivery_status is expected


TestOrderMachine = OrderMachine.TestCase
