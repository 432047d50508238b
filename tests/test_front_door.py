"""The package ``o2c`` is the front door: one flat namespace, each name the object of its home.

Callers import what they pass to the services and get back from ``o2c``; the deep modules stay
importable for integrators. These tests keep the namespace honest (every name real, documented and
listed once) and keep the getting-started code and the examples on the front door.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

import o2c

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_INIT = ROOT / "src" / "o2c" / "__init__.py"
REFERENCE_PAGE = ROOT / "docs" / "reference" / "o2c.md"
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
DEEP_DOMAIN_IMPORT = re.compile(r"^\s*from o2c\.domain\.[a-z_.]+ import", re.MULTILINE)

# Lines importing from o2c.domain.* left in the README, docs/ and examples/ (the example plugin
# package included): the pure domain operations the services run for you, which are deliberately
# not in the front door. Lower it when you remove one; never raise it to make room for a new one.
DEEP_DOMAIN_IMPORTS_AT_MOST = 16

# Names the front door defines itself rather than re-exports.
DEFINED_HERE = {"__version__"}


def home_modules() -> dict[str, str]:
    """Each re-exported name and the module ``o2c/__init__.py`` imports it from."""
    tree = ast.parse(PACKAGE_INIT.read_text(encoding="utf-8"))
    homes: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("o2c."):
            for alias in node.names:
                assert alias.asname is None, f"{alias.name} is renamed on its way in"
                assert alias.name not in homes, f"{alias.name} is imported twice"
                homes[alias.name] = node.module
    return homes


def attribute_docstrings(module: ModuleType) -> set[str]:
    """Module-level names with a docstring Sphinx reads: a string after them or ``#:`` above."""
    source = inspect.getsource(module)
    lines = source.splitlines()
    tree = ast.parse(source)
    documented: set[str] = set()
    for statement, following in zip(tree.body, [*tree.body[1:], None], strict=True):
        if isinstance(statement, ast.Assign):
            targets = [t.id for t in statement.targets if isinstance(t, ast.Name)]
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            targets = [statement.target.id]
        else:
            continue
        string_after = (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
            and bool(following.value.value.strip())
        )
        comment_above = statement.lineno > 1 and lines[statement.lineno - 2].startswith("#: ")
        if string_after or comment_above:
            documented.update(targets)
    return documented


def o2c_imports(source: str) -> list[ast.stmt]:
    """The import statements of a piece of code that import o2c or one of its modules."""
    found: list[ast.stmt] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            if any(a.name == "o2c" or a.name.startswith("o2c.") for a in node.names):
                found.append(node)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "o2c":
            found.append(node)
    return found


def python_blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


def test_all_lists_each_name_once() -> None:
    repeated = [name for name, count in Counter(o2c.__all__).items() if count > 1]
    assert not repeated


def test_every_name_is_the_object_of_its_home_module() -> None:
    homes = home_modules()
    assert set(o2c.__all__) - DEFINED_HERE == set(homes), "__all__ and the imports disagree"
    for name, home in homes.items():
        module = importlib.import_module(home)
        obj = getattr(o2c, name)
        assert getattr(module, name) is obj, f"o2c.{name} is not {home}.{name}"
        assert name in getattr(module, "__all__", [name]), f"{name} is not public in {home}"
        defined_in = getattr(obj, "__module__", "")
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and defined_in.startswith("o2c"):
            # Import from where it is defined (or the package that holds that module).
            assert defined_in == home or defined_in.startswith(f"{home}."), (
                f"o2c.{name} is imported from {home}, defined in {defined_in}"
            )


def test_every_name_has_a_docstring() -> None:
    homes = home_modules()
    undocumented = []
    for name in o2c.__all__:
        obj = getattr(o2c, name)
        if inspect.isclass(obj):
            doc = vars(obj).get("__doc__")  # its own, not one inherited from a base class
        elif inspect.isfunction(obj):
            doc = obj.__doc__
        else:
            home = importlib.import_module(homes.get(name, "o2c"))
            doc = "attribute docstring" if name in attribute_docstrings(home) else None
        if not (doc and doc.strip()):
            undocumented.append(name)
    assert not undocumented


def common_cycle_code() -> list[tuple[str, str]]:
    """The README's and the getting-started page's code blocks, and each example program."""
    code = [(f"README.md[{n}]", b) for n, b in enumerate(python_blocks(ROOT / "README.md"))]
    getting_started = ROOT / "docs" / "getting-started.md"
    code += [(f"getting-started.md[{n}]", b) for n, b in enumerate(python_blocks(getting_started))]
    code += [
        (p.name, p.read_text(encoding="utf-8")) for p in ROOT.joinpath("examples").glob("*.py")
    ]
    return sorted(code)


@pytest.mark.parametrize(
    ("source", "code"), [pytest.param(*item, id=item[0]) for item in common_cycle_code()]
)
def test_the_common_cycle_needs_two_import_lines_at_most(source: str, code: str) -> None:
    imports = o2c_imports(code)
    deep = [ast.unparse(i) for i in imports if isinstance(i, ast.ImportFrom) and i.module != "o2c"]
    deep += [
        ast.unparse(i) for i in imports if isinstance(i, ast.Import) and i.names[0].name != "o2c"
    ]
    assert not deep, f"{source} imports past the front door: {deep}"
    assert len(imports) <= 2, f"{source} has {len(imports)} o2c import lines"


def test_deep_domain_imports_in_docs_and_examples_do_not_come_back() -> None:
    pages = [ROOT / "README.md"]
    for folder in ("docs", "examples"):
        for path in ROOT.joinpath(folder).rglob("*"):
            relative = path.relative_to(ROOT).parts
            # Folders starting with "_" hold the site's build machinery (docs/_ext draws the
            # lifecycle diagrams from the catalogue), not text a reader copies from.
            hidden = any(part.startswith((".", "_")) for part in relative)
            if path.suffix in {".md", ".py"} and not hidden:
                pages.append(path)
    count = sum(len(DEEP_DOMAIN_IMPORT.findall(p.read_text(encoding="utf-8"))) for p in pages)
    assert count <= DEEP_DOMAIN_IMPORTS_AT_MOST


def test_the_reference_page_lists_every_name_once() -> None:
    page = REFERENCE_PAGE.read_text(encoding="utf-8")
    # The composition root is documented on the page; the rest links to the defining module.
    root = page[page.index(".. py:currentmodule:: o2c\n") :].split("```", 1)[0]
    documented_here = re.findall(r"^\.\. auto\w+:: (\w+)$", root, re.MULTILINE)
    linked = [
        name
        for name, target in re.findall(r"\{py:obj\}`(\w+) <([\w.]+)>`", page)
        if target.rsplit(".", 1)[-1] == name
    ]
    listed = Counter(documented_here + linked)
    assert sorted(listed) == sorted(o2c.__all__), "docs/reference/o2c.md and o2c.__all__ differ"
    assert all(count == 1 for count in listed.values())


def test_the_reference_page_links_where_each_class_and_function_is_documented() -> None:
    page = REFERENCE_PAGE.read_text(encoding="utf-8")
    for name, target in re.findall(r"\{py:obj\}`(\w+) <([\w.]+)>`", page):
        obj = getattr(o2c, name)
        defined_in = getattr(obj, "__module__", "")
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and defined_in.startswith("o2c"):
            assert target == f"{defined_in}.{name}", f"{name} links to {target}"
