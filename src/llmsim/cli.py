"""The ``llmsim`` command (also ``python -m llmsim``).

    llmsim serve [--host 127.0.0.1] [--port 8100] [--config FILE.json|.yaml]
                 [--latency-scale F] [--seed N] [--ledger FILE.jsonl]
                 [--log-level warning]

Once the socket listens it prints exactly one line to stdout,
``llmsim listening on http://HOST:PORT`` (the bound port, so ``--port 0`` works),
which is what a supervising process waits for. ``LLMSIM_ADMIN_TOKEN`` in the
environment overrides the configured admin token (secrets stay out of files and
argv). Exit codes: 0 after a clean shutdown, 2 on bad usage or a bad config file,
1 when the server cannot start.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from llmsim import __version__
from llmsim.app import create_app
from llmsim.config import SimConfig, load_config
from llmsim.server import serve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmsim", description="OpenAI-compatible provider simulator."
    )
    parser.add_argument("--version", action="version", version=f"llmsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the simulator over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100, help="0 picks a free port")
    serve.add_argument("--config", type=Path, help="SimConfig as JSON or YAML")
    serve.add_argument(
        "--latency-scale", type=float, help="multiply every modelled delay (overrides config)"
    )
    serve.add_argument("--seed", type=int, help="simulator seed (overrides config)")
    serve.add_argument("--ledger", type=Path, help="append billed calls as JSON lines here")
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
    )
    return parser


def build_config(args: argparse.Namespace) -> SimConfig:
    config = load_config(args.config) if args.config else SimConfig()
    updates: dict[str, object] = {}
    if args.latency_scale is not None:
        if args.latency_scale < 0:
            raise ValueError("--latency-scale must be >= 0")
        updates["latency_scale"] = args.latency_scale
    if args.seed is not None:
        updates["seed"] = args.seed
    if args.ledger is not None:
        updates["ledger_path"] = args.ledger
    token = os.environ.get("LLMSIM_ADMIN_TOKEN")
    if token:
        updates["admin_token"] = token
    return config.model_copy(update=updates)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = build_config(args)
    except (OSError, ValueError) as exc:
        print(f"llmsim: {exc}", file=sys.stderr)
        return 2

    def ready(host: str, port: int) -> None:
        print(f"llmsim listening on http://{host}:{port}", flush=True)

    try:
        started = serve(
            create_app(config), args.host, args.port, on_ready=ready, log_level=args.log_level
        )
    except KeyboardInterrupt:
        return 130
    return 0 if started else 1
