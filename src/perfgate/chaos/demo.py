"""Where ``perfgate demo`` puts the AI egress so the chaos probe has something real to hit.

As root with ``ip`` and ``iptables``: llmsim runs inside a fresh network namespace on
a veth pair (10.203.X.2, ``perfgate.chaos.netns``), studyhall's provider base URL
points there, and the plan's fault becomes an ``iptables`` fault on that pair. Else:
llmsim on loopback behind perfgate's lossy proxy (``proxy`` fault). ``close()``
removes the namespace (after the services are stopped); it is safe to call twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from perfgate.chaos.fault import ChaosError
from perfgate.chaos.netns import NetnsLink, netns_problem
from perfgate.chaos.spec import ChaosSpec, FaultSpec, IptablesSpec, ProxySpec
from perfgate.plan.models import Plan

__all__ = ["DemoEgress", "demo_egress"]


@dataclass
class DemoEgress:
    llm_host: str
    llm_port: int
    exec_prefix: list[str] = field(default_factory=list)
    proxy_port: int | None = None
    link: NetnsLink | None = None
    note: str = ""

    @property
    def llm_url(self) -> str:
        return f"http://{self.llm_host}:{self.llm_port}"

    @property
    def provider_url(self) -> str:
        """What studyhall calls (the proxy when there is one)."""
        if self.proxy_port is not None:
            return f"http://127.0.0.1:{self.proxy_port}/v1"
        return f"{self.llm_url}/v1"

    def fault(self, f: FaultSpec) -> FaultSpec:
        """The plan's AI-egress fault, re-aimed at this egress."""
        base = {k: None for k in ("iptables", "toxiproxy", "proxy", "command", "http")}
        egress = f"{self.llm_host}:{self.llm_port}"
        if self.link is not None:
            return f.model_copy(update={**base, "kind": "iptables", "egress": egress,
                                        "iptables": IptablesSpec(netns=self.link.name,
                                                                 host_if=self.link.host_if,
                                                                 ns_if=self.link.ns_if)})
        return f.model_copy(update={**base, "kind": "proxy", "egress": egress,
                                    "proxy": ProxySpec(listen=f"127.0.0.1:{self.proxy_port}")})

    def plan(self, plan: Plan) -> Plan:
        """``plan`` with its loss faults aimed here and the namespace host allowed."""
        chaos = plan.chaos
        if chaos is not None:
            faults = [self.fault(f) if f.kind in ("iptables", "toxiproxy", "proxy") else f
                      for f in chaos.faults]
            plan = plan.model_copy(update={"chaos": ChaosSpec(faults=faults)})
        if self.link is not None and self.llm_host not in plan.target.allowed_hosts:
            target = plan.target.model_copy(update={
                "allowed_hosts": [*plan.target.allowed_hosts, self.llm_host]})
            plan = plan.model_copy(update={"target": target})
        return plan

    def close(self) -> None:
        if self.link is not None:
            self.link.destroy()


def demo_egress(llm_port: int, proxy_port: int) -> DemoEgress:
    if netns_problem() is None:
        try:
            link = NetnsLink.create("pgdemo")
        except ChaosError as exc:
            note = f"no network namespace ({exc}): llmsim on loopback behind perfgate's proxy"
        else:
            return DemoEgress(link.ns_ip, llm_port, link.exec_prefix(), link=link,
                              note=f"llmsim in network namespace {link.name} ({link.ns_ip}); "
                                   "chaos: iptables packet loss on its veth pair")
    else:
        note = (f"no network namespace ({netns_problem()}): llmsim on loopback behind "
                "perfgate's lossy proxy")
    return DemoEgress("127.0.0.1", llm_port, proxy_port=proxy_port, note=note)
