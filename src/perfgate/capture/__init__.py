"""Captures during a run (plan section ``captures``): profiles, traces and snapshots of the
target at chosen points of each plateau, saved under ``runs/<id>/captures/``.

The running part is :class:`perfgate.capture.hook.CaptureHook`; the plan's declarative
part is :mod:`perfgate.capture.spec`. A capture that fails is an event, never a failed run.
"""
