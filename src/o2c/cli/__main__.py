"""``python -m o2c.cli``: the ``o2c`` command without its console script."""

from o2c.cli import main

if __name__ == "__main__":
    main()
