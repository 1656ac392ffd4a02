"""``python -m perfgate``: the same as the ``perfgate`` command."""

from perfgate.cli.main import main

if __name__ == "__main__":
    main()
