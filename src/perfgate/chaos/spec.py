"""The plan's ``chaos`` section: faults injected at a plateau, always reverted.

Declarative only (the running side is ``perfgate.chaos.hook.ChaosHook``)::

    chaos:
      faults:
        - name: ai_egress_loss
          kind: iptables            # iptables | toxiproxy | proxy | command | http
          plateau: p4
          at: middle                # middle | a duration into the plateau | NN%
          duration: 1m              # x --time-scale, like the plateau
          loss: 0.2
          egress: 10.203.0.2:8100   # the AI egress (proxy: its upstream)
          recovery: 60s             # breaker closed within this after the fault (real time)
          iptables: {netns: perfgate-ai, host_if: pgai0, ns_if: pgai1}

Kinds: ``iptables`` drops ``loss`` of the packets arriving at both ends of the veth
pair into the network namespace that holds the AI egress (root only); ``toxiproxy``
adds timeout and latency toxics through Toxiproxy's HTTP API; ``proxy`` is perfgate's
own userspace TCP proxy between the target and the egress (for non-root users; see
``perfgate.chaos.proxy`` for how it approximates loss); ``command`` runs inject/revert
argv (e.g. ``kubectl apply``/``delete`` of a Chaos Mesh NetworkChaos); ``http`` makes
an inject/revert HTTP call (e.g. llmsim's quota-exhaustion drill for the failover
check). ``purpose`` says which resilience verdict judges the fault's window.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfgate.plan.durations import Duration, parse_duration

__all__ = ["ChaosSpec", "CommandSpec", "FaultSpec", "HttpCallSpec", "IptablesSpec",
           "ProxySpec", "ToxiproxySpec", "host_port"]

_NAME = r"^[a-z][a-z0-9_]*$"
_IFACE = r"^[A-Za-z0-9_.-]{1,15}$"


class _Strict(BaseModel):
    # Same rules as perfgate.plan.models.StrictModel (not imported: that module imports us).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def host_port(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8100"`` / ``"[::1]:8100"`` -> (host, port); ValueError otherwise."""
    m = re.match(r"^\[?([^\[\]]+?)\]?:(\d{1,5})$", text.strip())
    if not m or not 0 < int(m.group(2)) < 65536:
        raise ValueError(f"{text!r} is not host:port")
    return m.group(1), int(m.group(2))


class IptablesSpec(_Strict):
    netns: str = Field(pattern=r"^[A-Za-z0-9_.-]+$",
                       description="Network namespace holding the AI egress")
    host_if: str = Field(pattern=_IFACE, description="The veth end on the host side")
    ns_if: str = Field(pattern=_IFACE, description="The veth end inside the namespace")


class ToxiproxySpec(_Strict):
    api: str = Field(default="http://127.0.0.1:8474", description="Toxiproxy's HTTP API")
    proxy: str = Field(description="The Toxiproxy proxy in front of the AI egress")
    latency_ms: int = Field(default=200, ge=0, description="Retransmission delay stand-in")
    jitter_ms: int = Field(default=100, ge=0)


class ProxySpec(_Strict):
    listen: str = Field(description="host:port perfgate listens on; the target's provider "
                                    "base URL points here for the whole run")
    seed: int = 0

    @model_validator(mode="after")
    def _addr(self) -> ProxySpec:
        host_port(self.listen)
        return self


class CommandSpec(_Strict):
    inject: list[str] = Field(min_length=1, description="argv; {run_id} {fault} {loss} ok")
    revert: list[str] = Field(min_length=1)
    verify: list[str] | None = Field(default=None,
                                     description="argv exiting 0 once nothing of the fault is left")
    timeout: Duration = Field(default=30.0, gt=0)


class HttpCallSpec(_Strict):
    url: str = Field(description="URL; ${ENV} expanded at run time, never stored")
    method: Literal["GET", "POST", "PUT", "DELETE"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, object] | None = None


class HttpFaultSpec(_Strict):
    inject: HttpCallSpec
    revert: HttpCallSpec
    expect: dict[str, object] = Field(
        default_factory=dict, description="Keys the revert's JSON answer must hold (verify)")


class FaultSpec(_Strict):
    name: str = Field(pattern=_NAME)
    kind: Literal["iptables", "toxiproxy", "proxy", "command", "http"]
    purpose: Literal["breaker", "failover", "other"] = "breaker"
    plateau: str = Field(pattern=r"^p\d+$", description="Plateau id (p0 is the warm-up)")
    at: str = Field(default="middle", description="middle, a duration (8m) or a share (50%)")
    duration: Duration = Field(gt=0, description="How long the fault holds (x time scale)")
    loss: float = Field(default=0.0, ge=0, le=1, description="Share of packets lost")
    egress: str | None = Field(default=None, description="host:port of the AI egress")
    recovery: Duration = Field(default=60.0, gt=0,
                               description="Breaker closed / failover done within (real time)")
    iptables: IptablesSpec | None = None
    toxiproxy: ToxiproxySpec | None = None
    proxy: ProxySpec | None = None
    command: CommandSpec | None = None
    http: HttpFaultSpec | None = None

    @model_validator(mode="after")
    def _kind_settings(self) -> FaultSpec:
        given = {k for k in ("iptables", "toxiproxy", "proxy", "command", "http")
                 if getattr(self, k) is not None}
        if given != {self.kind}:
            raise ValueError(f"a {self.kind} fault needs exactly its own `{self.kind}:` "
                             f"settings (given: {sorted(given) or 'none'})")
        if self.kind in ("iptables", "toxiproxy", "proxy") and not self.loss > 0:
            raise ValueError(f"a {self.kind} fault needs loss > 0 (e.g. 0.2 for 20%)")
        if self.kind == "proxy" and self.egress is None:
            raise ValueError("a proxy fault needs `egress` (its upstream host:port)")
        if self.egress is not None:
            host_port(self.egress)
        self.offset(100.0, 1.0)  # validates `at`
        return self

    def offset(self, plateau_s: float, time_scale: float) -> float:
        """Seconds from the plateau's start to the fault's start (run time)."""
        at = self.at.strip()
        if at == "middle":
            return max(0.0, (plateau_s - self.duration * time_scale) / 2)
        if at.endswith("%"):
            share = float(at[:-1]) / 100
            if not 0 <= share <= 1:
                raise ValueError(f"at: {at} is not within 0%..100%")
            return share * plateau_s
        try:
            return parse_duration(at) * time_scale
        except ValueError as exc:
            raise ValueError(f"at: {at!r}: use middle, a duration (8m) or a share (50%)"
                             ) from exc


class ChaosSpec(_Strict):
    faults: list[FaultSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ChaosSpec:
        names = [f.name for f in self.faults]
        if len(set(names)) != len(names):
            raise ValueError(f"fault names must be unique, got {names}")
        return self
