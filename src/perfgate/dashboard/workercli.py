"""``python -m perfgate.dashboard.workercli``: the child that does the dashboard's heavy
reads (see :mod:`perfgate.dashboard.worker`); JSON on stdout. Not imported by the package,
so running it as ``__main__`` imports it once."""

from __future__ import annotations

import sys
from pathlib import Path

from perfgate.dashboard.tail import Cursor
from perfgate.dashboard.worker import catch_up_json, figures_json


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "catch-up":
        rows, cursor = catch_up_json(Path(argv[1]), Cursor.parse(argv[2]))
        sys.stdout.write(f"{cursor.encode()}\n{rows}")
    elif len(argv) == 2 and argv[0] == "figures":
        sys.stdout.write(figures_json(Path(argv[1])))
    else:
        print("usage: python -m perfgate.dashboard.workercli catch-up RUN_DIR CURSOR | "
              "figures RUN_DIR", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
