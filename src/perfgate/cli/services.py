"""Child services for `perfgate demo`: start, wait until ready, always clean up.

Each child runs in its own session (process group) so that cleanup reaches its
children too; ``ServiceGroup`` is a context manager whose exit stops every child
(SIGTERM, then SIGKILL after a grace), on normal end, exceptions and Ctrl-C alike.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType


class ServiceError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    name: str
    argv: Sequence[str]
    health_url: str
    log_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None


class ServiceGroup:
    def __init__(self, startup_timeout_s: float = 60.0) -> None:
        self.services: list[Service] = []
        self.startup_timeout_s = startup_timeout_s

    def start(self, service: Service) -> Service:
        service.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = service.log_path.open("ab")
        env = {**os.environ, **service.env}
        service.proc = subprocess.Popen(
            list(service.argv), stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, stdin=subprocess.DEVNULL)
        log.close()
        self.services.append(service)
        self._wait_healthy(service)
        return service

    def _wait_healthy(self, service: Service) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        assert service.proc is not None
        while time.monotonic() < deadline:
            if service.proc.poll() is not None:
                raise ServiceError(f"{service.name} exited with {service.proc.returncode} while "
                                   f"starting; see {service.log_path}")
            try:
                with urllib.request.urlopen(service.health_url, timeout=1) as resp:
                    if resp.status < 500:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise ServiceError(f"{service.name} not ready after {self.startup_timeout_s:.0f} s; "
                           f"see {service.log_path}")

    def stop_all(self, grace_s: float = 5.0) -> None:
        for service in reversed(self.services):
            proc = service.proc
            if proc is None or proc.poll() is not None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + grace_s
        for service in reversed(self.services):
            proc = service.proc
            if proc is None:
                continue
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)

    def __enter__(self) -> ServiceGroup:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop_all()
