"""Deliverables rebuilt from a run's store: summary.json today; HTML, JUnit later."""
