"""The codec: every o2c value as JSON-ready data and back, in one canonical, versioned form.

Stores keep domain values as documents, the services remember command results, and idempotency
compares requests: all three go through this module, so a value has exactly one stored form.

* Money is ``{"amount": "12.50", "currency": "EUR"}``: the amount as a decimal string, never a
  float. Decimals and fractions (``"100/3"``) are strings, dates and times ISO 8601 strings,
  enums their values, tuples and lists JSON arrays, frozensets arrays in a stable order.
* attrs records are objects of their ``__init__`` arguments; derived fields are rebuilt by the
  class on the way back, so its validation runs again.
* A field declared as a union of records (payment terms' due rules and shares) or as the base
  :class:`~o2c.domain.events.DomainEvent` carries the class name under ``"type"``.
* :func:`dumps` writes canonical JSON (sorted keys, no spaces), so equal values give equal text.
  :data:`SCHEMA_VERSION` names this form; stores record it beside every document.

Built on cattrs: it already knows attrs classes, generics and unions, and this module only teaches
it o2c's few special types.
"""

from __future__ import annotations

import enum
import hashlib
import json
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, TypeVar, cast

import attrs
import cattrs
from moneyed import Currency

from o2c.domain.errors import O2CError
from o2c.domain.events import DomainEvent
from o2c.domain.money import Money, as_currency

__all__ = [
    "SCHEMA_VERSION",
    "CodecError",
    "dumps",
    "fingerprint",
    "from_data",
    "loads",
    "to_data",
]

T = TypeVar("T")

SCHEMA_VERSION = 1
"""The version of the stored form this code writes (and the newest it reads)."""


class CodecError(O2CError, ValueError):
    """Data that is not the stored form of the type asked for (corrupt or of another version)."""

    def __init__(self, kind: object, reason: str) -> None:
        self.kind = _name(kind)
        self.reason = reason
        super().__init__(f"not a stored {self.kind}: {reason}")


def _name(kind: object) -> str:
    return getattr(kind, "__name__", None) or str(kind)


# --- the special types ----------------------------------------------------------------------


def _decimal_in(data: object, _: object) -> Decimal:
    # Numbers travel as strings: a float here means the data was not written by this codec.
    if isinstance(data, bool) or not isinstance(data, str | int):
        raise CodecError(Decimal, f"expected a decimal string, got {data!r}")
    try:
        value = Decimal(data)
    except InvalidOperation:
        raise CodecError(Decimal, f"{data!r} is not a number") from None
    if not value.is_finite():
        raise CodecError(Decimal, f"{data!r} is not finite")
    return value


def _fraction_in(data: object, _: object) -> Fraction:
    if not isinstance(data, str):
        raise CodecError(Fraction, f"expected a fraction string such as '100/3', got {data!r}")
    try:
        return Fraction(data)
    except (ValueError, ZeroDivisionError):
        raise CodecError(Fraction, f"{data!r} is not a fraction") from None


def _money_out(value: Money) -> dict[str, str]:
    return {"amount": str(value.amount), "currency": value.currency.code}


def _money_in(data: object, _: object) -> Money:
    if not isinstance(data, Mapping) or set(data) != {"amount", "currency"}:
        raise CodecError(Money, f"expected amount and currency, got {data!r}")
    return Money(_decimal_in(data["amount"], Decimal), as_currency(str(data["currency"])))


def _date_in(data: object, _: object) -> date:
    if not isinstance(data, str):
        raise CodecError(date, f"expected an ISO date, got {data!r}")
    return date.fromisoformat(data)


def _datetime_in(data: object, _: object) -> datetime:
    if not isinstance(data, str):
        raise CodecError(datetime, f"expected an ISO date and time, got {data!r}")
    return datetime.fromisoformat(data)


# --- records chosen by class name -----------------------------------------------------------


def _is_record_union(kind: Any) -> bool:
    if typing.get_origin(kind) not in (typing.Union, types.UnionType):
        return False
    members = [k for k in typing.get_args(kind) if k is not type(None)]
    return len(members) > 1 and all(isinstance(k, type) and attrs.has(k) for k in members)


def _is_event_base(kind: Any) -> bool:
    return kind is DomainEvent


def _event_classes() -> dict[str, type]:
    found: dict[str, type] = {}
    pending = list(DomainEvent.__subclasses__())
    while pending:
        cls = pending.pop()
        found.setdefault(cls.__name__, cls)
        pending.extend(cls.__subclasses__())
    return found


def _tagged_out(converter: cattrs.Converter) -> Callable[[Any], Callable[[Any], Any]]:
    def factory(_: Any) -> Callable[[Any], Any]:
        def unstructure(value: Any) -> Any:
            data = converter.unstructure(value, unstructure_as=type(value))
            return {"type": type(value).__name__, **data}

        return unstructure

    return factory


def _tagged_in(converter: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    def factory(kind: Any) -> Callable[[Any, Any], Any]:
        fixed: dict[str, type] | None = None
        if not _is_event_base(kind):
            fixed = {k.__name__: k for k in typing.get_args(kind) if k is not type(None)}

        def structure(data: Any, _: Any) -> Any:
            if not isinstance(data, Mapping) or "type" not in data:
                raise CodecError(kind, f"expected a tagged record, got {data!r}")
            # Event classes are looked up when needed, so every module has defined its own.
            classes = fixed if fixed is not None else _event_classes()
            cls = classes.get(str(data["type"]))
            if cls is None:
                raise CodecError(kind, f"unknown record type {data['type']!r}")
            body = {key: value for key, value in data.items() if key != "type"}
            return converter.structure(body, cls)

        return structure

    return factory


# --- sets and maps --------------------------------------------------------------------------


def _is_frozenset(kind: Any) -> bool:
    return typing.get_origin(kind) is frozenset or kind is frozenset


def _frozenset_out(converter: cattrs.Converter) -> Callable[[Any], Callable[[Any], Any]]:
    def factory(kind: Any) -> Callable[[Any], Any]:
        args = typing.get_args(kind)
        item = args[0] if args else Any

        def unstructure(value: Any) -> Any:
            items = [converter.unstructure(v, unstructure_as=item) for v in value]
            return sorted(items, key=_canonical)

        return unstructure

    return factory


def _is_tuple(kind: Any) -> bool:
    return typing.get_origin(kind) is tuple


def _tuple_out(converter: cattrs.Converter) -> Callable[[Any], Callable[[Any], Any]]:
    def factory(kind: Any) -> Callable[[Any], Any]:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            item = args[0]
            return lambda value: [converter.unstructure(v, unstructure_as=item) for v in value]
        return lambda value: [
            converter.unstructure(v, unstructure_as=t) for v, t in zip(value, args, strict=True)
        ]

    return factory


def _is_mapping(kind: Any) -> bool:
    origin = typing.get_origin(kind)
    return isinstance(origin, type) and issubclass(origin, Mapping)


def _mapping_out(converter: cattrs.Converter) -> Callable[[Any], Callable[[Any], Any]]:
    def factory(kind: Any) -> Callable[[Any], Any]:
        key_type, value_type = (*typing.get_args(kind), Any, Any)[:2]

        def unstructure(value: Any) -> Any:
            return {
                _key_out(converter.unstructure(k, unstructure_as=key_type)): converter.unstructure(
                    v, unstructure_as=value_type
                )
                for k, v in value.items()
            }

        return unstructure

    return factory


def _key_out(key: object) -> str:
    if isinstance(key, str):
        return key
    return _canonical(key)


def _mapping_in(converter: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    def factory(kind: Any) -> Callable[[Any, Any], Any]:
        key_type, value_type = (*typing.get_args(kind), Any, Any)[:2]
        plain_keys = key_type is str or (
            isinstance(key_type, type) and issubclass(key_type, enum.Enum | str)
        )

        def structure(data: Any, _: Any) -> Any:
            if not isinstance(data, Mapping):
                raise CodecError(kind, f"expected an object, got {data!r}")
            return {
                converter.structure(k if plain_keys else json.loads(k), key_type): (
                    converter.structure(v, value_type)
                )
                for k, v in data.items()
            }

        return structure

    return factory


# --- the converter --------------------------------------------------------------------------


def _build(*, normalise_numbers: bool) -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    if normalise_numbers:
        # For fingerprints only: 2, 2.0 and "2.00" as a Decimal are the same request.
        def number(value: Decimal | int) -> str | bool:
            if isinstance(value, bool):
                return value
            text = format(Decimal(value).normalize(), "f")
            return "0" if text in ("-0", "0") else text

        converter.register_unstructure_hook(Decimal, number)
        converter.register_unstructure_hook(int, number)
        converter.register_unstructure_hook(
            Money, lambda m: {"amount": number(m.amount), "currency": m.currency.code}
        )
    else:
        converter.register_unstructure_hook(Decimal, str)
        converter.register_unstructure_hook(Money, _money_out)
    converter.register_unstructure_hook(Fraction, str)
    converter.register_structure_hook(Fraction, _fraction_in)
    converter.register_structure_hook(Decimal, _decimal_in)
    converter.register_structure_hook(Money, _money_in)
    converter.register_unstructure_hook(Currency, lambda c: c.code)
    converter.register_structure_hook(Currency, lambda d, _: as_currency(str(d)))
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, _date_in)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(datetime, _datetime_in)
    converter.register_unstructure_hook_factory(_is_record_union, _tagged_out(converter))
    converter.register_structure_hook_factory(_is_record_union, _tagged_in(converter))
    converter.register_unstructure_hook_factory(_is_event_base, _tagged_out(converter))
    converter.register_structure_hook_factory(_is_event_base, _tagged_in(converter))
    converter.register_unstructure_hook_factory(_is_frozenset, _frozenset_out(converter))
    converter.register_unstructure_hook_factory(_is_tuple, _tuple_out(converter))
    converter.register_unstructure_hook_factory(_is_mapping, _mapping_out(converter))
    converter.register_structure_hook_factory(_is_mapping, _mapping_in(converter))
    return converter


_CONVERTER = _build(normalise_numbers=False)
_FINGERPRINTS = _build(normalise_numbers=True)


def _canonical(data: object) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- the public functions -------------------------------------------------------------------


def to_data(value: object, as_type: object = None) -> Any:
    """``value`` as JSON-ready data (dicts, lists, strings, ints, booleans, ``None``).

    ``as_type`` is the declared type (``tuple[Allocation, ...]``, a union, ``DomainEvent``); it
    defaults to the value's own class.
    """
    return _CONVERTER.unstructure(value, unstructure_as=as_type or type(value))


def from_data(data: Any, as_type: type[T] | Any) -> T:
    """The value of type ``as_type`` whose data :func:`to_data` gave; :class:`CodecError` if
    ``data`` is not such data (the class's own validation errors propagate unchanged)."""
    try:
        return cast(T, _CONVERTER.structure(data, as_type))
    except CodecError:
        raise
    except cattrs.BaseValidationError as error:
        codec_errors = [e for e in _leaves(error) if isinstance(e, CodecError)]
        if codec_errors:
            raise codec_errors[0] from error
        domain = [e for e in _leaves(error) if not isinstance(e, KeyError | TypeError)]
        if domain and not isinstance(domain[0], cattrs.ForbiddenExtraKeysError | ValueError):
            raise domain[0] from error
        raise CodecError(as_type, _describe(error)) from error


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, cattrs.BaseValidationError):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _describe(error: BaseException) -> str:
    leaves = _leaves(error)
    return "; ".join(f"{type(e).__name__}: {e}" for e in leaves[:3]) or str(error)


def dumps(value: object, as_type: object = None) -> str:
    """``value`` as canonical JSON text (see :func:`to_data`)."""
    return _canonical(to_data(value, as_type))


def loads(text: str | bytes, as_type: type[T] | Any) -> T:
    """The value of type ``as_type`` that :func:`dumps` wrote."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise CodecError(as_type, f"not JSON: {error}") from None
    value: T = from_data(data, as_type)
    return value


def fingerprint(value: object) -> str:
    """A digest that is equal for equivalent values: same data whatever the order of a mapping,
    and ``2``, ``2.0`` and ``Decimal("2.00")`` alike. Idempotency compares requests with it."""
    data = _FINGERPRINTS.unstructure(value, unstructure_as=_runtime_type(value))
    return hashlib.sha256(_canonical(data).encode()).hexdigest()


def _runtime_type(value: object) -> object:
    # A request is a plain tuple or mapping of values: describe it by what it holds.
    if isinstance(value, tuple):
        return tuple[tuple(_runtime_type(v) for v in value)] if value else tuple  # type: ignore[misc]
    if isinstance(value, Mapping):
        return dict[str, Any]
    return type(value)
