"""The Alembic environment and revisions of a SQL book, run by :func:`o2c.adapters.sql.upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

__all__ = ["head_revision", "known_revisions"]


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(Path(__file__).parent))


def head_revision() -> str:
    """The schema revision this version of o2c works with (the newest it knows)."""
    return _scripts().get_current_head() or ""


def known_revisions() -> frozenset[str]:
    """Every schema revision this version of o2c knows: a database at another one is newer."""
    return frozenset(script.revision for script in _scripts().walk_revisions())
