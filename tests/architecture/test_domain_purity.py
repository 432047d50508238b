"""The domain reads no clock, draws no random numbers, prints nothing and keeps no mutable globals.

The import contract (``lint-imports``) already keeps I/O modules out of ``o2c.domain``; this test
catches what an import check cannot see: a clock read through ``datetime``, a ``print`` or ``open``
call, and module-level lists, dicts or sets that could be mutated at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "o2c" / "domain"
CLOCK_READS = {"now", "today", "utcnow", "fromtimestamp", "utcfromtimestamp"}
FORBIDDEN_CALLS = {"print", "open", "input", "breakpoint", "exec", "eval"}
MUTABLE_LITERALS = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)


def domain_modules() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: p.name)
def test_no_clock_reads_or_io_calls(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    offences = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in CLOCK_READS:
                offences.append(f"line {node.lineno}: .{func.attr}() reads the clock")
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                offences.append(f"line {node.lineno}: {func.id}() does I/O")
    assert not offences, f"{path.name}: " + "; ".join(offences)


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: p.name)
def test_no_mutable_module_globals(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    offences = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
            node.value, MUTABLE_LITERALS
        ):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if names != ["__all__"]:
                offences.append(f"line {node.lineno}: {', '.join(names)}")
    assert not offences, (
        f"{path.name} keeps mutable module state (use a tuple, frozenset or MappingProxyType): "
        + "; ".join(offences)
    )
