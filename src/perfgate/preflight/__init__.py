"""Preflight: the memo's pre-run prerequisites, checked with evidence before any load.

``run_preflight(plan, ...)`` returns a ``PreflightReport`` (``render`` for the rich
checklist, ``to_dict`` for ``--json`` and the store's meta ``preflight``); a red item
means exit 5. The plan's ``preflight``/``vendor`` sections are in ``spec``.
"""

from perfgate.preflight.spec import FlagsCheckSpec, PreflightSpec, VendorKeySpec, VendorSpec

__all__ = ["FlagsCheckSpec", "PreflightSpec", "VendorKeySpec", "VendorSpec"]
