"""Typed exit codes, the public contract of every command (see DESIGN.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    PASS = 0
    FAIL = 1  # an SLO red
    ABORTED = 2  # a trigger, the cost cap or the perf lead
    INVALID = 3  # the generator could not hold the planned load
    BAD_INPUT = 4  # bad plan or usage
    PREFLIGHT_RED = 5
    INTERRUPTED = 130


VERDICT_EXIT = {
    "PASS": ExitCode.PASS,
    "FAIL": ExitCode.FAIL,
    "ABORTED": ExitCode.ABORTED,
    "INVALID": ExitCode.INVALID,
    "INTERRUPTED": ExitCode.INTERRUPTED,
    "INCOMPLETE": ExitCode.INTERRUPTED,
}
