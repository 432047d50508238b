"""Accounts-receivable measures: pure functions from records to frozen results.

Every measure here takes plain data (open items, sales, statement lines, timings, outcomes) and the
business date it is computed for, and returns a frozen result. Nothing is read from a clock or a
store: the caller gathers the inputs. Import everything from here; each report has its module:
:mod:`~o2c.domain.reporting.period`, :mod:`~o2c.domain.reporting.aging`,
:mod:`~o2c.domain.reporting.measures` (DSO, ADD, CEI), :mod:`~o2c.domain.reporting.statement`,
:mod:`~o2c.domain.reporting.forecast` (cash and bad debt) and
:mod:`~o2c.domain.reporting.operations` (invoice processing time, order accuracy) and
:mod:`~o2c.domain.reporting.prediction` (when each open item will be paid).

Conventions shared by all measures:

* **Money stays exact.** Sums are exact; the only money that is rounded is an expected loss, and
  the caller names the rounding mode.
* **Ratios are :class:`~decimal.Decimal`, rounded once, half up.** Days (DSO, delinquency,
  processing times) to one decimal (:data:`~o2c.domain.reporting.measures.DAYS_PLACES`),
  percentages (CEI, order accuracy) to two
  (:data:`~o2c.domain.reporting.measures.PERCENT_PLACES`). They are computed exactly as fractions
  and rounded at the end, so the ambient :mod:`decimal` context never plays a part.
* **An undefined ratio is ``None``.** Zero credit sales make DSO undefined; a zero CEI denominator
  makes CEI undefined; an empty set of timings or outcomes has no average. ``None`` is returned in
  each case rather than raising, because a quiet month is not bad input.
* **Currencies never mix.** Aging, cash and bad-debt forecasts group by currency; a measure that
  takes several amounts (DSO, CEI) refuses amounts of different currencies with
  :class:`~o2c.domain.errors.CurrencyMismatch`.
"""

from o2c.domain.reporting.aging import (
    DEFAULT_AGING,
    AgingBasis,
    AgingBucket,
    AgingReport,
    AgingRow,
    AgingSchedule,
    aging_report,
)
from o2c.domain.reporting.forecast import (
    BadDebtForecast,
    BadDebtLine,
    CashForecast,
    CurrencyForecast,
    ForecastGrouping,
    ForecastPeriod,
    OverdueHandling,
    bad_debt_forecast,
    cash_forecast,
)
from o2c.domain.reporting.measures import (
    DAYS_PLACES,
    PERCENT_PLACES,
    CreditSale,
    MonthlySales,
    average_days_delinquent,
    best_possible_dso,
    collection_effectiveness_index,
    count_back_dso,
    credit_sales_in,
    dso,
)
from o2c.domain.reporting.operations import (
    InvoiceTiming,
    OrderAccuracy,
    OrderOutcome,
    ProcessingTime,
    invoice_processing_time,
    order_accuracy,
)
from o2c.domain.reporting.period import Period
from o2c.domain.reporting.prediction import (
    Backtest,
    PaidRecord,
    PaymentPrediction,
    PredictedCashWeek,
    PredictionModel,
    backtest,
    likely_late,
    predict_payments,
    predicted_cash_by_week,
)
from o2c.domain.reporting.statement import (
    Statement,
    StatementEntry,
    StatementKind,
    StatementLine,
    statement_of_account,
)

__all__ = [
    "DAYS_PLACES",
    "PERCENT_PLACES",
    "Period",
    # payment-date prediction
    "Backtest",
    "PaidRecord",
    "PaymentPrediction",
    "PredictedCashWeek",
    "PredictionModel",
    "backtest",
    "likely_late",
    "predict_payments",
    "predicted_cash_by_week",
    # aging
    "AgingBasis",
    "AgingBucket",
    "AgingSchedule",
    "DEFAULT_AGING",
    "AgingRow",
    "AgingReport",
    "aging_report",
    # sales-based measures
    "CreditSale",
    "MonthlySales",
    "credit_sales_in",
    "dso",
    "count_back_dso",
    "best_possible_dso",
    "average_days_delinquent",
    "collection_effectiveness_index",
    # statement of account
    "StatementKind",
    "StatementLine",
    "StatementEntry",
    "Statement",
    "statement_of_account",
    # forecasts
    "ForecastGrouping",
    "OverdueHandling",
    "ForecastPeriod",
    "CurrencyForecast",
    "CashForecast",
    "cash_forecast",
    "BadDebtLine",
    "BadDebtForecast",
    "bad_debt_forecast",
    # process measures
    "InvoiceTiming",
    "ProcessingTime",
    "invoice_processing_time",
    "OrderOutcome",
    "OrderAccuracy",
    "order_accuracy",
]
