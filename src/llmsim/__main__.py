"""``python -m llmsim`` is the ``llmsim`` console script."""

from llmsim.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
