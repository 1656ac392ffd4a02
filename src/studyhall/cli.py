"""``studyhall seed`` and ``studyhall serve``.

    studyhall seed --database-url URL [--students 10000 --courses 2000 --seed 42]
    studyhall serve [--host 127.0.0.1 --port 8000 --database-url URL --seed-if-empty ...]

``serve`` prints ``studyhall listening on http://HOST:PORT`` once it accepts connections
(with ``--port 0`` the real port). Secrets come from the environment only (see
``studyhall.settings``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

import uvicorn

from studyhall.server import Server, bound_url
from studyhall.settings import Settings

DEFAULT_DB = "sqlite+aiosqlite:///studyhall.db"


def _seed_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--students", type=int, default=10_000)
    p.add_argument("--courses", type=int, default=2_000)
    p.add_argument("--seed", type=int, default=42)


def _fault(value: str) -> tuple[str, Any]:
    name, sep, raw = value.partition("=")
    if not sep:
        return name, True
    return name, json.loads(raw) if raw not in ("on", "off") else raw == "on"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studyhall", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    seed = sub.add_parser("seed", help="create the tables and load synthetic data")
    seed.add_argument("--database-url", default=None, help=f"default {DEFAULT_DB}")
    seed.add_argument("--db-schema", default=None, help="PostgreSQL schema (search_path)")
    _seed_args(seed)

    serve = sub.add_parser("serve", help="serve the API with uvicorn (one worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--database-url", default=None, help=f"default {DEFAULT_DB}")
    serve.add_argument("--db-schema", default=None)
    serve.add_argument("--redis-url", default=None, help="Redis Streams queue (else in-process)")
    serve.add_argument("--provider-base-url", default=None, help="OpenAI-compatible base URL")
    serve.add_argument("--model", default=None)
    serve.add_argument("--pool-size", type=int, default=None)
    serve.add_argument("--queue-drain-rate", type=float, default=None)
    serve.add_argument("--provider-timeout", type=float, default=None, dest="provider_timeout_s")
    serve.add_argument("--billing-ledger", default=None, dest="billing_ledger_path")
    serve.add_argument("--outbound-email-url", default=None)
    serve.add_argument("--notification-url", default=None)
    serve.add_argument("--webhook-url", default=None)
    serve.add_argument("--kill-switch-mode", choices=["fallback", "503"], default=None)
    serve.add_argument("--fault", action="append", type=_fault, default=[],
                       metavar="NAME[=VALUE]", help="start with a fault toggle on (repeatable)")
    serve.add_argument("--tracemalloc", action="store_true", default=None)
    serve.add_argument("--seed-if-empty", action="store_true",
                       help="seed synthetic data first when the database has no students")
    _seed_args(serve)
    serve.add_argument("--log-level", default="warning")
    return parser


async def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from studyhall.app import create_app
    from studyhall.seed import seed_database

    if args.seed_if_empty:
        report = await seed_database(
            settings.database_url, n_students=args.students, n_courses=args.courses,
            seed=args.seed, db_schema=settings.db_schema, only_if_empty=True,
        )
        if report is not None:
            print(f"studyhall seeded {report.students} students, {report.courses} courses "
                  f"in {report.seconds}s", flush=True)
    app = create_app(settings)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                            access_log=False, lifespan="on", timeout_graceful_shutdown=5)
    server = Server(config)
    server.install_signal_handlers(asyncio.get_running_loop())
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            return 1
        await asyncio.sleep(0.02)
    print(f"studyhall listening on {bound_url(server, args.host)}", flush=True)
    await task
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    if args.command == "seed":
        from studyhall.seed import seed_database

        url = args.database_url or Settings.from_env().database_url
        try:
            report = asyncio.run(seed_database(
                url, n_students=args.students, n_courses=args.courses, seed=args.seed,
                db_schema=args.db_schema,
            ))
        except (ValueError, OSError) as exc:
            print(f"studyhall seed: {exc}", file=sys.stderr)
            return 4
        assert report is not None
        print(f"seeded {report.students} students, {report.courses} courses, "
              f"{report.enrollments} enrollments in {report.seconds}s")
        return 0
    overrides = {
        k: getattr(args, k)
        for k in ("database_url", "db_schema", "redis_url", "provider_base_url", "model",
                  "pool_size", "queue_drain_rate", "provider_timeout_s", "billing_ledger_path",
                  "outbound_email_url", "notification_url", "webhook_url", "kill_switch_mode",
                  "tracemalloc")
    }
    if args.fault:
        overrides["faults"] = dict(args.fault)
    try:
        settings = Settings.from_env(**overrides)
    except ValueError as exc:
        print(f"studyhall serve: bad settings: {exc}", file=sys.stderr)
        return 4
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_serve(args, settings))
    return 130


if __name__ == "__main__":
    sys.exit(main())
