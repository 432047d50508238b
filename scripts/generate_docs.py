"""Write the documentation pages that are generated from code, or check that they are current.

Without arguments it rewrites the pages; with ``--check`` it writes nothing and exits 1 when a
page differs from what the code says.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from o2c.domain.lifecycles import markdown_page

DOCS = Path(__file__).resolve().parents[1] / "docs"
GENERATED: dict[str, Callable[[], str]] = {"lifecycles.md": markdown_page}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, render in GENERATED.items():
        path = DOCS / name
        wanted = render()
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == wanted:
            continue
        if args.check:
            stale.append(name)
        else:
            path.write_text(wanted, encoding="utf-8")
            print(f"wrote docs/{name}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python scripts/generate_docs.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
