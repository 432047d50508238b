"""Sphinx configuration of the o2c documentation site.

The pages are Markdown (MyST); the API reference is read from the docstrings with autodoc. The
build treats every warning as an error, so a broken cross reference, a page left out of the
navigation or a docstring that is not valid reStructuredText stops it.
"""

from __future__ import annotations

import logging

from sphinx.application import Sphinx

import o2c

project = "o2c"
author = "The o2c developers"
copyright = "The o2c developers, Apache License 2.0"
release = o2c.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinxcontrib.mermaid",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/.*"]

# --- Markdown ----------------------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
myst_fence_as_directive = ["mermaid"]

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


def setup(app: Sphinx) -> None:
    app.connect("autodoc-skip-member", _skip_foreign)


# Importing the SQL adapters for the API reference sets Alembic up, which logs at INFO level.
logging.getLogger("alembic").setLevel(logging.WARNING)
