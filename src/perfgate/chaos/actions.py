"""Faults that are a pair of actions: ``command`` (argv) and ``http`` (a request).

``command``: ``inject`` and ``revert`` argv, run without a shell, ``{run_id}``,
``{fault}`` and ``{loss}`` substituted (e.g. ``kubectl apply -f chaos-{run_id}.yaml``
for a Chaos Mesh NetworkChaos). The revert is verified by the ``verify`` argv exiting
0 when given, else by the revert's own exit status (weaker: say so in the plan).

``http``: ``inject`` and ``revert`` requests (e.g. llmsim's
``POST /admin/projects/proj-primary/quota-exhausted`` with ``{"on": true}`` then
``{"on": false}``); ``${ENV}`` in URLs and headers is expanded when the call is made
(records keep the templates). Verified when the revert answers 2xx and its JSON holds
every ``expect`` key with the expected value.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping
from typing import Any

from perfgate.chaos.fault import ChaosError, FaultEnv, Outcome
from perfgate.chaos.httpcall import call_json
from perfgate.chaos.spec import FaultSpec
from perfgate.telemetry.env import MissingEnv, expand

__all__ = ["CommandFault", "HttpFault"]


def _fill(argv: list[str], values: Mapping[str, str]) -> list[str]:
    """Substitute {run_id}/{fault}/{loss}; a record's argv is already filled (no values)."""
    return [a.format_map(dict(values)) for a in argv] if values else list(argv)


class CommandFault:
    kind = "command"

    def __init__(self, name: str, inject: list[str], revert: list[str],
                 verify: list[str] | None, timeout_s: float, values: Mapping[str, str]) -> None:
        self.name = name
        self.inject_argv, self.revert_argv = _fill(inject, values), _fill(revert, values)
        self.verify_argv = _fill(verify, values) if verify else None
        self.timeout_s = timeout_s
        self.lock = threading.Lock()
        self._last_revert_rc: int | None = None

    @classmethod
    def from_spec(cls, spec: FaultSpec, fenv: FaultEnv) -> CommandFault:
        assert spec.command is not None
        c = spec.command
        return cls(spec.name, c.inject, c.revert, c.verify, c.timeout,
                   {"run_id": fenv.run_id, "fault": spec.name, "loss": f"{spec.loss:g}"})

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> CommandFault:
        return cls(rec["name"], rec["inject"], rec["revert"], rec.get("verify"),
                   rec.get("timeout_s", 30.0), {})

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout_s,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ChaosError(f"{argv[0]}: {exc}") from exc

    def prepare(self) -> None:
        return None

    def apply(self) -> dict[str, Any]:
        with self.lock:
            got = self._run(self.inject_argv)
            if got.returncode != 0:
                raise ChaosError(f"inject exited {got.returncode}: {got.stderr.strip()[:300]}")
            return {"argv": self.inject_argv, "stdout": got.stdout.strip()[:300]}

    def revert(self) -> dict[str, Any]:
        with self.lock:
            got = self._run(self.revert_argv)
            self._last_revert_rc = got.returncode
            if got.returncode != 0:
                raise ChaosError(f"revert exited {got.returncode}: {got.stderr.strip()[:300]}")
            return {"argv": self.revert_argv}

    def verify(self) -> Outcome:
        if self.verify_argv is None:
            return Outcome(self._last_revert_rc == 0,
                           {"note": "no verify argv: the revert's exit status stands in",
                            "revert_exit": self._last_revert_rc})
        try:
            got = self._run(self.verify_argv)
        except ChaosError as exc:
            return Outcome(False, {"error": str(exc)})
        return Outcome(got.returncode == 0, {"verify_exit": got.returncode,
                                             "output": got.stdout.strip()[:300]})

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "inject": self.inject_argv,
                "revert": self.revert_argv, "verify": self.verify_argv,
                "timeout_s": self.timeout_s}

    def close(self) -> None:
        return None


class HttpFault:
    kind = "http"

    def __init__(self, name: str, inject: dict[str, Any], revert: dict[str, Any],
                 expect: dict[str, Any], env: Mapping[str, str], allowed: tuple[str, ...]
                 ) -> None:
        self.name, self.inject_call, self.revert_call, self.expect = name, inject, revert, expect
        self.env, self.allowed = env, allowed
        self.lock = threading.Lock()
        self._answer: Any = None
        self._status: int | None = None

    @classmethod
    def from_spec(cls, spec: FaultSpec, fenv: FaultEnv) -> HttpFault:
        assert spec.http is not None
        h = spec.http
        return cls(spec.name, h.inject.model_dump(), h.revert.model_dump(), dict(h.expect),
                   fenv.env, fenv.allowed_hosts)

    @classmethod
    def from_record(cls, rec: dict[str, Any], env: Mapping[str, str],
                    allowed: tuple[str, ...]) -> HttpFault:
        return cls(rec["name"], rec["inject"], rec["revert"], rec.get("expect", {}), env, allowed)

    def _call(self, call: dict[str, Any]) -> tuple[int, Any]:
        try:
            url = expand(call["url"], self.env)
            headers = {k: expand(v, self.env) for k, v in call.get("headers", {}).items()}
        except MissingEnv as exc:
            raise ChaosError(str(exc)) from exc
        return call_json(call.get("method", "POST"), url, body=call.get("body"),
                         headers=headers, allowed=self.allowed)

    def prepare(self) -> None:
        for call in (self.inject_call, self.revert_call):
            try:
                expand(call["url"], self.env)
                for v in call.get("headers", {}).values():
                    expand(v, self.env)
            except MissingEnv as exc:
                raise ChaosError(str(exc)) from exc

    def apply(self) -> dict[str, Any]:
        with self.lock:
            status, _ = self._call(self.inject_call)
            if not 200 <= status < 300:
                raise ChaosError(f"inject {self.inject_call['url']}: HTTP {status}")
            return {"url": self.inject_call["url"], "status": status}

    def revert(self) -> dict[str, Any]:
        with self.lock:
            self._status, self._answer = self._call(self.revert_call)
            if not 200 <= self._status < 300:
                raise ChaosError(f"revert {self.revert_call['url']}: HTTP {self._status}")
            return {"url": self.revert_call["url"], "status": self._status}

    def verify(self) -> Outcome:
        answer = self._answer if isinstance(self._answer, dict) else {}
        wrong = {k: answer.get(k) for k, v in self.expect.items() if answer.get(k) != v}
        ok = self._status is not None and 200 <= self._status < 300 and not wrong
        return Outcome(ok, {"revert_status": self._status, "unexpected": wrong})

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "inject": self.inject_call,
                "revert": self.revert_call, "expect": self.expect}

    def close(self) -> None:
        return None
