"""Loss through Toxiproxy's HTTP API (approximate: Toxiproxy works per connection).

Toxiproxy cannot drop packets; its toxics act on connections. The fault adds two
toxics to the proxy in front of the AI egress, each applied to a ``loss`` share of
connections (``toxicity``):

* ``<fault>_stall``: type ``timeout`` with ``timeout: 0`` on the downstream: answers
  stop flowing until the toxic is removed (the client times out), like a burst of
  loss that retransmits never get through;
* ``<fault>_delay``: type ``latency`` (``latency_ms`` +- ``jitter_ms``) upstream:
  the retransmission delay the rest of a lossy link shows.

Revert deletes both by name (a 404 means already gone); verify lists the proxy's
toxics (``GET /proxies/{proxy}/toxics``) and passes when neither name is left.
"""

from __future__ import annotations

import threading
from typing import Any

from perfgate.chaos.fault import ChaosError, FaultEnv, Outcome
from perfgate.chaos.httpcall import call_json
from perfgate.chaos.spec import FaultSpec

__all__ = ["ToxiproxyFault"]


class ToxiproxyFault:
    kind = "toxiproxy"

    def __init__(self, name: str, api: str, proxy: str, loss: float, latency_ms: int,
                 jitter_ms: int, allowed: tuple[str, ...] = ()) -> None:
        self.name, self.api, self.proxy_name = name, api.rstrip("/"), proxy
        self.loss, self.latency_ms, self.jitter_ms = loss, latency_ms, jitter_ms
        self.allowed = allowed
        self.lock = threading.Lock()
        self.toxics = [f"perfgate_{name}_stall", f"perfgate_{name}_delay"]

    @classmethod
    def from_spec(cls, spec: FaultSpec, fenv: FaultEnv) -> ToxiproxyFault:
        assert spec.toxiproxy is not None
        t = spec.toxiproxy
        return cls(spec.name, t.api, t.proxy, spec.loss, t.latency_ms, t.jitter_ms,
                   fenv.allowed_hosts)

    @classmethod
    def from_record(cls, rec: dict[str, Any], allowed: tuple[str, ...]) -> ToxiproxyFault:
        return cls(rec["name"], rec["api"], rec["proxy"], rec["loss"], 0, 0, allowed)

    def _url(self, path: str) -> str:
        return f"{self.api}/proxies/{self.proxy_name}{path}"

    def prepare(self) -> None:
        status, body = call_json("GET", self._url(""), allowed=self.allowed)
        if status != 200:
            raise ChaosError(f"toxiproxy proxy {self.proxy_name!r}: HTTP {status} {body}")

    def apply(self) -> dict[str, Any]:
        stall, delay = self.toxics
        toxics = [
            {"name": stall, "type": "timeout", "stream": "downstream", "toxicity": self.loss,
             "attributes": {"timeout": 0}},
            {"name": delay, "type": "latency", "stream": "upstream", "toxicity": self.loss,
             "attributes": {"latency": self.latency_ms, "jitter": self.jitter_ms}},
        ]
        with self.lock:
            for toxic in toxics:
                status, body = call_json("POST", self._url("/toxics"), body=toxic,
                                         allowed=self.allowed)
                if status not in (200, 201):
                    raise ChaosError(f"toxiproxy refused toxic {toxic['name']}: HTTP {status} "
                                     f"{body}")
            return {"toxics": toxics}

    def revert(self) -> dict[str, Any]:
        with self.lock:
            deleted = {}
            for name in self.toxics:
                status, body = call_json("DELETE", self._url(f"/toxics/{name}"),
                                         allowed=self.allowed)
                if status not in (200, 204, 404):
                    raise ChaosError(f"toxiproxy DELETE {name}: HTTP {status} {body}")
                deleted[name] = status
            return {"deleted": deleted}

    def verify(self) -> Outcome:
        try:
            status, body = call_json("GET", self._url("/toxics"), allowed=self.allowed)
        except ChaosError as exc:
            return Outcome(False, {"error": str(exc)})
        if status != 200 or not isinstance(body, list):
            return Outcome(False, {"error": f"HTTP {status}: {body}"})
        left = [t.get("name") for t in body if isinstance(t, dict) and t.get("name") in
                self.toxics]
        return Outcome(not left, {"toxics_left": left})

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "api": self.api, "proxy": self.proxy_name,
                "loss": self.loss}

    def close(self) -> None:
        return None
