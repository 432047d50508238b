"""Configuration: which adapter serves each port, which plugins load, and the business settings.

A :class:`Config` is read from a mapping (:meth:`Config.from_mapping`), TOML text
(:meth:`Config.from_toml`) or a TOML file (:meth:`Config.from_file`). Every part is optional: the
defaults are the embedded in-memory setup, so an empty configuration gives a working application.

The reader is strict, because a typo in a configuration file should stop the start rather than be
ignored: an unknown key, a value of the wrong type or a value the domain refuses raises
:class:`ConfigError` naming the dotted key (``settings.credit.over_limit``). TOML decimals are
read exactly (as ``Decimal``); amounts of money are written as text, ``"500 EUR"``. An adapter name
no plugin registered is reported later, when the application is built, as ``UnknownAdapter``.
"""

from __future__ import annotations

import enum
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

from o2c.domain.calendar import BusinessCalendar, Weekday
from o2c.domain.credit import (
    AccountOnHold,
    CreditOutcome,
    CreditPolicySet,
    FirstTimeCustomerReview,
    LimitCheck,
    OverdueHold,
    PrepaymentRequired,
)
from o2c.domain.customers import Address
from o2c.domain.dunning import DayCount, DunningAction, DunningLevel, DunningPolicy, FeeTable
from o2c.domain.errors import DomainError, O2CError
from o2c.domain.invoicing import TaxRounding
from o2c.domain.ledger import Account, AccountRole, ChartOfAccounts
from o2c.domain.matching import MatchingConfig, WriteOffTolerance
from o2c.domain.money import Money, Rounding, parse_money
from o2c.domain.orders import InvoicingPolicy
from o2c.ports.registry import PortName
from o2c.services.context import OutOfStockPolicy, Settings
from o2c.services.errors import InvalidSettings

__all__ = [
    "DEFAULT_ADAPTERS",
    "MAX_NESTING",
    "PORT_ALIASES",
    "AdapterChoice",
    "Config",
    "ConfigError",
    "ConfigSource",
    "PluginSelection",
    "SECRET_OPTION_WORDS",
    "redacted",
]


@attrs.frozen
class ConfigError(O2CError):
    """A configuration value is missing, unknown, of the wrong type or refused."""

    key: str
    """The dotted key at fault: ``adapters.carrier.use``, ``settings.dunning.levels[1].days``."""
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def _read_only(options: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(options))


SECRET_OPTION_WORDS = ("secret", "password", "passwd", "token", "api_key", "apikey", "credential")
"""An adapter option whose name contains one of these is shown as ``'<redacted>'`` in a ``repr``."""

_URL_PASSWORD = re.compile(r"(?P<head>://[^/:@\s]*:)[^/@\s]*(?P<tail>@)")


def redacted(value: object, name: str = "") -> object:
    """``value`` as it may be shown: secrets of options (by name) and passwords in URLs hidden.

    Used for the ``repr`` of :class:`AdapterChoice`, so printing a configuration, an application
    or an error never shows a webhook secret or a database password.
    """
    if any(word in name.lower() for word in SECRET_OPTION_WORDS):
        return "<redacted>"
    if isinstance(value, Mapping):
        return {key: redacted(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redacted(item) for item in value)
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\g<head><redacted>\g<tail>", value)
    return value


def _options_repr(options: Mapping[str, Any]) -> str:
    return repr(redacted(options))


@attrs.frozen
class AdapterChoice:
    """The adapter chosen for one port: its registered name and its own options.

    Its ``repr`` hides secrets: see :func:`redacted`.
    """

    name: str
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=_read_only, repr=_options_repr)


DEFAULT_ADAPTERS: Mapping[PortName, AdapterChoice] = MappingProxyType(
    {
        PortName.UNIT_OF_WORK: AdapterChoice("memory"),
        PortName.INVENTORY: AdapterChoice("memory"),
        PortName.CARRIER: AdapterChoice("table-rate"),
        PortName.PAYMENT_GATEWAY: AdapterChoice("sandbox"),
        PortName.LEDGER: AdapterChoice("memory"),
        PortName.NOTIFIER: AdapterChoice("memory"),
        PortName.CLOCK: AdapterChoice("system"),
        PortName.RELAY: AdapterChoice("none"),
    }
)
"""The embedded setup: every port served by an in-memory adapter of the built-in plugin."""


def _with_defaults(chosen: Mapping[PortName, AdapterChoice]) -> Mapping[PortName, AdapterChoice]:
    return MappingProxyType({**DEFAULT_ADAPTERS, **chosen})


def _names(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _name_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class PluginSelection:
    """Which installed plugins (entry points of group ``o2c``) load, by entry-point name.

    ``allow`` of ``None`` loads every installed plugin; a tuple loads only those named. A name in
    ``deny`` never loads, even if allowed. ``entry_points=False`` loads none at all.
    """

    allow: tuple[str, ...] | None = attrs.field(default=None, converter=_names)
    deny: tuple[str, ...] = attrs.field(default=(), converter=_name_tuple)
    entry_points: bool = True


@attrs.frozen
class Config:
    """Everything :func:`o2c.bootstrap` needs to know; the defaults are the in-memory setup."""

    adapters: Mapping[PortName, AdapterChoice] = attrs.field(factory=dict, converter=_with_defaults)
    """The adapter for each port; ports not given keep their default."""
    plugins: PluginSelection = PluginSelection()
    settings: Settings = attrs.field(factory=Settings)

    def adapter(self, port: PortName) -> AdapterChoice:
        """The adapter chosen for ``port``."""
        return self.adapters[port]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Config:
        """Read a configuration from a mapping shaped like the TOML file (see the docs)."""
        _refuse_deep_nesting(data)
        root = _Table(data, "")
        adapters = _read_adapters(root.table("adapters"))
        plugins = _read_plugins(root.table("plugins"))
        settings = _read_settings(root.table("settings"))
        root.finish()
        return cls(adapters, plugins, settings)

    @classmethod
    def from_toml(cls, text: str) -> Config:
        """Read a configuration from TOML text; decimals are read exactly."""
        if not isinstance(text, str):
            raise ConfigError(
                "<toml>", f"TOML must be given as text (str), not {type(text).__name__}"
            )
        try:
            data = tomllib.loads(text, parse_float=Decimal)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError("<toml>", f"not valid TOML: {error}") from error
        except RecursionError:
            # The parser recurses once per level: a hostile file must not exhaust the stack.
            raise ConfigError(
                "<toml>", f"arrays or tables nested deeper than {MAX_NESTING} levels"
            ) from None
        return cls.from_mapping(data)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Config:
        """Read a configuration from a TOML file."""
        file = Path(path)
        try:
            raw = file.read_bytes()
        except OSError as error:
            raise ConfigError("<file>", f"cannot read {file.name}: {error.strerror}") from error
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ConfigError(
                "<file>",
                f"{file.name} is not UTF-8 text (byte {raw[error.start]:#04x} at offset "
                f"{error.start}); TOML files are UTF-8",
            ) from None
        return cls.from_toml(text)

    @classmethod
    def coerce(cls, source: ConfigSource) -> Config:
        """A :class:`Config` from whatever :func:`o2c.bootstrap` was given (``None``: defaults)."""
        if source is None:
            return cls()
        if isinstance(source, Config):
            return source
        if isinstance(source, Mapping):
            return cls.from_mapping(source)
        return cls.from_file(source)


ConfigSource = Config | Mapping[str, Any] | str | os.PathLike[str] | None
"""What :func:`o2c.bootstrap` accepts as configuration: a path names a TOML file."""


# --- the strict reader --------------------------------------------------------------------------

MAX_NESTING = 24
"""The deepest a configuration's tables and lists may nest; the deepest real one (a carrier's
rate table inside its adapter options) needs about ten levels."""


def _refuse_deep_nesting(data: object) -> None:
    """Refuse a configuration nested deeper than :data:`MAX_NESTING` (or nested into itself).

    The walk keeps its own stack, so a hostile input cannot exhaust Python's.
    """
    pending: list[tuple[object, tuple[str, ...]]] = [(data, ())]
    while pending:
        value, path = pending.pop()
        if isinstance(value, Mapping):
            children: Iterable[tuple[str, object]] = ((str(k), v) for k, v in value.items())
        elif isinstance(value, list | tuple):
            children = ((f"[{i}]", v) for i, v in enumerate(value))
        else:
            continue
        if len(path) >= MAX_NESTING:
            shown = ".".join(path[:4]).replace(".[", "[")
            raise ConfigError(
                shown or "<root>",
                f"tables or lists nested deeper than {MAX_NESTING} levels below here",
            )
        pending.extend((child, (*path, name)) for name, child in children)


E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


class _Table:
    """One table of the configuration: typed reads that remember which keys were used."""

    def __init__(self, data: object, key: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(key or "<root>", f"must be a table, not {_kind(data)}")
        self.data: Mapping[str, Any] = data
        self.key = key
        self._used: set[str] = set()

    def at(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def raw(self, name: str) -> Any:
        self._used.add(name)
        return self.data.get(name)

    def table(self, name: str) -> _Table:
        value = self.raw(name)
        return _Table({} if value is None else value, self.at(name))

    def text(self, name: str, default: str) -> str:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ConfigError(self.at(name), f"must be text, not {_kind(value)}")
        return value

    def integer(self, name: str, default: int) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.at(name), f"must be a whole number, not {_kind(value)}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(self.at(name), f"must be true or false, not {_kind(value)}")
        return value

    def decimal(self, name: str, default: Decimal) -> Decimal:
        value = self.raw(name)
        return default if value is None else _to_decimal(value, self.at(name))

    def optional_decimal(self, name: str) -> Decimal | None:
        value = self.raw(name)
        return None if value is None else _to_decimal(value, self.at(name))

    def amount(self, name: str) -> Money | None:
        value = self.raw(name)
        return None if value is None else _to_money(value, self.at(name))

    def amounts(self, name: str) -> tuple[Money, ...]:
        return tuple(_to_money(v, f"{self.at(name)}[{i}]") for i, v in self.items(name))

    def choice(self, name: str, kind: type[E], default: E) -> E:
        value = self.raw(name)
        if value is None:
            return default
        return _to_enum(value, kind, self.at(name))

    def choices(self, name: str, kind: type[E]) -> tuple[E, ...]:
        return tuple(_to_enum(v, kind, f"{self.at(name)}[{i}]") for i, v in self.items(name))

    def names(self, name: str) -> tuple[str, ...] | None:
        if self.raw(name) is None:
            return None
        result = []
        for i, value in self.items(name):
            if not isinstance(value, str):
                raise ConfigError(f"{self.at(name)}[{i}]", f"must be text, not {_kind(value)}")
            result.append(value)
        return tuple(result)

    def tables(self, name: str) -> tuple[_Table, ...]:
        return tuple(_Table(v, f"{self.at(name)}[{i}]") for i, v in self.items(name))

    def items(self, name: str) -> list[tuple[int, Any]]:
        value = self.raw(name)
        if value is None:
            return []
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple):
            raise ConfigError(self.at(name), f"must be a list, not {_kind(value)}")
        return list(enumerate(value))

    def finish(self) -> None:
        """Refuse any key that was never read: a typo must not pass silently."""
        unknown = [name for name in self.data if name not in self._used]
        if unknown:
            known = ", ".join(sorted(self._used)) or "none"
            raise ConfigError(self.at(str(unknown[0])), f"unknown key (known here: {known})")


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _to_decimal(value: object, key: str) -> Decimal:
    if isinstance(value, float):
        raise ConfigError(key, f"{value!r} is a float; write exact numbers as text, '0.80'")
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ConfigError(key, f"must be a number, not {_kind(value)}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ConfigError(key, f"{value!r} is not a number") from None
    if not result.is_finite():
        raise ConfigError(key, f"{value!r} is not a finite number")
    return result


def _to_money(value: object, key: str) -> Money:
    if not isinstance(value, str):
        raise ConfigError(key, f"must be an amount as text such as '10.00 EUR', not {_kind(value)}")
    return _refused(key, lambda: parse_money(value))


def _to_enum(value: object, kind: type[E], key: str) -> E:
    allowed = [str(m.value) if isinstance(m.value, str) else m.name.lower() for m in kind]
    if isinstance(value, str):
        for member in kind:
            if value.lower() in (member.name.lower(), str(member.value).lower()):
                return member
    raise ConfigError(key, f"{value!r} is not one of {', '.join(allowed)}")


def _refused(key: str, build: Callable[[], T]) -> T:
    """Run a domain constructor; its refusal becomes a :class:`ConfigError` at ``key``."""
    try:
        return build()
    except DomainError as error:
        raise ConfigError(key, error.describe()) from error


# --- adapters and plugins -----------------------------------------------------------------------


PORT_ALIASES: Mapping[str, PortName] = MappingProxyType({"persistence": PortName.UNIT_OF_WORK})
"""Other names a port may be configured under in ``[adapters]``: ``persistence`` is the unit of
work's (where the books are stored)."""


def _read_adapters(table: _Table) -> dict[PortName, AdapterChoice]:
    chosen: dict[PortName, AdapterChoice] = {}
    keys = [(port.value, port) for port in PortName] + list(PORT_ALIASES.items())
    given: dict[PortName, str] = {}
    for key, port in keys:
        value = table.raw(key)
        if value is None:
            continue
        if port in given:
            raise ConfigError(table.at(key), f"the same port as {table.at(given[port])}; give one")
        given[port] = key
        if isinstance(value, str):
            chosen[port] = AdapterChoice(value)
            continue
        entry = _Table(value, table.at(key))
        name = entry.text("use", "")
        if not name:
            raise ConfigError(entry.at("use"), 'name the adapter to use, e.g. use = "memory"')
        options = entry.table("options").data
        entry.finish()
        chosen[port] = AdapterChoice(name, options)
    table.finish()
    return chosen


def _read_plugins(table: _Table) -> PluginSelection:
    selection = PluginSelection(
        allow=table.names("allow"),
        deny=table.names("deny") or (),
        entry_points=table.flag("entry_points", default=True),
    )
    table.finish()
    return selection


# --- business settings --------------------------------------------------------------------------


def _read_settings(table: _Table) -> Settings:
    defaults = Settings()
    number_format = table.text("number_format", defaults.number_format)
    dunning = None if table.raw("dunning") is None else table.table("dunning")
    calendar = None if table.raw("calendar") is None else table.table("calendar")
    try:
        settings = _settings_of(table, defaults, number_format, dunning, calendar)
    except InvalidSettings as error:
        raise ConfigError(table.at(error.field), error.reason) from error
    table.finish()
    return settings


def _settings_of(
    table: _Table,
    defaults: Settings,
    number_format: str,
    dunning: _Table | None,
    calendar: _Table | None,
) -> Settings:
    return Settings(
        chart=_read_chart(table.table("ledger")),
        credit_policy=_read_credit(table.table("credit")),
        dunning_policy=None if dunning is None else _read_dunning(dunning),
        matching=_read_matching(table.table("matching")),
        invoicing_policy=table.choice(
            "invoicing_policy", InvoicingPolicy, defaults.invoicing_policy
        ),
        tax_rounding=table.choice("tax_rounding", TaxRounding, defaults.tax_rounding),
        out_of_stock=table.choice("out_of_stock", OutOfStockPolicy, defaults.out_of_stock),
        calendar=None if calendar is None else _read_calendar(calendar),
        ship_from=_read_address(table.table("ship_from"), defaults.ship_from),
        invoice_series=table.text("invoice_series", defaults.invoice_series),
        credit_note_series=table.text("credit_note_series", defaults.credit_note_series),
        number_format=number_format,
    )


def _read_chart(table: _Table) -> ChartOfAccounts:
    """The default chart with accounts renamed or added and roles remapped."""
    default = ChartOfAccounts.default()
    accounts = {account.code: account.name for account in default.accounts}
    for code, name in table.table("accounts").data.items():
        if not isinstance(name, str):
            raise ConfigError(f"{table.at('accounts')}.{code}", "an account name must be text")
        accounts[code] = name
    roles = dict(default.roles)
    role_table = table.table("roles")
    for role in AccountRole:
        code = role_table.raw(role.value)
        if code is None:
            continue
        if not isinstance(code, str):
            raise ConfigError(role_table.at(role.value), "must be an account code as text")
        roles[role] = code
    role_table.finish()
    table.finish()
    return _refused(
        table.at("roles"),
        lambda: ChartOfAccounts(
            tuple(Account(code, name) for code, name in accounts.items()), tuple(roles.items())
        ),
    )


def _read_credit(table: _Table) -> CreditPolicySet:
    """The default credit policy with its parameters taken from configuration."""
    over_limit = table.choice("over_limit", CreditOutcome, CreditOutcome.REVIEW)
    tolerance = table.decimal("tolerance_percent", Decimal(0))
    grace = table.integer("overdue_grace_days", 0)
    overdue_limit = table.amount("overdue_limit")
    include_disputed = table.flag("include_disputed", default=False)
    table.finish()
    overdue = _refused(
        table.at("overdue_grace_days"), lambda: OverdueHold(grace, overdue_limit, include_disputed)
    )
    limit = _refused(table.at("over_limit"), lambda: LimitCheck(over_limit, tolerance))
    return CreditPolicySet.of(
        AccountOnHold(),
        overdue,
        PrepaymentRequired(CreditPolicySet.of(FirstTimeCustomerReview(), limit)),
    )


def _read_matching(table: _Table) -> MatchingConfig:
    defaults = MatchingConfig()
    absolute = table.amount("write_off_absolute")
    percent = table.optional_decimal("write_off_percent")
    reason = table.text("write_off_reason", defaults.tolerance.reason)
    tolerance = _refused(
        table.at("write_off_absolute"), lambda: WriteOffTolerance(absolute, percent, reason)
    )
    min_confidence = table.decimal("min_confidence", defaults.min_confidence)
    fuzzy_threshold = table.decimal("fuzzy_threshold", defaults.fuzzy_threshold)
    fuzzy_margin = table.decimal("fuzzy_margin", defaults.fuzzy_margin)
    candidates = table.integer("combination_candidates", defaults.combination_candidates)
    size = table.integer("combination_size", defaults.combination_size)
    suggestions = table.integer("suggestions", defaults.suggestions)
    on_account = table.flag(
        "on_account_when_customer_known", default=defaults.on_account_when_customer_known
    )
    table.finish()
    try:
        return MatchingConfig(
            min_confidence=min_confidence,
            fuzzy_threshold=fuzzy_threshold,
            fuzzy_margin=fuzzy_margin,
            combination_candidates=candidates,
            combination_size=size,
            suggestions=suggestions,
            tolerance=tolerance,
            on_account_when_customer_known=on_account,
        )
    except DomainError as error:
        raise ConfigError(table.key, error.describe()) from error
    except ValueError as error:  # attrs validators outside the domain family
        raise ConfigError(table.key, str(error)) from error


def _read_dunning(table: _Table) -> DunningPolicy:
    levels = tuple(_read_level(level) for level in table.tables("levels"))
    day_count = table.choice("day_count", DayCount, DayCount.ACTUAL_365)
    rounding = table.choice("interest_rounding", Rounding, Rounding.DOWN)
    terms = table.integer("charge_terms_days", 14)
    table.finish()
    return _refused(table.at("levels"), lambda: DunningPolicy(levels, day_count, rounding, terms))


def _read_level(table: _Table) -> DunningLevel:
    number = table.integer("number", -1)
    days = table.integer("days", 0)
    template = table.text("template", "")
    fees = table.amounts("fee")
    minimum = table.amounts("minimum")
    interest = table.decimal("interest_percent", Decimal(0))
    actions = frozenset(table.choices("actions", DunningAction))
    table.finish()
    if number < 0 or not template:
        raise ConfigError(table.key, "a level needs a number and a template")
    return _refused(
        table.key,
        lambda: DunningLevel(
            number,
            days,
            template,
            minimum=minimum,
            fee=FeeTable.flat(*fees),
            interest_percent=interest,
            actions=actions,
        ),
    )


def _read_calendar(table: _Table) -> BusinessCalendar:
    weekend = table.choices("weekend", Weekday) if table.data.get("weekend") is not None else None
    holidays = []
    for i, value in table.items("holidays"):
        if not isinstance(value, date):
            raise ConfigError(f"{table.at('holidays')}[{i}]", f"must be a date, not {_kind(value)}")
        holidays.append(value)
    table.finish()
    if weekend is None:
        return BusinessCalendar(holidays=frozenset(holidays))
    return BusinessCalendar(frozenset(weekend), frozenset(holidays))


def _read_address(table: _Table, default: Address) -> Address:
    street = table.text("street", default.street)
    city = table.text("city", default.city)
    postcode = table.text("postcode", default.postcode)
    country = table.text("country", default.country)
    table.finish()
    try:
        return Address(street, city, postcode, country)
    except ValueError as error:
        raise ConfigError(table.at("country"), "must be an ISO 3166 code such as 'DE'") from error
