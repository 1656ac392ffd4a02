"""llmsim: an OpenAI-compatible provider simulator (part of perfgate's reference system).

It serves ``/v1/chat/completions`` (plain and streamed) and ``/v1/models`` in the
exact wire shapes the official ``openai`` SDK parses, with per-project rate limits,
spend limits, a latency model, a price table, a cost ledger and drill controls.

Entry points: :func:`llmsim.app.create_app` (the FastAPI app factory),
:class:`llmsim.config.SimConfig`, :class:`llmsim.server.BackgroundServer` and the
``llmsim`` console script (:func:`llmsim.cli.main`).

Importing this package has no side effects; all state lives in the objects the
app factory creates.
"""

__version__ = "0.1.0"
