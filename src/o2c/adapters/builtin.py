"""The built-in plugin: o2c's in-memory and SQL adapters, under the names configuration uses.

=================  ===============  ============================================================
port               name             options
=================  ===============  ============================================================
unit_of_work       ``memory``       none
unit_of_work       ``sql``          ``url``: a database URL, or the path of a SQLite file
                                    (created and upgraded on first use); needs the ``sql`` extra
inventory          ``memory``       ``stock``: product id → opening quantity
carrier            ``table-rate``   ``rates`` (an inline rate table) or ``rates_file`` (a TOML
                                    file of one); without either, the sample EUR table
payment_gateway    ``sandbox``      ``secret``: the webhook signing secret (without it, a random
                                    one per gateway: only its own deliveries pass);
                                    ``webhook_tolerance_seconds``: how old a signed delivery
                                    may be (default 300)
ledger             ``memory``       ``closed_periods``: ``refuse`` (default) or ``move`` (an entry
                                    dated in a closed period posts on the first open day); its
                                    chart of accounts is the configured one
ledger             ``sql``          ``url``, by default the unit of work's database when that is
                                    ``sql`` too (one engine serves both); ``closed_periods``
notifier           ``memory``       none (an outbox that keeps what it was asked to send)
clock              ``system``       ``tz``: the business time zone (default ``UTC``)
clock              ``fixed``        ``at`` (required, timezone-aware), ``tz``
relay              ``none``         none (the default: committed events reach the plugins only)
relay              ``memory``       none (a broker in memory that keeps what was published)
relay              ``rabbitmq``     ``url`` (``amqp://guest:guest@127.0.0.1:5672/%2F``),
                                    ``exchange`` (``o2c.events``), ``routing_prefix``; needs the
                                    ``broker`` extra
=================  ===============  ============================================================

The unit of work's port is configured as ``persistence`` (or ``unit_of_work``). The SQL adapters
import SQLAlchemy only when chosen, so the memory adapters work without the ``sql`` extra; choosing
``sql`` without it is a configuration error that says how to install it.

A factory refuses a bad option with ``InvalidInput`` naming it; the composition root reports that
as a configuration error. Factories that need the clock declare a keyword-only ``clock``
parameter, which the composition root fills with the application's clock; the ledger's ``chart``
parameter receives the configured chart of accounts.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from o2c.adapters.memory.carrier import RateTable, ServiceRate, TableRateCarrier, WeightBand, Zone
from o2c.adapters.memory.clock import FixedClock, SystemClock
from o2c.adapters.memory.gateway import SandboxGateway
from o2c.adapters.memory.inventory import MemoryInventory
from o2c.adapters.memory.ledger import MemoryLedger
from o2c.adapters.memory.notifier import OutboxNotifier
from o2c.adapters.memory.persistence import MemoryStore, MemoryUnitOfWork
from o2c.adapters.memory.relay import MemoryRelay, NoRelay
from o2c.domain.errors import DomainError, InvalidInput
from o2c.domain.ledger import ChartOfAccounts
from o2c.domain.money import parse_money
from o2c.domain.periods import ClosedPeriodPolicy
from o2c.ports.clock import Clock
from o2c.ports.errors import AdapterError, AdapterRejected
from o2c.ports.gateways import WebhookSecret
from o2c.ports.hookspecs import hookimpl
from o2c.ports.ledger import LedgerPort
from o2c.ports.outbox import EventRelay
from o2c.ports.persistence import UnitOfWork
from o2c.ports.registry import AdapterRegistry

__all__ = ["o2c_register_adapters", "read_rate_table"]


@hookimpl
def o2c_register_adapters(registry: AdapterRegistry) -> None:
    """Register the in-memory and the SQL adapters."""
    registry.add_unit_of_work("memory", _store, "repositories and units of work in memory")
    registry.add_unit_of_work("sql", _sql_store, "the books in SQLite or PostgreSQL")
    registry.add_inventory("memory", _inventory, "stock and reservations in memory")
    registry.add_carrier("table-rate", _carrier, "a carrier priced by a rate table")
    registry.add_payment_gateway("sandbox", _gateway, "a deterministic sandbox gateway")
    registry.add_ledger("memory", _ledger, "a general ledger in memory")
    registry.add_ledger("sql", _sql_ledger, "a general ledger in SQLite or PostgreSQL")
    registry.add_notifier("memory", _notifier, "an outbox that keeps what it was asked to send")
    registry.add_clock("system", _system_clock, "the real time in a business time zone")
    registry.add_clock("fixed", _fixed_clock, "a clock that moves only when told")
    registry.add_relay("none", _no_relay, "committed events reach the plugins only")
    registry.add_relay("memory", _memory_relay, "a broker in memory that keeps what it got")
    registry.add_relay("rabbitmq", _rabbitmq_relay, "publishes committed events to RabbitMQ")


# --- option reading -----------------------------------------------------------------------------


def _only(options: Mapping[str, Any], adapter: str, *allowed: str) -> None:
    for key in options:
        if key not in allowed:
            known = ", ".join(allowed) or "none"
            raise InvalidInput(
                field=f"{adapter} option", value=key, reason=f"unknown; known: {known}"
            )


def _refusal(field: str, build: Callable[[], Any]) -> Any:
    """Run an adapter constructor; its refusal of an option becomes ``InvalidInput``."""
    try:
        return build()
    except AdapterRejected as error:
        raise InvalidInput(field=field, value=error.code or "", reason=error.message) from error


def _text(options: Mapping[str, Any], key: str, default: str) -> str:
    value = options.get(key, default)
    if not isinstance(value, str):
        raise InvalidInput(field=key, value=repr(value), reason="must be text")
    return value


# --- factories ----------------------------------------------------------------------------------


def _store(options: Mapping[str, Any]) -> Callable[[], MemoryUnitOfWork]:
    _only(options, "unit of work")
    return MemoryStore().unit_of_work


def _policy(options: Mapping[str, Any]) -> ClosedPeriodPolicy:
    text = _text(options, "closed_periods", ClosedPeriodPolicy.REFUSE.value)
    try:
        return ClosedPeriodPolicy(text)
    except ValueError:
        known = ", ".join(p.value for p in ClosedPeriodPolicy)
        raise InvalidInput(field="closed_periods", value=text, reason=f"one of {known}") from None


def _ledger(options: Mapping[str, Any], *, chart: ChartOfAccounts | None = None) -> MemoryLedger:
    _only(options, "ledger", "closed_periods")
    return MemoryLedger(chart, policy=_policy(options))


def _sql_url(options: Mapping[str, Any]) -> str:
    url = options.get("url")
    if not isinstance(url, str | Path) or not str(url).strip():
        raise InvalidInput(
            field="url", value=repr(url), reason="a database URL or the path of a SQLite file"
        )
    return str(url)


def _opened(build: Callable[[], Any]) -> Any:
    """Open a SQL adapter; why it cannot be opened (missing extra, bad URL, a schema too new,
    an unreachable server) becomes ``InvalidInput`` on its ``url``, the whole message kept."""
    try:
        return build()
    except AdapterError as error:
        code = getattr(error, "code", None) or type(error).__name__
        raise InvalidInput(field="url", value=code, reason=error.message) from error
    except ValueError as error:  # a value that is neither a path nor a database URL
        raise InvalidInput(field="url", value="", reason=str(error)) from error


def _sql_store(options: Mapping[str, Any]) -> Callable[[], UnitOfWork]:
    _only(options, "unit of work", "url")
    url = _sql_url(options)

    def open_store() -> Callable[[], UnitOfWork]:
        from o2c.adapters.sql import SqlStore  # noqa: PLC0415 - only with the sql extra

        return SqlStore(url).unit_of_work

    result: Callable[[], UnitOfWork] = _opened(open_store)
    return result


def _sql_ledger(
    options: Mapping[str, Any],
    *,
    chart: ChartOfAccounts | None = None,
    unit_of_work: Callable[[], UnitOfWork] | None = None,
) -> LedgerPort:
    _only(options, "ledger", "url", "closed_periods")
    policy = _policy(options)
    # A SQL unit of work's store: the ledger shares its engine when it names the same database.
    store = getattr(unit_of_work, "__self__", None)
    if "url" not in options and type(store).__name__ != "SqlStore":
        raise InvalidInput(
            field="url", value="", reason="give the ledger's database (or use a sql unit of work)"
        )

    def open_ledger() -> LedgerPort:
        from o2c.adapters.sql import SqlLedger, SqlStore, database_url  # noqa: PLC0415

        if isinstance(store, SqlStore) and (
            "url" not in options or database_url(_sql_url(options)) == store.url
        ):
            return SqlLedger(store.engine, chart, name="sql", policy=policy)
        return SqlLedger(database_url(_sql_url(options)), chart, name="sql", policy=policy)

    result: LedgerPort = _opened(open_ledger)
    return result


def _notifier(options: Mapping[str, Any]) -> OutboxNotifier:
    _only(options, "notifier")
    return OutboxNotifier(name="memory")


def _no_relay(options: Mapping[str, Any]) -> NoRelay:
    _only(options, "relay")
    return NoRelay()


def _memory_relay(options: Mapping[str, Any]) -> MemoryRelay:
    _only(options, "relay")
    return MemoryRelay()


def _rabbitmq_relay(options: Mapping[str, Any]) -> EventRelay:
    _only(options, "relay", "url", "exchange", "routing_prefix")

    def open_relay() -> EventRelay:
        from o2c.adapters.rabbitmq import RabbitRelay  # noqa: PLC0415 - only with the extra

        return RabbitRelay(
            _text(options, "url", "amqp://guest:guest@127.0.0.1:5672/%2F"),
            exchange=_text(options, "exchange", "o2c.events"),
            routing_prefix=_text(options, "routing_prefix", ""),
        )

    try:
        return open_relay()
    except AdapterError as error:
        code = getattr(error, "code", None) or type(error).__name__
        raise InvalidInput(field="url", value=code, reason=error.message) from error


def _inventory(options: Mapping[str, Any]) -> MemoryInventory:
    _only(options, "inventory", "stock")
    stock = options.get("stock", {})
    if not isinstance(stock, Mapping):
        raise InvalidInput(
            field="stock", value=repr(stock), reason="must map product ids to quantities"
        )
    for product, quantity in stock.items():
        if isinstance(quantity, bool | float) or not isinstance(quantity, int | str | Decimal):
            raise InvalidInput(
                field=f"stock.{product}", value=repr(quantity), reason="not a quantity"
            )
    result: MemoryInventory = _refusal("stock", lambda: MemoryInventory(stock))
    return result


def _carrier(options: Mapping[str, Any], *, clock: Clock | None = None) -> TableRateCarrier:
    _only(options, "carrier", "rates", "rates_file")
    if "rates" in options and "rates_file" in options:
        raise InvalidInput(field="rates", value="", reason="give rates or rates_file, not both")
    table: RateTable | None = None
    if "rates_file" in options:
        path = Path(_text(options, "rates_file", ""))
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise InvalidInput(field="rates_file", value=path.name, reason=str(error)) from error
        table = read_rate_table(data)
    elif "rates" in options:
        table = read_rate_table(options["rates"])
    # Without the application's clock (a factory called on its own) it reads the real time.
    chosen = clock if clock is not None else SystemClock()
    result: TableRateCarrier = _refusal("rates", lambda: TableRateCarrier(chosen, table=table))
    return result


def _gateway(options: Mapping[str, Any], *, clock: Clock | None = None) -> SandboxGateway:
    _only(options, "payment gateway", "secret", "webhook_tolerance_seconds")
    chosen = clock if clock is not None else SystemClock()
    secret: WebhookSecret | None = None
    if "secret" in options:
        given = options["secret"]
        if not isinstance(given, str) or not given:
            # The value is never echoed: it is meant to be a secret.
            raise InvalidInput(
                field="secret", value=type(given).__name__, reason="must be non-empty text"
            )
        secret = WebhookSecret(given)
    tolerance = options.get("webhook_tolerance_seconds", 300)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance <= 0:
        raise InvalidInput(
            field="webhook_tolerance_seconds",
            value=repr(tolerance),
            reason="a positive whole number of seconds",
        )
    gateway: SandboxGateway = _refusal(
        "secret",
        lambda: SandboxGateway(
            chosen, secret=secret, webhook_tolerance=timedelta(seconds=tolerance)
        ),
    )
    return gateway


def _system_clock(options: Mapping[str, Any]) -> SystemClock:
    _only(options, "clock", "tz")
    tz = _text(options, "tz", "UTC")
    result: SystemClock = _refusal("tz", lambda: SystemClock(tz))
    return result


def _fixed_clock(options: Mapping[str, Any]) -> FixedClock:
    _only(options, "clock", "at", "tz")
    at = options.get("at")
    if isinstance(at, str):
        text = at
        try:
            at = datetime.fromisoformat(text)
        except ValueError as error:
            raise InvalidInput(
                field="at", value=text, reason="not an ISO 8601 date-time"
            ) from error
    if not isinstance(at, datetime):
        raise InvalidInput(
            field="at", value=repr(at), reason="the fixed clock needs a timezone-aware date-time"
        )
    tz = options.get("tz")
    if tz is not None and not isinstance(tz, str):
        raise InvalidInput(field="tz", value=repr(tz), reason="must be a time zone name")
    moment = at
    result: FixedClock = _refusal("at", lambda: FixedClock(moment, tz=tz))
    return result


# --- rate tables --------------------------------------------------------------------------------


def read_rate_table(data: object) -> RateTable:
    """A :class:`RateTable` from a mapping (an inline table or a parsed TOML file).

    ``zones`` is a list of ``{name, countries, services}``, each service
    ``{service, transit_days, bands}`` and each band ``{up_to_kg, price = "4.90 EUR"}``;
    ``rest_of_world`` is an optional zone without countries; ``volumetric_divisor`` is optional.
    """
    table = _mapping(data, "rates")
    _only(table, "rate table", "zones", "rest_of_world", "volumetric_divisor")
    zones = tuple(_zone(z, f"zones[{i}]") for i, z in enumerate(_list(table.get("zones"), "zones")))
    rest = table.get("rest_of_world")
    divisor = table.get("volumetric_divisor", 5000)
    if isinstance(divisor, bool) or not isinstance(divisor, int) or divisor <= 0:
        raise InvalidInput(field="volumetric_divisor", value=repr(divisor), reason="a positive int")
    rest_zone = None if rest is None else _zone(rest, "rest_of_world", countries_required=False)
    result: RateTable = _refusal("rates", lambda: RateTable(zones, rest_zone, divisor))
    return result


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(field=field, value=repr(value), reason="must be a table")
    return value


def _list(value: object, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput(field=field, value=repr(value), reason="must be a list")
    return list(value)


def _zone(data: object, field: str, *, countries_required: bool = True) -> Zone:
    zone = _mapping(data, field)
    _only(zone, field, "name", "countries", "services")
    countries = _list(zone.get("countries"), f"{field}.countries")
    if countries_required and not countries:
        raise InvalidInput(field=f"{field}.countries", value="", reason="a zone needs countries")
    services = tuple(
        _service(s, f"{field}.services[{i}]")
        for i, s in enumerate(_list(zone.get("services"), f"{field}.services"))
    )
    name = _text(zone, "name", field)
    return Zone(name, frozenset(str(c).upper() for c in countries), services)


def _service(data: object, field: str) -> ServiceRate:
    service = _mapping(data, field)
    _only(service, field, "service", "transit_days", "bands")
    bands = []
    for i, raw in enumerate(_list(service.get("bands"), f"{field}.bands")):
        band = _mapping(raw, f"{field}.bands[{i}]")
        _only(band, f"{field}.bands[{i}]", "up_to_kg", "price")
        limit = band.get("up_to_kg")
        if isinstance(limit, bool | float) or not isinstance(limit, int | str | Decimal):
            raise InvalidInput(
                field=f"{field}.bands[{i}].up_to_kg", value=repr(limit), reason="a number"
            )
        try:
            price = parse_money(_text(band, "price", ""))
        except DomainError as error:
            raise InvalidInput(
                field=f"{field}.bands[{i}].price", value=str(band.get("price")), reason=str(error)
            ) from error
        bands.append(WeightBand(Decimal(limit), price))
    days = service.get("transit_days", 1)
    name = _text(service, "service", "")
    result: ServiceRate = _refusal(field, lambda: ServiceRate(name, days, tuple(bands)))
    return result
