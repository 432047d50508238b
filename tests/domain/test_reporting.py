"""AR measures: hand-computed examples for each measure, edge cases, and invariants."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.domain.errors import CurrencyMismatch, InvalidAmount, InvalidInput
from o2c.domain.money import Money, Rounding, from_minor, money, to_minor, zero
from o2c.domain.receivables import Instalment, OpenItem, open_total
from o2c.domain.reporting import (
    DEFAULT_AGING,
    AgingBasis,
    AgingBucket,
    AgingSchedule,
    CreditSale,
    ForecastGrouping,
    InvoiceTiming,
    MonthlySales,
    OrderOutcome,
    OverdueHandling,
    Period,
    StatementKind,
    StatementLine,
    aging_report,
    average_days_delinquent,
    bad_debt_forecast,
    best_possible_dso,
    cash_forecast,
    collection_effectiveness_index,
    count_back_dso,
    credit_sales_in,
    dso,
    invoice_processing_time,
    order_accuracy,
    statement_of_account,
)
from o2c.domain.reporting._common import half_up

AS_OF = date(2026, 3, 31)
DEFAULT_RATES = {"current": "1", "1-30": "5", "31-60": "10", "61-90": "25", "over 90": "50"}


def eur(amount: str) -> Money:
    return money(amount, "EUR")


def an_item(
    item_id: str,
    customer: str,
    due: date,
    amount: str,
    *,
    currency: str = "EUR",
    document_date: date | None = None,
) -> OpenItem:
    return OpenItem(
        item_id,
        customer,
        document_date or due - timedelta(days=30),
        (Instalment.unpaid(due, money(amount, currency)),),
    )


def instalment_item(customer: str, parts: Sequence[tuple[date, str]]) -> OpenItem:
    return OpenItem(
        "PLAN-1",
        customer,
        parts[0][0] - timedelta(days=30),
        tuple(Instalment.unpaid(due, eur(amount)) for due, amount in parts),
    )


@pytest.fixture
def ledger() -> list[OpenItem]:
    """A small AR ledger as of 31 March 2026."""
    return [
        an_item("INV-1", "ACME", date(2026, 3, 31), "250.50"),  # due today: current
        an_item("INV-2", "ACME", date(2026, 3, 1), "100.00"),  # 30 days: 1-30
        an_item("INV-3", "BOLT", date(2026, 1, 31), "100.00"),  # 59 days: 31-60
        an_item("INV-4", "BOLT", date(2025, 10, 31), "75.25"),  # 151 days: over 90
        an_item("INV-5", "BOLT", date(2026, 4, 30), "1000", currency="JPY"),
    ]


# --- aging schedule ---------------------------------------------------------------------------


def test_default_schedule_has_the_five_usual_buckets() -> None:
    assert DEFAULT_AGING.labels == ("current", "1-30", "31-60", "61-90", "over 90")


@pytest.mark.parametrize(
    ("age", "label"),
    [
        (-10, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "over 90"),
        (5000, "over 90"),
    ],
)
def test_bucket_boundaries_are_inclusive(age: int, label: str) -> None:
    assert DEFAULT_AGING.labels[DEFAULT_AGING.index_of(age)] == label


def test_schedule_from_limits_with_own_labels() -> None:
    schedule = AgingSchedule.from_limits((30, 60), labels=("young", "middle", "old"))
    assert schedule.buckets == (
        AgingBucket("young", None, 30),
        AgingBucket("middle", 31, 60),
        AgingBucket("old", 61, None),
    )
    assert AgingSchedule.from_limits(()).labels == ("all",)
    assert AgingSchedule.from_limits((15,)).labels == ("up to 15", "over 15")


@pytest.mark.parametrize(
    "buckets",
    [
        (),
        (AgingBucket("a", None, 10), AgingBucket("b", 12, None)),  # gap
        (AgingBucket("a", None, 10), AgingBucket("b", 10, None)),  # overlap
        (AgingBucket("a", None, 10), AgingBucket("b", 5, 8), AgingBucket("c", 9, None)),
        (AgingBucket("a", 0, 10), AgingBucket("b", 11, None)),  # first closed below
        (AgingBucket("a", None, 10), AgingBucket("b", 11, 20)),  # last closed above
        (AgingBucket("a", None, 10), AgingBucket("b", None, None)),  # open in the middle
        (AgingBucket("a", None, 10), AgingBucket("a", 11, None)),  # repeated label
    ],
)
def test_invalid_schedules_are_refused(buckets: tuple[AgingBucket, ...]) -> None:
    with pytest.raises(InvalidInput):
        AgingSchedule(buckets)


def test_invalid_buckets_and_limits_are_refused() -> None:
    with pytest.raises(InvalidInput):
        AgingBucket("a", 10, 5)
    with pytest.raises(InvalidInput):
        AgingBucket(" ", None, None)
    with pytest.raises(InvalidInput, match="ascend"):
        AgingSchedule.from_limits((30, 30, 60))
    with pytest.raises(InvalidInput, match="ascend"):
        AgingSchedule.from_limits((60, 30))
    with pytest.raises(InvalidInput, match="labels"):
        AgingSchedule.from_limits((30,), labels=("only one",))


# --- aging report -----------------------------------------------------------------------------


def test_aging_by_due_date_per_customer_and_currency(ledger: list[OpenItem]) -> None:
    report = aging_report(ledger, AS_OF)

    assert report.currencies == ("EUR", "JPY")
    acme = report.row("ACME", "EUR")
    assert acme.amounts == (eur("250.50"), eur("100.00"), eur("0"), eur("0"), eur("0"))
    assert acme.counts == (1, 1, 0, 0, 0)
    assert acme.total == eur("350.50")
    bolt = report.row("BOLT", "EUR")
    assert bolt.amounts == (eur("0"), eur("0"), eur("100.00"), eur("0"), eur("75.25"))
    total = report.total_row("EUR")
    assert total.amounts == (eur("250.50"), eur("100"), eur("100"), eur("0"), eur("75.25"))
    assert total.counts == (1, 1, 1, 0, 1)
    assert report.total("EUR") == eur("525.75")
    assert report.total("JPY") == money("1000", "JPY")
    assert report.row("ACME", "JPY").total == zero("JPY")  # never mixed with EUR
    assert [(r.customer_id, r.currency) for r in report.rows] == [
        ("ACME", "EUR"),
        ("BOLT", "EUR"),
        ("BOLT", "JPY"),
    ]


def test_aging_by_document_date() -> None:
    item = an_item("INV-1", "ACME", date(2026, 4, 30), "10.00", document_date=date(2026, 2, 15))
    report = aging_report([item], AS_OF, basis=AgingBasis.DOCUMENT_DATE)
    assert report.total_row("EUR").counts == (0, 0, 1, 0, 0)  # 44 days old, not yet due
    assert aging_report([item], AS_OF).total_row("EUR").counts == (1, 0, 0, 0, 0)


def test_instalments_age_with_the_item_or_on_their_own() -> None:
    plan = instalment_item("ACME", [(date(2026, 1, 15), "30.00"), (date(2026, 4, 15), "70.00")])
    whole = aging_report([plan], AS_OF).total_row("EUR")
    assert whole.amounts[3] == eur("100.00")  # 75 days past due: all of it is 61-90
    assert whole.counts == (0, 0, 0, 1, 0)
    split = aging_report([plan], AS_OF, split_instalments=True).total_row("EUR")
    assert split.amounts == (eur("70.00"), eur("0"), eur("0"), eur("30.00"), eur("0"))
    assert split.counts == (1, 0, 0, 1, 0)


def test_settled_and_partly_paid_items() -> None:
    paid = an_item("INV-1", "ACME", date(2026, 3, 1), "40.00").apply(eur("40.00"))
    part = an_item("INV-2", "ACME", date(2026, 3, 1), "40.00").apply(eur("15.50"))
    report = aging_report([paid, part], AS_OF)
    assert report.total("EUR") == eur("24.50")
    assert report.total_row("EUR").items == 1


def test_empty_aging_report() -> None:
    report = aging_report([], AS_OF)
    assert report.rows == ()
    assert report.total("EUR") == zero("EUR")
    assert "No open items." in report.render()


def test_aging_in_zero_and_three_decimal_currencies() -> None:
    items = [
        an_item("K-1", "ACME", date(2026, 3, 20), "1.005", currency="KWD"),
        an_item("K-2", "ACME", date(2026, 3, 30), "2.250", currency="KWD"),
        an_item("J-1", "ACME", date(2025, 12, 1), "12345", currency="JPY"),
    ]
    report = aging_report(items, AS_OF)
    assert report.total("KWD") == money("3.255", "KWD")
    assert report.total_row("JPY").amounts[4] == money("12345", "JPY")
    text = report.render()
    assert "3.255" in text
    assert "12,345" in text


def test_aging_render_is_aligned(ledger: list[OpenItem]) -> None:
    text = aging_report(ledger, AS_OF).render()
    blocks = text.split("\n\n")[1:]
    assert len(blocks) == 2
    for block in blocks:
        widths = {len(line) for line in block.splitlines()}
        assert len(widths) == 1, block
    assert "Total     EUR   250.50  100.00  100.00   0.00    75.25  525.75" in text


# --- DSO, CEI, delinquency ---------------------------------------------------------------------

Q1 = [
    MonthlySales(2026, 1, eur("60000")),
    MonthlySales(2026, 2, eur("50000")),
    MonthlySales(2026, 3, eur("80000")),
]


def test_standard_dso() -> None:
    # 150 000 / 190 000 x 90 = 71.0526... days
    assert dso(eur("150000"), eur("190000"), 90) == Decimal("71.1")
    assert dso(eur("0"), eur("190000"), 90) == Decimal("0.0")
    assert dso(eur("150000"), eur("0"), 90) is None


def test_dso_refuses_bad_input() -> None:
    with pytest.raises(CurrencyMismatch):
        dso(eur("1"), money("1", "USD"), 30)
    with pytest.raises(InvalidAmount):
        dso(eur("-1"), eur("1"), 30)
    with pytest.raises(InvalidInput):
        dso(eur("1"), eur("1"), 0)


def test_credit_sales_in_a_period() -> None:
    q1 = Period(date(2026, 1, 1), date(2026, 3, 31))
    assert q1.days == 90
    assert credit_sales_in(q1, Q1, "EUR") == eur("190000")
    sales = [CreditSale(date(2025, 12, 31), eur("5")), CreditSale(date(2026, 1, 1), eur("7.50"))]
    assert credit_sales_in(q1, sales, "EUR") == eur("7.50")
    assert credit_sales_in(q1, [], "EUR") == zero("EUR")
    with pytest.raises(InvalidInput, match="straddles"):
        credit_sales_in(Period(date(2026, 1, 15), date(2026, 3, 31)), Q1, "EUR")
    with pytest.raises(CurrencyMismatch):
        credit_sales_in(q1, [CreditSale(date(2026, 1, 5), money("5", "USD"))], "EUR")
    with pytest.raises(InvalidInput):
        Period(date(2026, 2, 1), date(2026, 1, 31))


def test_count_back_dso_worked_example() -> None:
    # AR 150 000 on 31 March. March sales 80 000 cover 31 days (70 000 left), February's 50 000
    # cover 28 days (20 000 left), and 20 000 of January's 60 000 is a third of 31 days:
    # 31 + 28 + 10.33 = 69.33 days.
    assert count_back_dso(eur("150000"), date(2026, 3, 31), Q1) == Decimal("69.3")


def test_count_back_dso_from_individual_sales_matches_monthly_totals() -> None:
    sales = [
        CreditSale(date(2026, 1, 10), eur("20000")),
        CreditSale(date(2026, 1, 20), eur("40000")),
        CreditSale(date(2026, 2, 5), eur("50000")),
        CreditSale(date(2026, 3, 1), eur("30000")),
        CreditSale(date(2026, 3, 31), eur("50000")),
    ]
    assert count_back_dso(eur("150000"), date(2026, 3, 31), sales) == Decimal("69.3")


def test_count_back_dso_edges() -> None:
    end = date(2026, 3, 31)
    assert count_back_dso(eur("80000"), end, Q1) == Decimal("31.0")  # exactly March
    assert count_back_dso(eur("0"), end, Q1) == Decimal("0.0")
    assert count_back_dso(eur("0"), end, []) == Decimal("0.0")
    assert count_back_dso(eur("1"), end, []) is None
    assert count_back_dso(eur("190000"), end, Q1) == Decimal("90.0")  # all of the history
    assert count_back_dso(eur("190000.01"), end, Q1) is None  # history too short
    # Mid-month: March counts 15 days; 40 000 is half of March's 80 000 -> 7.5 days.
    assert count_back_dso(eur("40000"), date(2026, 3, 15), Q1) == Decimal("7.5")
    # A month without sales counts all its days.
    gap = [MonthlySales(2026, 1, eur("100")), MonthlySales(2026, 3, eur("100"))]
    assert count_back_dso(eur("150"), end, gap) == Decimal("74.5")  # 31 + 28 + 15.5


def test_count_back_dso_refuses_later_sales_and_other_currencies() -> None:
    with pytest.raises(InvalidInput):
        count_back_dso(eur("1"), date(2026, 3, 15), [CreditSale(date(2026, 3, 16), eur("1"))])
    with pytest.raises(InvalidInput):
        count_back_dso(eur("1"), date(2026, 3, 15), [MonthlySales(2026, 4, eur("1"))])
    with pytest.raises(CurrencyMismatch):
        count_back_dso(eur("1"), AS_OF, [MonthlySales(2026, 3, money("1", "JPY"))])
    with pytest.raises(InvalidInput):
        MonthlySales(2026, 13, eur("1"))


def test_cei() -> None:
    # (100 000 + 200 000 - 120 000) / (100 000 + 200 000 - 80 000) = 180 / 220 = 81.818 %
    cei = collection_effectiveness_index(eur("100000"), eur("200000"), eur("120000"), eur("80000"))
    assert cei == Decimal("81.82")
    everything = collection_effectiveness_index(eur("500"), eur("500"), eur("0"), eur("0"))
    assert everything == Decimal("100.00")


def test_cei_edges() -> None:
    assert collection_effectiveness_index(eur("0"), eur("0"), eur("0"), eur("0")) is None
    with pytest.raises(InvalidInput):
        collection_effectiveness_index(eur("1"), eur("1"), eur("1"), eur("2"))
    with pytest.raises(CurrencyMismatch):
        collection_effectiveness_index(eur("1"), eur("1"), eur("1"), money("0", "JPY"))


def test_best_possible_dso_and_average_days_delinquent() -> None:
    # Best possible: 90 000 / 190 000 x 90 = 42.63; delinquent: 60 000 / 190 000 x 90 = 28.42.
    assert best_possible_dso(eur("90000"), eur("190000"), 90) == Decimal("42.6")
    add = average_days_delinquent(eur("150000"), eur("90000"), eur("190000"), 90)
    assert add == Decimal("28.4")
    assert average_days_delinquent(eur("1"), eur("1"), eur("0"), 90) is None
    with pytest.raises(InvalidInput):
        average_days_delinquent(eur("1"), eur("2"), eur("10"), 90)


def test_average_days_delinquent_is_rounded_once() -> None:
    # DSO 0.25 -> 0.3, best 0.1 -> 0.1, but the exact difference 0.15 rounds to 0.2.
    assert dso(eur("25"), eur("100"), 1) == Decimal("0.3")
    assert best_possible_dso(eur("10"), eur("100"), 1) == Decimal("0.1")
    assert average_days_delinquent(eur("25"), eur("10"), eur("100"), 1) == Decimal("0.2")


# --- statement of account ---------------------------------------------------------------------

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def test_statement_of_account(ledger: list[OpenItem]) -> None:
    lines = [
        StatementLine.entry(date(2026, 2, 20), StatementKind.INVOICE, "INV-0", eur("40.00")),
        StatementLine.entry(date(2026, 3, 10), StatementKind.PAYMENT, "BANK-7", eur("40.00")),
        StatementLine.entry(date(2026, 3, 2), StatementKind.INVOICE, "INV-2", eur("100.00")),
        StatementLine.entry(date(2026, 3, 31), StatementKind.INVOICE, "INV-1", eur("250.50")),
        StatementLine.entry(date(2026, 3, 31), StatementKind.CHARGE, "FEE-1", eur("5.00")),
        StatementLine.entry(date(2026, 3, 31), StatementKind.CREDIT_NOTE, "CN-1", eur("5.00")),
        StatementLine.entry(date(2026, 4, 2), StatementKind.PAYMENT, "BANK-9", eur("100.00")),
    ]
    statement = statement_of_account(
        "ACME", MARCH, "EUR", lines, ledger, brought_forward=eur("10.00")
    )

    assert statement.opening_balance == eur("50.00")  # 10 brought forward + INV-0
    assert [e.line.reference for e in statement.entries] == [
        "INV-2",
        "BANK-7",
        "INV-1",
        "FEE-1",
        "CN-1",
    ]
    assert [e.balance for e in statement.entries] == [
        eur("150.00"),
        eur("110.00"),
        eur("360.50"),
        eur("365.50"),
        eur("360.50"),
    ]
    assert statement.closing_balance == eur("360.50")
    assert statement.total_debits == eur("355.50")
    assert statement.total_credits == eur("45.00")
    assert [i.item_id for i in statement.open_items] == ["INV-2", "INV-1"]
    assert statement.aging.total("EUR") == eur("350.50")
    assert statement.aging.row("ACME", "EUR").counts == (1, 1, 0, 0, 0)

    text = statement.render()
    assert "Opening balance" in text
    assert "2026-03-10  payment      BANK-7" in text
    assert "Closing balance  355.50   45.00   360.50" in text
    assert "BANK-9" not in text
    assert "INV-5" not in text  # other currency


def test_empty_statement() -> None:
    statement = statement_of_account("ACME", MARCH, "JPY", [], [])
    assert statement.opening_balance == statement.closing_balance == zero("JPY")
    assert statement.entries == ()
    assert "None." in statement.render()


def test_statement_refuses_other_currencies() -> None:
    line = StatementLine.entry(date(2026, 3, 2), StatementKind.INVOICE, "I", money("1", "USD"))
    with pytest.raises(CurrencyMismatch):
        statement_of_account("ACME", MARCH, "EUR", [line], [])
    with pytest.raises(CurrencyMismatch):
        statement_of_account("ACME", MARCH, "EUR", [], [], brought_forward=money("1", "USD"))


def test_statement_lines_sides_and_validation() -> None:
    payment = StatementLine.entry(date(2026, 3, 2), StatementKind.PAYMENT, "P", eur("5"))
    assert payment.credit == eur("5")
    assert payment.net == Decimal(-5)
    refund = StatementLine.entry(date(2026, 3, 2), StatementKind.REFUND, "R", eur("5"))
    assert refund.debit == eur("5")
    bounced = StatementLine(date(2026, 3, 3), StatementKind.PAYMENT, "P", eur("5"), eur("0"))
    assert bounced.net == Decimal(5)
    for debit, credit in [("0", "0"), ("1", "1"), ("-1", "0")]:
        with pytest.raises((InvalidInput, InvalidAmount)):
            StatementLine(date(2026, 3, 2), StatementKind.INVOICE, "X", eur(debit), eur(credit))
    with pytest.raises(InvalidAmount):
        StatementLine(date(2026, 3, 2), StatementKind.INVOICE, "X", Money("1.001", "EUR"), eur("0"))


# --- cash forecast ----------------------------------------------------------------------------


def test_monthly_cash_forecast(ledger: list[OpenItem]) -> None:
    plan = instalment_item("BOLT", [(date(2026, 4, 10), "30.00"), (date(2026, 6, 10), "70.00")])
    forecast = cash_forecast([*ledger, plan], AS_OF)
    euros = forecast.for_currency("EUR")
    assert euros.overdue == eur("275.25")  # INV-2, INV-3, INV-4
    assert [(p.label, p.amount) for p in euros.periods] == [
        ("2026-03", eur("250.50")),
        ("2026-04", eur("30.00")),
        ("2026-05", eur("0")),
        ("2026-06", eur("70.00")),
    ]
    assert euros.periods[1].start == date(2026, 4, 1)
    assert euros.periods[1].end == date(2026, 4, 30)
    assert forecast.total("EUR") == eur("625.75")
    assert forecast.for_currency("JPY").periods[-1].label == "2026-04"
    assert forecast.total("USD") == zero("USD")


def test_cash_forecast_shifted_by_days_late(ledger: list[OpenItem]) -> None:
    forecast = cash_forecast(
        ledger,
        AS_OF,
        grouping=ForecastGrouping.WEEK,
        average_days_late={"ACME": 45, "BOLT": -10},
    )
    euros = forecast.for_currency("EUR")
    # ACME: INV-2 expected 15 April, INV-1 15 May. BOLT pays early but is long overdue.
    assert euros.overdue == eur("175.25")
    assert euros.periods[0].label == "2026-W14"
    assert euros.periods[0].start == date(2026, 3, 30)
    by_label = {p.label: p.amount for p in euros.periods}
    assert by_label["2026-W16"] == eur("100.00")
    assert by_label["2026-W20"] == eur("250.50")
    assert euros.total == eur("525.75")
    # An early payer's instalment not yet due is expected no earlier than the forecast date.
    yen = forecast.for_currency("JPY")
    assert yen.overdue == zero("JPY")
    assert yen.periods[-1].label == "2026-W17"  # due 30 April, expected 10 days early


def test_an_early_payer_is_not_overdue_before_the_due_date() -> None:
    item = an_item("INV-9", "ACME", date(2026, 4, 2), "10.00")
    forecast = cash_forecast([item], AS_OF, average_days_late={"ACME": -10})
    euros = forecast.for_currency("EUR")
    assert euros.overdue == zero("EUR")
    assert [(p.label, p.amount) for p in euros.periods] == [("2026-03", eur("10.00"))]


def test_cash_forecast_overdue_in_first_period(ledger: list[OpenItem]) -> None:
    forecast = cash_forecast(ledger, AS_OF, overdue_handling=OverdueHandling.FIRST_PERIOD)
    euros = forecast.for_currency("EUR")
    assert euros.overdue == zero("EUR")
    assert [(p.label, p.amount) for p in euros.periods] == [("2026-03", eur("525.75"))]


def test_cash_forecast_of_nothing() -> None:
    assert cash_forecast([], AS_OF).currencies == ()
    paid = an_item("INV-1", "ACME", date(2026, 3, 1), "1.00").apply(eur("1.00"))
    assert cash_forecast([paid], AS_OF).total("EUR") == zero("EUR")


# --- bad-debt forecast ------------------------------------------------------------------------


def test_bad_debt_forecast(ledger: list[OpenItem]) -> None:
    report = aging_report(ledger, AS_OF)
    forecast = bad_debt_forecast(report, DEFAULT_RATES, Rounding.HALF_UP)
    euros = [line for line in forecast.lines if line.currency == "EUR"]
    # 250.50 x 1 % = 2.505 -> 2.51; 100 x 5 % = 5; 100 x 10 % = 10; 75.25 x 50 % = 37.625 -> 37.63
    assert [line.expected_loss for line in euros] == [
        eur("2.51"),
        eur("5.00"),
        eur("10.00"),
        eur("0"),
        eur("37.63"),
    ]
    assert forecast.total("EUR") == eur("55.14")
    assert forecast.total("JPY") == money("10", "JPY")
    assert forecast.currencies == ("EUR", "JPY")
    truncated = bad_debt_forecast(report, DEFAULT_RATES, Rounding.DOWN)
    assert truncated.total("EUR") == eur("55.12")


def test_bad_debt_forecast_refuses_bad_rates(ledger: list[OpenItem]) -> None:
    report = aging_report(ledger, AS_OF)
    with pytest.raises(InvalidInput, match="no rate"):
        bad_debt_forecast(report, {"current": "1"}, Rounding.HALF_UP)
    with pytest.raises(InvalidInput, match="not an aging bucket"):
        bad_debt_forecast(report, {**DEFAULT_RATES, "ancient": "90"}, Rounding.HALF_UP)
    with pytest.raises(InvalidInput, match="between 0 and 100"):
        bad_debt_forecast(report, {**DEFAULT_RATES, "over 90": "101"}, Rounding.HALF_UP)
    with pytest.raises(InvalidInput, match="Decimal"):
        bad_debt_forecast(report, {**DEFAULT_RATES, "over 90": 0.5}, Rounding.HALF_UP)  # type: ignore[dict-item]
    with pytest.raises(InvalidInput, match="not a number"):
        bad_debt_forecast(report, {**DEFAULT_RATES, "over 90": "lots"}, Rounding.HALF_UP)


# --- invoice processing time and order accuracy -----------------------------------------------


def test_invoice_processing_time_in_days() -> None:
    shipped = date(2026, 3, 2)
    timings = [
        InvoiceTiming(f"SO-{n}", shipped, shipped + timedelta(days=days))
        for n, days in enumerate([3, 1, 10, 2])
    ]
    stats = invoice_processing_time(timings)
    assert stats is not None
    assert stats.count == 4
    assert stats.average == Decimal("4.0")
    assert stats.median == Decimal("2.5")
    assert stats.at_percentile == Decimal("10.0")  # nearest rank: ceil(0.9 x 4) = 4th
    assert stats.minimum == Decimal("1.0")
    assert stats.maximum == Decimal("10.0")
    assert invoice_processing_time(timings, percentile=50).at_percentile == Decimal("2.0")  # type: ignore[union-attr]


def test_invoice_processing_time_with_datetimes() -> None:
    shipped = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    timings = [
        InvoiceTiming("SO-1", shipped, shipped + timedelta(hours=36)),
        InvoiceTiming("SO-2", shipped, shipped + timedelta(hours=3)),
        InvoiceTiming("SO-3", shipped, shipped + timedelta(hours=12)),
    ]
    stats = invoice_processing_time(timings)
    assert stats is not None
    assert stats.median == Decimal("0.5")
    assert stats.average == Decimal("0.7")  # 51 h / 3 = 17 h = 0.708 days
    assert stats.minimum == Decimal("0.1")  # 0.125 days


def test_invoice_processing_time_edges() -> None:
    assert invoice_processing_time([]) is None
    with pytest.raises(InvalidInput):
        invoice_processing_time([], percentile=0)
    with pytest.raises(InvalidInput, match="before fulfilment"):
        InvoiceTiming("SO-1", date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(InvalidInput, match="same kind"):
        InvoiceTiming("SO-1", date(2026, 3, 2), datetime(2026, 3, 3, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="same kind"):
        InvoiceTiming(
            "SO-1",
            datetime(2026, 3, 2, tzinfo=UTC),
            datetime(2026, 3, 3),  # noqa: DTZ001  (a naive time on purpose)
        )


def test_order_accuracy() -> None:
    outcomes = [
        OrderOutcome("SO-1", amended_after_confirmation=False, credit_noted=False, returned=False),
        OrderOutcome("SO-2", amended_after_confirmation=True, credit_noted=False, returned=False),
        OrderOutcome("SO-3", amended_after_confirmation=False, credit_noted=False, returned=False),
    ]
    accuracy = order_accuracy(outcomes)
    assert (accuracy.orders, accuracy.accurate, accuracy.rate) == (3, 2, Decimal("66.67"))
    assert not OrderOutcome("SO-4", False, True, False).is_accurate
    assert not OrderOutcome("SO-5", False, False, True).is_accurate
    assert order_accuracy([]).rate is None
    with pytest.raises(InvalidInput, match="twice"):
        order_accuracy([outcomes[0], outcomes[0]])


# --- properties -------------------------------------------------------------------------------

CURRENCIES = ("EUR", "JPY", "KWD")
DAY_ZERO = date(2025, 1, 1)


@st.composite
def open_items(draw: st.DrawFn) -> list[OpenItem]:
    """Up to a dozen items in three currencies, some with instalments, some partly paid."""
    items = []
    for n in range(draw(st.integers(0, 12))):
        currency = draw(st.sampled_from(CURRENCIES))
        document_date = DAY_ZERO + timedelta(days=draw(st.integers(0, 500)))
        offsets = sorted(draw(st.lists(st.integers(0, 200), min_size=1, max_size=3)))
        parts = tuple(
            Instalment.unpaid(
                document_date + timedelta(days=offset),
                from_minor(draw(st.integers(1, 10**9)), currency),
            )
            for offset in offsets
        )
        item = OpenItem(f"D-{n}", draw(st.sampled_from("ABC")), document_date, parts)
        paid = to_minor(item.open) * draw(st.integers(0, 100)) // 100
        if paid:
            item = item.apply(from_minor(paid, currency))
        items.append(item)
    return items


as_of_dates = st.integers(0, 800).map(lambda d: DAY_ZERO + timedelta(days=d))
limits = st.lists(st.integers(-30, 400), max_size=6, unique=True).map(sorted)


@given(open_items(), as_of_dates, limits, st.booleans(), st.sampled_from(AgingBasis))
def test_aging_buckets_sum_exactly_to_the_open_total(
    items: list[OpenItem], as_of: date, bounds: list[int], split: bool, basis: AgingBasis
) -> None:
    schedule = AgingSchedule.from_limits(bounds)
    report = aging_report(items, as_of, schedule=schedule, basis=basis, split_instalments=split)
    for currency in CURRENCIES:
        mine = [i for i in items if i.currency == currency]
        row = report.total_row(currency)
        assert row.total == open_total(mine, currency)
        assert sum((a.amount for a in row.amounts), Decimal(0)) == row.total.amount
        customers = [r for r in report.rows if r.currency == currency]
        assert sum((r.total.amount for r in customers), Decimal(0)) == row.total.amount
        unsettled = [i for i in mine if not i.is_settled]
        expected_count = (
            sum(1 for i in unsettled for p in i.instalments if p.open.amount > 0)
            if split
            else len(unsettled)
        )
        assert row.items == expected_count


@given(open_items(), as_of_dates, limits)
def test_every_item_lands_in_exactly_the_bucket_of_its_age(
    items: list[OpenItem], as_of: date, bounds: list[int]
) -> None:
    schedule = AgingSchedule.from_limits(bounds)
    for item in items:
        if item.is_settled:
            continue
        report = aging_report([item], as_of, schedule=schedule)
        row = report.total_row(item.currency)
        assert row.counts.count(1) == 1
        assert sum(row.counts) == 1
        bucket = schedule.buckets[row.counts.index(1)]
        age = (as_of - item.due_date).days
        assert bucket.first_day is None or bucket.first_day <= age
        assert bucket.last_day is None or age <= bucket.last_day
        assert row.amounts[row.counts.index(1)] == item.open


@given(
    open_items(),
    as_of_dates,
    st.sampled_from(ForecastGrouping),
    st.sampled_from(OverdueHandling),
    st.dictionaries(st.sampled_from("ABC"), st.integers(-60, 120)),
)
def test_cash_forecast_sums_to_the_open_total(
    items: list[OpenItem],
    as_of: date,
    grouping: ForecastGrouping,
    handling: OverdueHandling,
    late: dict[str, int],
) -> None:
    forecast = cash_forecast(
        items, as_of, grouping=grouping, average_days_late=late, overdue_handling=handling
    )
    for currency in CURRENCIES:
        mine = [i for i in items if i.currency == currency]
        assert forecast.total(currency) == open_total(mine, currency)
        periods = forecast.for_currency(currency).periods
        for before, after in itertools.pairwise(periods):
            assert after.start == before.end + timedelta(days=1)
        if periods:
            assert periods[0].start <= as_of <= periods[0].end


rates = st.decimals(min_value=0, max_value=100, places=3)


@given(
    open_items(),
    as_of_dates,
    st.lists(rates, min_size=5, max_size=5),
    st.lists(rates, min_size=5, max_size=5),
    st.sampled_from(Rounding),
)
def test_bad_debt_forecast_is_bounded_and_monotone(
    items: list[OpenItem],
    as_of: date,
    first: list[Decimal],
    second: list[Decimal],
    rounding: Rounding,
) -> None:
    report = aging_report(items, as_of)
    low = dict(zip(report.labels, map(min, first, second), strict=True))
    high = dict(zip(report.labels, map(max, first, second), strict=True))
    lower = bad_debt_forecast(report, low, rounding)
    higher = bad_debt_forecast(report, high, rounding)
    for currency in report.currencies:
        assert lower.total(currency) <= higher.total(currency) <= report.total(currency)
    for small, large in zip(lower.lines, higher.lines, strict=True):
        assert small.expected_loss <= large.expected_loss <= large.exposure


@given(st.fractions(min_value=-1000, max_value=1000, max_denominator=10**6), st.integers(0, 3))
def test_ratios_round_half_up_exactly(value: Fraction, places: int) -> None:
    result = half_up(value, places)
    assert result.as_tuple().exponent == -places
    half_unit = Fraction(1, 2 * 10**places)
    error = Fraction(result) - value
    assert abs(error) <= half_unit
    if abs(error) == half_unit:  # a tie goes away from zero
        assert abs(Fraction(result)) > abs(value)


@given(
    st.lists(st.integers(0, 10**7), min_size=1, max_size=6),
    st.integers(0, 10**8),
    st.integers(0, 10**8),
)
def test_count_back_dso_grows_with_the_ending_ar(
    monthly: list[int], first_ar: int, second_ar: int
) -> None:
    end = date(2026, 6, 30)
    sales = [MonthlySales(2026, 6 - n, from_minor(units, "EUR")) for n, units in enumerate(monthly)]
    low, high = sorted((first_ar, second_ar))
    low_dso = count_back_dso(from_minor(low, "EUR"), end, sales)
    high_dso = count_back_dso(from_minor(high, "EUR"), end, sales)
    if high_dso is not None:
        assert low_dso is not None
        assert low_dso <= high_dso
        assert high_dso <= 31 * len(monthly)
