"""The ``o2c`` command: a narrated demo, payment terms, lifecycles, plugins and a simulation.

The command line is an optional extra (``pip install 'o2c[cli]'``): it needs click and rich,
which the library itself does not. :func:`main` checks for them first and says how to install
them instead of failing with an import error.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["INSTALL_HINT", "main"]

INSTALL_HINT = (
    "the o2c command needs the 'cli' extra (click and rich); install it with:\n"
    "    pip install 'o2c[cli]'"
)


def _missing_requirements() -> list[str]:
    return [name for name in ("click", "rich") if importlib.util.find_spec(name) is None]


def main(argv: list[str] | None = None) -> None:
    """Run the ``o2c`` command with ``argv`` (default: the process arguments) and exit.

    The exit status is 0 on success, 1 when the domain or the services refused, 2 for a usage
    or configuration mistake and 3 when a plugin failed.
    """
    missing = _missing_requirements()
    if missing:
        sys.stderr.write(f"o2c: {', '.join(missing)} not installed; {INSTALL_HINT}\n")
        raise SystemExit(2)
    from o2c.cli.app import cli  # noqa: PLC0415  (only once click and rich are known to be there)

    cli.main(args=argv, prog_name="o2c")
