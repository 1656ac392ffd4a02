"""One capture of each kind: take it, save its files, say what happened.

Every runner returns a :class:`CaptureResult` and never raises for the target's or the
tool's failures (a missing py-spy, a refused connection, a timeout): those are results
with ``ok=False`` and the reason, which the hook records as an event. ``${ENV}``
references are expanded here, from the environment given, and the values are returned
in ``secrets`` so that nothing stored repeats them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import aiohttp
import psutil

from perfgate.capture.spec import CaptureSpec

__all__ = ["CaptureEnv", "CaptureResult", "MissingEnv", "PgConnection", "executable",
           "expand", "pg_read", "pg_reset", "run_command", "run_http", "run_pyspy",
           "target_pid"]

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_BODY = 50 * 1024 * 1024


class MissingEnv(KeyError):
    def __str__(self) -> str:
        return f"environment variable {self.args[0]} is not set"


class PgConnection(Protocol):
    async def execute(self, query: str) -> Any: ...
    async def fetch(self, query: str, *args: Any) -> list[Any]: ...
    async def close(self) -> None: ...


async def _asyncpg_connect(dsn: str) -> PgConnection:
    import asyncpg  # type: ignore[import-untyped]

    conn: PgConnection = await asyncpg.connect(dsn, timeout=10)
    return conn


@dataclass
class CaptureEnv:
    run_dir: Path
    base_url: str
    env: Mapping[str, str]
    pg_connect: Callable[[str], Awaitable[PgConnection]] = _asyncpg_connect
    secrets: set[str] = field(default_factory=set)

    def expand(self, text: str) -> str:
        value = expand(text, self.env)
        self.secrets.update(self.env[m] for m in _ENV_REF.findall(text) if self.env[m])
        return value


@dataclass(frozen=True)
class CaptureResult:
    ok: bool
    files: list[str] = field(default_factory=list)  # relative to the run directory
    reason: str = ""
    skipped: bool = False
    data: dict[str, Any] = field(default_factory=dict)


def expand(text: str, env: Mapping[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        if match.group(1) not in env:
            raise MissingEnv(match.group(1))
        return env[match.group(1)]

    return _ENV_REF.sub(sub, text)


def _rel(env: CaptureEnv, path: Path) -> str:
    return str(path.relative_to(env.run_dir))


def _ext(content_type: str) -> str:
    if "json" in content_type:
        return ".json"
    if content_type.startswith("text/") or "openmetrics" in content_type:
        return ".txt"
    return ".bin"


async def run_http(spec: CaptureSpec, env: CaptureEnv, out: Path) -> CaptureResult:
    """``out`` is the file name without its extension (added from the content type)."""
    assert spec.url is not None
    url = urljoin(env.base_url.rstrip("/") + "/", env.expand(spec.url).lstrip("/")) \
        if not urlsplit(spec.url).scheme else env.expand(spec.url)
    headers = {k: env.expand(v) for k, v in spec.headers.items()}
    timeout = aiohttp.ClientTimeout(total=spec.timeout)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.request(spec.method, url, headers=headers) as resp:
            body = await resp.content.read(MAX_BODY)
            ctype = resp.headers.get("Content-Type", "")
            status = resp.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return CaptureResult(False, reason=f"{spec.method} {spec.url}: "
                                           f"{type(exc).__name__}: {exc}")
    path = out.with_name(out.name + _ext(ctype))
    path.write_bytes(body)
    ok = 200 <= status < 300
    return CaptureResult(ok, [_rel(env, path)], "" if ok else f"HTTP {status}",
                         data={"status": status, "bytes": len(body)})


async def run_command(spec: CaptureSpec, env: CaptureEnv, out: Path,
                      plateau: str) -> CaptureResult:
    path = out.with_name(out.name + ".txt")
    argv = [env.expand(a).format(plateau=plateau, out=str(path), run_dir=str(env.run_dir))
            for a in spec.argv]
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    except OSError as exc:
        return CaptureResult(False, reason=f"{spec.argv[0]}: {exc.strerror or exc}")
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), spec.timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return CaptureResult(False, reason=f"{spec.argv[0]} timed out after {spec.timeout:g} s")
    if not path.exists() or output:
        path.write_bytes(output)
    ok = proc.returncode == 0
    return CaptureResult(ok, [_rel(env, path)], "" if ok else f"exit code {proc.returncode}",
                         data={"returncode": proc.returncode})


def executable(name: str) -> str:
    """``name`` on PATH, else beside the running Python (a virtualenv's bin/ that is not
    on PATH, as under ``.venv/bin/perfgate``), else ``name`` itself (fails when run)."""
    found = shutil.which(name)
    if found:
        return found
    local = Path(sys.executable).parent / name
    return str(local) if local.is_file() and os.access(local, os.X_OK) else name


def target_pid(spec: CaptureSpec, env: CaptureEnv) -> int:
    """The process to profile (see :mod:`perfgate.capture.spec`); ValueError if none."""
    if spec.pid is not None:
        return spec.pid
    if spec.pid_file:
        return int(Path(env.expand(spec.pid_file)).read_text().strip())
    if spec.pid_env:
        if spec.pid_env not in env.env:
            raise MissingEnv(spec.pid_env)
        return int(env.env[spec.pid_env])
    port = urlsplit(env.base_url).port
    if port is None:
        raise ValueError("no pid given and the target URL has no port to look it up by")
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port \
                and conn.pid:
            return int(conn.pid)
    raise ValueError(f"no process of this user listens on port {port}: give pid/pid_file")


async def run_pyspy(spec: CaptureSpec, env: CaptureEnv, out: Path,
                    seconds: float) -> CaptureResult:
    try:
        pid = target_pid(spec, env)
    except (ValueError, OSError, psutil.Error) as exc:
        return CaptureResult(False, reason=f"target process: {exc}")
    raw = out.with_name(out.name + ".collapsed.txt")
    tool = executable(spec.executable)
    if shutil.which(tool) is None:
        return CaptureResult(False, reason=f"{spec.executable}: not installed (pip install "
                                           "py-spy)")
    argv = [*_nice(), tool, "record", "--pid", str(pid), "--duration",
            str(max(1, round(seconds))), "--rate", str(spec.rate), "--format", "raw",
            "--output", str(raw), "--nonblocking", *(["--gil"] if spec.gil else [])]
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    except OSError as exc:
        why = "not installed (pip install py-spy)" if isinstance(exc, FileNotFoundError) \
            else str(exc)
        return CaptureResult(False, reason=f"{spec.executable}: {why}")
    try:
        _, err = await asyncio.wait_for(proc.communicate(), seconds + 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return CaptureResult(False, reason=f"py-spy did not finish within {seconds + 30:g} s")
    if proc.returncode != 0 or not raw.exists():
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return CaptureResult(False, reason=f"py-spy exit code {proc.returncode}: {tail[0]}")
    svg = out.with_name(out.name + ".svg")
    samples, why = await _render(raw, svg, f"{spec.name} pid {pid} ({seconds:.0f} s)")
    files = [_rel(env, raw)] + ([_rel(env, svg)] if svg.exists() else [])
    data: dict[str, Any] = {"pid": pid, "seconds": round(seconds, 3), "samples": samples}
    if why:
        data["svg"] = why
    return CaptureResult(True, files, data=data)


def _nice() -> list[str]:
    """Run helpers at a lower priority than the load generator (``nice -n 10``)."""
    tool = shutil.which("nice")
    return [tool, "-n", "10"] if tool else []


async def _render(raw: Path, svg: Path, title: str) -> tuple[int | None, str]:
    """The flamegraph, drawn by a niced child process: parsing and drawing a profile of
    thousands of stacks would hold the generator's event loop for a second."""
    proc = await asyncio.create_subprocess_exec(
        *_nice(), sys.executable, "-m", "perfgate.capture.flamegraph", str(raw), str(svg),
        title, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None, "flamegraph not drawn: timed out"
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return None, f"flamegraph not drawn: {tail[0]}"
    return int(json.loads(out.decode().strip().splitlines()[-1])["samples"]), ""


PG_READ = """
SELECT query, calls, total_exec_time, mean_exec_time, rows
FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $1
"""


async def pg_reset(spec: CaptureSpec, env: CaptureEnv) -> CaptureResult:
    assert spec.dsn is not None
    try:
        conn = await env.pg_connect(env.expand(spec.dsn))
        try:
            await conn.execute("SELECT pg_stat_statements_reset()")
        finally:
            await conn.close()
    except MissingEnv:
        raise
    except Exception as exc:  # asyncpg's errors, refused connections, a missing extension
        return CaptureResult(False, reason=f"pg_stat_statements reset: {type(exc).__name__}: "
                                           f"{exc}")
    return CaptureResult(True, data={"reset": True})


async def pg_read(spec: CaptureSpec, env: CaptureEnv, out: Path) -> CaptureResult:
    assert spec.dsn is not None
    try:
        conn = await env.pg_connect(env.expand(spec.dsn))
        try:
            rows = await conn.fetch(PG_READ, spec.top)
        finally:
            await conn.close()
    except MissingEnv:
        raise
    except Exception as exc:
        return CaptureResult(False, reason=f"pg_stat_statements read: {type(exc).__name__}: "
                                           f"{exc}")
    statements = [{"query": r["query"], "calls": int(r["calls"]),
                   "total_ms": float(r["total_exec_time"]), "mean_ms": float(r["mean_exec_time"]),
                   "rows": int(r["rows"])} for r in rows]
    path = out.with_name(out.name + ".json")
    path.write_text(json.dumps({"statements": statements}, indent=1), encoding="utf-8")
    return CaptureResult(True, [_rel(env, path)], data={"statements": len(statements)})
