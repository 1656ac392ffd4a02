"""Deliverables rebuilt from a run's store: ``summary.json``, ``report.html``, ``junit.xml``
(and ``report.pdf``), by :func:`perfgate.report.build.write_deliverables`.

Pure models (no rendering): :mod:`.scan` (one pass over the windows), :mod:`.facts`
(telemetry and cost per plateau), :mod:`.table`, :mod:`.hotspots` (+ :mod:`.evidence`,
:mod:`.owners`, :mod:`.limits`), :mod:`.fit` and :mod:`.capacity`, :mod:`.goforward`,
:mod:`.verdict`, assembled by :mod:`.model`. Rendering: :mod:`.render` (Jinja2,
``templates/``), :mod:`.junit`, :mod:`.pdf`; the chart layer shared with the live
dashboard is :mod:`.charts` (+ ``assets/charts.js``). :mod:`.soak` writes perf-7a.
Nothing is imported here: ``perfgate.plan.models`` imports :mod:`.spec`.
"""
