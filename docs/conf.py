"""Sphinx configuration of the o2c documentation site.

The pages are Markdown (MyST); the API reference is read from the docstrings with autodoc. The
build treats every warning as an error, so a broken cross reference, a page left out of the
navigation or a docstring that is not valid reStructuredText stops it.
"""

from __future__ import annotations

import enum
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import attrs
from sphinx.application import Sphinx

import o2c

project = "o2c"
author = "The o2c developers"
copyright = "The o2c developers, Apache License 2.0"
release = o2c.__version__
version = release

# Local extensions: the lifecycle diagrams, drawn as inline SVG from the code at build time, so
# the pages need neither JavaScript nor a network.
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    # The reference of the `o2c` command, read from its click commands at build time.
    "sphinx_click",
    "lifecycle_diagrams",
    "report_charts",
]

source_suffix = {".md": "markdown"}
# Curly quotes and ellipses, but dashes left alone: the command reference quotes help texts that
# name options (``--db``), which would otherwise be printed as an en dash.
smartquotes_action = "qe"
root_doc = "index"
exclude_patterns = ["_build", "**/.*"]

# --- Markdown ----------------------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# --- API reference -----------------------------------------------------------------------------

autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True
# Objects stay out of the navigation tree: with hundreds of them, every page would carry them all
# in its sidebar, and building the tree for each page would dominate the build time.
toc_object_entries = False

# References that do not resolve (a type from another library, a name written in prose) are shown
# as plain code rather than reported: the pages and docstrings name many standard types.
nitpicky = False

# --- Links to Python's and attrs' documentation -------------------------------------------------

# Intersphinx turns ``int`` or ``attrs.field`` in a signature into a link to that project's site,
# but only with the inventory of its objects, which lives on that site. The default build must
# never touch the network (it runs offline, and with -W a site that does not answer would stop
# it), so the links are opt-in:
#
# - ``O2C_DOCS_INVENTORIES=DIR``: read ``python.inv`` and ``attrs.inv`` (each project's
#   ``objects.inv``, saved under that name) from DIR, for example a build cache; no network.
#   A project whose file is missing there is not linked.
# - ``O2C_DOCS_ONLINE=1``: fetch the inventories from the projects' sites.
# - neither: no intersphinx; those names are shown as plain code.
#
# Inventories are never committed: they belong to the other projects and go stale.
INTERSPHINX_SITES = {
    "python": "https://docs.python.org/3",
    "attrs": "https://www.attrs.org/en/stable",
}


def intersphinx_setup(environ: Mapping[str, str]) -> dict[str, tuple[str, str | None]]:
    """The intersphinx mapping the environment asks for; empty means intersphinx stays off."""
    inventories = environ.get("O2C_DOCS_INVENTORIES", "").strip()
    if inventories:
        folder = Path(inventories)
        return {
            name: (site, str(folder / f"{name}.inv"))
            for name, site in INTERSPHINX_SITES.items()
            if (folder / f"{name}.inv").is_file()
        }
    if environ.get("O2C_DOCS_ONLINE", "").strip() == "1":
        return {name: (site, None) for name, site in INTERSPHINX_SITES.items()}
    return {}


intersphinx_mapping = intersphinx_setup(os.environ)
if intersphinx_mapping:
    extensions.append("sphinx.ext.intersphinx")
    # Only links to what the pages name on purpose; a label from another site never stands in.
    intersphinx_disabled_reftypes = ["std:*"]

# --- HTML --------------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"o2c {release}"
html_show_sourcelink = False


# Sphinx passes these six arguments positionally.
def _skip_foreign(  # noqa: PLR0917
    app: Sphinx, what: str, name: str, obj: object, skip: bool, options: object
) -> bool:
    """Leave out what a module re-exports from another library (``Money`` from py-moneyed).

    Its docstrings are written for that library's own documentation tools, not for this site.
    """
    if what == "module":
        origin = getattr(obj, "__module__", None)
        if isinstance(origin, str) and not origin.startswith("o2c"):
            return True
    return skip


def _default_text(default: object) -> str:
    """A field's default as a caller would write it, not attrs' internals."""
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        factory = default.factory  # type: ignore[attr-defined]
        name = getattr(factory, "__qualname__", "")
        return f"{name}()" if name and not name.startswith("<") else "<computed>"
    if isinstance(default, enum.Enum):
        return f"{type(default).__name__}.{default.name}"
    return repr(default)


def _attrs_signature(cls: type) -> str:
    """The constructor signature of an attrs class with its defaults written out.

    With ``autodoc_preserve_defaults`` Sphinx would print the source of attrs' generated
    ``__init__`` (``attr_dict['x'].default``, ``NOTHING``), which tells a reader nothing.
    """
    parts: list[str] = []
    keyword_only = False
    for field in attrs.fields(cls):
        if not field.init:
            continue
        if field.kw_only and not keyword_only:
            parts.append("*")
            keyword_only = True
        name = field.alias or field.name
        if field.default is attrs.NOTHING:
            parts.append(name)
        else:
            parts.append(f"{name}={_default_text(field.default)}")
    return "(" + ", ".join(parts) + ")"


# Sphinx passes these seven arguments positionally.
def _clean_attrs_signature(  # noqa: PLR0917
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    is_attrs_class = isinstance(obj, type) and attrs.has(obj)
    if what in {"class", "exception"} and is_attrs_class and signature is not None:
        return _attrs_signature(obj), return_annotation  # type: ignore[arg-type]
    return None


def _drop_unnamed_arguments(app: Sphinx, ctx: object, lines: list[str]) -> None:
    """Leave out arguments without a name from the command reference.

    ``o2c terms`` takes the currency of ``--amount 1000 EUR`` as a trailing argument that its
    usage line does not show on purpose; listed, it would be an option directive without a name.
    """
    kept: list[str] = []
    skipping = False
    for line in lines:
        if line.strip() == ".. option::":
            skipping = True
            continue
        if skipping and (not line.strip() or line.startswith(" ")):
            continue
        skipping = False
        kept.append(line)
    lines[:] = kept


def setup(app: Sphinx) -> None:
    app.connect("sphinx-click-process-arguments", _drop_unnamed_arguments)
    app.connect("autodoc-skip-member", _skip_foreign)
    app.connect("autodoc-process-signature", _clean_attrs_signature)


# Importing the SQL adapters for the API reference sets Alembic up, which logs at INFO level.
logging.getLogger("alembic").setLevel(logging.WARNING)
# matplotlib (the report charts) notes at INFO level how it reads category labels.
logging.getLogger("matplotlib").setLevel(logging.WARNING)
