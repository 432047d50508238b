"""The typed facade over pluggy: how o2c finds, checks and calls its plugins.

A plugin is any module or object with functions named like the hooks of
:mod:`o2c.ports.hookspecs`, marked with ``o2c.hookimpl``. Installed packages announce theirs in
the ``o2c`` entry-point group; tests and applications may also register plugin objects directly.

:class:`Plugins` is the only place in o2c that calls a hook. It has one typed method per hook,
and it calls each plugin's implementation on its own (through pluggy's subset hook callers, so
``tryfirst``/``trylast`` ordering and tracing still apply), which is what lets it

* hand each plugin a view of the adapter registry bound to that plugin's name, so every adapter
  is attributed to the plugin that registered it (and a duplicate adapter names both),
* turn anything a plugin raises into a :class:`~o2c.ports.errors.PluginError` naming it, and
* deliver a domain event to every plugin even when one of them fails.

Which plugin did something is always the plugin manager's knowledge, never the plugin's word: a
plugin that raises a ``PluginError`` (or a ``DuplicateAdapter``) naming another plugin gets a
``PluginError`` naming itself, the claim kept in the message.

Hook wrappers (``@o2c.hookimpl(wrapper=True)``, or pluggy's older ``hookwrapper=True``) wrap each
hook call once, around every plugin's implementation, as in pluggy: a wrapper sees the call's
arguments and its outcome, including a ``PluginError`` raised inside. A wrapper of
``o2c_register_adapters`` observes only: its ``registry`` refuses registrations (register from
a plain implementation). A failing wrapper is reported as a ``PluginError`` naming its plugin, and
an event still reaches every plugin when a wrapper fails.

Nothing is built at import time: :func:`o2c.bootstrap` creates one :class:`Plugins` per
application, so two applications in one process never share plugins.
"""

from __future__ import annotations

import contextvars
import difflib
import importlib.metadata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from types import ModuleType, TracebackType
from typing import Any

import attrs
import pluggy

from o2c.adapters import builtin as builtin_plugin
from o2c.domain.errors import O2CError
from o2c.domain.events import DomainEvent
from o2c.ports import hookspecs
from o2c.ports.errors import PluginError
from o2c.ports.hookspecs import PROJECT, hookimpl
from o2c.ports.registry import AdapterRegistry, DuplicateAdapter, PortName, RegisteredAdapter

__all__ = ["BUILTIN", "EventDeliveryFailed", "PluginInfo", "PluginOrigin", "Plugins"]

BUILTIN = "builtin"
"""The name under which o2c's own in-memory adapters are registered."""

PluginOrigin = str
"""Where a plugin came from: ``"builtin"``, ``"entry point"`` or ``"in process"``."""


@attrs.frozen
class PluginInfo:
    """One loaded plugin, as ``o2c plugins`` would list it."""

    name: str
    origin: PluginOrigin
    distribution: str | None = None
    """The installed distribution that provides it (entry points and the built-in plugin)."""
    version: str | None = None
    adapters: tuple[RegisteredAdapter, ...] = ()
    """The adapters it contributed, each with the port it serves (once registration ran)."""


@attrs.frozen
class EventDeliveryFailed(PluginError):
    """One or more plugins failed to handle committed domain events; every plugin still heard them.

    ``plugin`` lists the failing plugins; ``failures`` holds one :class:`PluginError` per failed
    call, in delivery order, each with the original exception as its ``__cause__``.
    """

    failures: tuple[PluginError, ...] = ()


def _default_name(plugin: object) -> str:
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    if isinstance(plugin, type):
        return plugin.__qualname__
    return type(plugin).__qualname__


def _own_version() -> str | None:
    try:
        return importlib.metadata.version(PROJECT)
    except importlib.metadata.PackageNotFoundError:
        return None


class Plugins:
    """The plugin manager of one o2c application, with a typed method per hook.

    Build it with :meth:`load` (what :func:`o2c.bootstrap` does), or step by step: create it,
    :meth:`register` plugins, :meth:`load_entry_points`, then :meth:`check`.
    """

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._info: dict[str, PluginInfo] = {}
        self._callers: dict[tuple[str, str], pluggy.HookCaller] = {}
        self._registry: AdapterRegistry | None = None
        self._dispatch = _Dispatch()
        self._pm.register(self._dispatch, name=_DISPATCH)

    @classmethod
    def load(
        cls,
        *,
        builtin: bool = True,
        extra: Iterable[object] | Mapping[str, object] = (),
        entry_points: bool = True,
        allow: Collection[str] | None = None,
        deny: Collection[str] = (),
    ) -> Plugins:
        """The usual start-up: built-in plugin, ``extra`` plugins, entry points, then check.

        ``extra`` is a sequence of plugin objects (named after their module or class) or a
        mapping of name to plugin. ``allow``/``deny`` filter entry points by name.
        """
        plugins = cls()
        if builtin:
            plugins.register(builtin_plugin, name=BUILTIN, origin=BUILTIN)
        named = extra.items() if isinstance(extra, Mapping) else ((None, p) for p in extra)
        for name, plugin in named:
            plugins.register(plugin, name=name)
        if entry_points:
            plugins.load_entry_points(allow=allow, deny=deny)
        plugins.check()
        return plugins

    # --- loading ------------------------------------------------------------------------------

    def register(
        self,
        plugin: object,
        *,
        name: str | None = None,
        origin: PluginOrigin = "in process",
        distribution: str | None = None,
        version: str | None = None,
    ) -> str:
        """Register a plugin object or module; returns the name it is known by.

        A hookimpl whose arguments do not match its hook specification is refused here with a
        :class:`PluginError`; so is a name already in use.
        """
        plugin_name = name or _default_name(plugin)
        if plugin_name in self._info:
            raise PluginError(plugin_name, "register", "a plugin with this name is already loaded")
        try:
            self._pm.register(plugin, name=plugin_name)
        except pluggy.PluginValidationError as error:
            raise PluginError(plugin_name, "register", str(error)) from error
        except ValueError as error:  # pluggy refuses the same object twice
            raise PluginError(plugin_name, "register", str(error)) from error
        if origin == BUILTIN:
            distribution, version = PROJECT, _own_version()
        self._info[plugin_name] = PluginInfo(plugin_name, origin, distribution, version)
        self._callers.clear()
        return plugin_name

    def load_entry_points(
        self, *, allow: Collection[str] | None = None, deny: Collection[str] = ()
    ) -> tuple[str, ...]:
        """Load the installed plugins of the ``o2c`` entry-point group; returns their names.

        With ``allow``, only the entry points named there are loaded; names in ``deny`` never
        are (deny wins). An entry point that fails to import is a :class:`PluginError`.
        """
        loaded: list[str] = []
        seen: set[str] = set()
        for entry_point in importlib.metadata.entry_points(group=PROJECT):
            name = entry_point.name
            # The same distribution can be visible twice on the path; the first one wins.
            if name in seen or name in deny or (allow is not None and name not in allow):
                continue
            seen.add(name)
            try:
                plugin = entry_point.load()
            except Exception as error:
                raise PluginError(name, "load", f"cannot load {entry_point.value}: {error}") from (
                    error
                )
            dist = entry_point.dist
            self.register(
                plugin,
                name=name,
                origin="entry point",
                distribution=dist.name if dist is not None else None,
                version=dist.version if dist is not None else None,
            )
            loaded.append(name)
        return tuple(loaded)

    def check(self) -> None:
        """Fail on any hookimpl that matches no hook (a misspelled ``o2c_`` function).

        Raises a :class:`PluginError` naming the plugin and the unknown hook, with the closest
        real hook name as a hint.
        """
        for hook_name, hook in vars(self._pm.hook).items():
            if hook_name.startswith("_") or hook.has_spec():
                continue
            for impl in hook.get_hookimpls():
                if impl.optionalhook:
                    continue
                close = difflib.get_close_matches(hook_name, _hook_names(), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise PluginError(
                    impl.plugin_name, hook_name, f"there is no hook of this name{hint}"
                )
        # pluggy's own check as well, should its rules ever grow beyond the one above.
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as error:
            name = self._pm.get_name(error.plugin) or _default_name(error.plugin)
            raise PluginError(name, "check", str(error)) from error

    def plugins(self) -> tuple[PluginInfo, ...]:
        """Every loaded plugin in load order, with the adapters it contributed."""
        entries = self._registry.entries() if self._registry is not None else ()
        return tuple(
            attrs.evolve(info, adapters=tuple(e for e in entries if e.plugin == info.name))
            for info in self._info.values()
        )

    def names(self) -> tuple[str, ...]:
        """The names of the loaded plugins, in load order."""
        return tuple(self._info)

    # --- the hooks ----------------------------------------------------------------------------

    def register_adapters(self, registry: AdapterRegistry) -> None:
        """Let every plugin contribute adapters to ``registry``, attributed to it.

        Each plugin receives a view of ``registry`` bound to its own name. ``DuplicateAdapter``
        (from the registry) and a plugin's ``PluginError`` about itself pass through; anything
        else a plugin raises becomes a :class:`PluginError` naming it.
        """
        self._registry = registry
        hook = "o2c_register_adapters"

        def each_plugin() -> None:
            for name, call in self._each(hook):
                before = registry._snapshot()
                try:
                    call(registry=registry._bound_to(name))
                except DuplicateAdapter as error:
                    if not _genuine(error, registry, name):
                        raise _wrapped(name, hook, error) from error
                    raise
                except Exception as error:
                    raise _owned(name, hook, error) from error
                _check_attribution(registry, before, name, hook)

        self._around(hook, {"registry": _Closed(registry)}, each_plugin, failures=None)

    def domain_event(self, event: DomainEvent) -> tuple[PluginError, ...]:
        """Hand one committed event to every plugin; returns the failures, raises nothing.

        Every plugin hears the event whatever the others (or a wrapper) do: a failure is recorded
        as a :class:`PluginError` (with the original exception as its ``__cause__``) and delivery
        goes on.
        """
        failures: list[PluginError] = []
        hook = "o2c_domain_event"

        def each_plugin() -> None:
            for name, call in self._each(hook):
                try:
                    call(event=event)
                except Exception as error:
                    owned = _owned(name, hook, error)
                    if owned is not error:
                        owned.__cause__ = error
                    failures.append(owned)

        self._around(hook, {"event": event}, each_plugin, failures=failures)
        return tuple(failures)

    def deliver(self, events: Sequence[DomainEvent]) -> tuple[PluginError, ...]:
        """Hand committed events to every plugin, in order; returns the failures, raises nothing."""
        failures: list[PluginError] = []
        for event in events:
            failures.extend(self.domain_event(event))
        return tuple(failures)

    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Hand committed events to every plugin in order; then report failures, if any.

        Every event reaches every plugin first; only then, if any call failed, this raises one
        :class:`EventDeliveryFailed` that lists them. The command that produced the events has
        already committed and stays committed.
        """
        failures = self.deliver(events)
        if failures:
            names = ", ".join(dict.fromkeys(f.plugin for f in failures))
            detail = "; ".join(f"{f.plugin}: {f.message}" for f in failures)
            raise EventDeliveryFailed(names, "o2c_domain_event", detail, tuple(failures))

    def adapters_ready(self, names: Mapping[str, str]) -> None:
        """Tell every plugin which adapter serves each port; a failure stops start-up."""
        chosen = dict(names)
        hook = "o2c_adapters_ready"

        def each_plugin() -> None:
            for name, call in self._each(hook):
                try:
                    call(names=dict(chosen))
                except Exception as error:
                    raise _owned(name, hook, error) from error

        self._around(hook, {"names": dict(chosen)}, each_plugin, failures=None)

    # --- wrappers -----------------------------------------------------------------------------

    def _around(
        self,
        hook_name: str,
        arguments: Mapping[str, Any],
        each_plugin: Callable[[], None],
        *,
        failures: list[PluginError] | None,
    ) -> None:
        """Run ``each_plugin`` inside the hook's wrappers, if it has any.

        The wrappers and an internal implementation that runs ``each_plugin`` are called as one
        pluggy hook call, so the wrappers see it as pluggy would show it. What ``each_plugin``
        raises comes out unchanged; anything else is a wrapper's failure, named after it. With
        ``failures`` (event delivery), a wrapper's failure is recorded there instead of raised,
        and the plugins hear the event even if a wrapper failed before they could.
        """
        hook: pluggy.HookCaller = getattr(self._pm.hook, hook_name)
        wrappers = [impl for impl in hook.get_hookimpls() if _is_wrapper(impl)]
        if not wrappers:
            each_plugin()
            return
        ran: list[bool] = []
        inner: list[BaseException] = []

        def run() -> None:
            ran.append(True)
            try:
                each_plugin()
            except BaseException as error:
                inner.append(error)
                raise

        caller = self._wrapped_caller(hook_name, wrappers)
        token = self._dispatch.pending.set(run)
        try:
            caller(**arguments)
        except Exception as error:
            if inner and error is inner[0]:
                raise
            failure = _wrapped(_culprit(error, wrappers), hook_name, error)
            if failures is None:
                raise failure from error
            failure.__cause__ = error
            failures.append(failure)
            if not ran:
                each_plugin()
        finally:
            self._dispatch.pending.reset(token)

    def _wrapped_caller(self, hook_name: str, wrappers: list[pluggy.HookImpl]) -> pluggy.HookCaller:
        key = (hook_name, _DISPATCH)
        caller = self._callers.get(key)
        if caller is None:
            keep = {id(impl.plugin) for impl in wrappers} | {id(self._dispatch)}
            others = [p for p in self._pm.get_plugins() if id(p) not in keep]
            caller = self._pm.subset_hook_caller(hook_name, others)
            self._callers[key] = caller
        return caller

    # --- one plugin at a time -----------------------------------------------------------------

    def _each(self, hook_name: str) -> Iterator[tuple[str, pluggy.HookCaller]]:
        """Each plugin implementing ``hook_name`` with a caller of its implementation alone.

        The order is pluggy's call order (``tryfirst`` first, otherwise last registered first).
        A subset hook caller, rather than calling ``impl.function`` directly, keeps pluggy's own
        argument handling and tracing; wrappers wrap the whole hook call (see :meth:`_around`).
        """
        hook: pluggy.HookCaller = getattr(self._pm.hook, hook_name)
        # A plugin has at most one implementation of a hook (one attribute per hook name).
        plain = [
            impl
            for impl in hook.get_hookimpls()
            if not _is_wrapper(impl) and impl.plugin is not self._dispatch
        ]
        for impl in reversed(plain):
            name = impl.plugin_name
            key = (hook_name, name)
            caller = self._callers.get(key)
            if caller is None:
                others = [p for p in self._pm.get_plugins() if p is not impl.plugin]
                caller = self._pm.subset_hook_caller(hook_name, others)
                self._callers[key] = caller
            yield name, caller


def _hook_names() -> list[str]:
    return [name for name in vars(hookspecs) if name.startswith(f"{PROJECT}_")]


def _is_wrapper(impl: pluggy.HookImpl) -> bool:
    return bool(impl.hookwrapper or impl.wrapper)


def _wrapped(plugin: str, hook: str, error: BaseException) -> PluginError:
    return PluginError(plugin, hook, f"{type(error).__name__}: {error}")


def _owned(plugin: str, hook: str, error: BaseException) -> PluginError:
    """What ``plugin`` raised, as a :class:`PluginError` naming ``plugin`` itself.

    Its own ``PluginError`` passes unchanged; one naming another plugin keeps the claim in the
    message, so no plugin can put its failure on another.
    """
    if isinstance(error, PluginError):
        if error.plugin == plugin:
            return error
        return PluginError(
            plugin,
            hook,
            f"raised a PluginError in the name of plugin {error.plugin!r}: {error.message}",
        )
    return _wrapped(plugin, hook, error)


def _genuine(error: DuplicateAdapter, registry: AdapterRegistry, plugin: str) -> bool:
    """Whether ``error`` is the registry's own refusal of ``plugin``'s registration."""
    try:
        port = PortName(error.port)
        first = registry.get(port, error.name).plugin
    except (ValueError, O2CError):
        return False
    return error.second_plugin == plugin and error.first_plugin == first


def _check_attribution(
    registry: AdapterRegistry,
    before: Mapping[tuple[PortName, str], RegisteredAdapter],
    plugin: str,
    hook: str,
) -> None:
    """Refuse registrations a plugin made (or undid) in any name but its own."""
    for entry in registry._changed_since(before):
        if entry.plugin != plugin:
            raise PluginError(
                plugin,
                hook,
                f"registered {entry.port.value} adapter {entry.name!r} in the name of plugin "
                f"{entry.plugin!r}; a plugin registers in its own name only",
            )
    missing = [key for key in before if key not in {(e.port, e.name) for e in registry.entries()}]
    if missing:
        port, name = missing[0]
        raise PluginError(plugin, hook, f"removed the {port.value} adapter {name!r}")


def _culprit(error: BaseException, wrappers: Sequence[pluggy.HookImpl]) -> str:
    """The plugin whose wrapper raised ``error``: the innermost wrapper frame of its traceback."""
    codes = {}
    for impl in wrappers:
        code = getattr(impl.function, "__code__", None)
        if code is not None:
            codes[code] = impl.plugin_name
    found: str | None = None
    trace: TracebackType | None = error.__traceback__
    while trace is not None:
        found = codes.get(trace.tb_frame.f_code, found)
        trace = trace.tb_next
    return found or ", ".join(impl.plugin_name for impl in wrappers)


_DISPATCH = "o2c:each-plugin"
"""The name of the plugin manager's own implementation that wrappers wrap."""


class _Dispatch:
    """Inside a wrapped hook call, runs the plugins' implementations one by one.

    What to run is held in a context variable of this instance, so calls from several threads
    (or a hook call made inside another) each run their own.
    """

    def __init__(self) -> None:
        self.pending: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
            "o2c_each_plugin", default=None
        )

    def _run(self) -> None:
        run = self.pending.get()
        if run is not None:
            run()

    @hookimpl
    def o2c_register_adapters(self, registry: AdapterRegistry) -> None:
        self._run()

    @hookimpl
    def o2c_domain_event(self, event: DomainEvent) -> None:
        self._run()

    @hookimpl
    def o2c_adapters_ready(self, names: dict[str, str]) -> None:
        self._run()


class _Closed(AdapterRegistry):
    """The registry as a wrapper of ``o2c_register_adapters`` sees it: readable, closed to new
    registrations (a wrapper is no plugin's registration, so it has no name to register in)."""

    def __init__(self, registry: AdapterRegistry) -> None:
        super().__init__()
        self._entries = registry._entries
        self._plugin = "a wrapper"

    def register(
        self, port: PortName, name: str, factory: Callable[..., Any], description: str = ""
    ) -> None:
        raise PluginError(
            "a wrapper",
            "o2c_register_adapters",
            f"a wrapper cannot register adapters ({port.value} adapter {name!r}); register "
            "them from a plain o2c_register_adapters implementation",
        )
