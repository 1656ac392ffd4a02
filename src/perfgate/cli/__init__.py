"""The ``perfgate`` command line (typer). The only place that exits the process."""
